"""Finding the lexicon's concepts and the markers in a message's words.

Every term — "chest", "heart attack", "not breathing", "years ago" — is a sequence of
stems. All matches are kept, overlapping ones too, so "not breathing" is both the
concept it names and, word by word, nothing else: a negation inside a longer term is
part of that term, not a negation of what follows ("he is not breathing").
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.core.safety.words import Word
from bot.core.text import stem

_NUMBER = re.compile(r"^\d+(?:\.\d+)?$")


@dataclass(frozen=True, slots=True)
class Hit:
    name: str  # a concept, or a marker kind ("~negation", "~past", …)
    start: int  # index of its first word
    end: int  # index after its last word
    sentence: int
    segment: int


NUMBER = "#"  # in a term: any number ("took # pills")
YEAR = "#year"  # in a term: a year, 1900–2099 ("in #year")
EXACT = "="  # before a word in a term: that word exactly as typed, not its stem ("=legs")
_TERM_WORD = re.compile(r"#year|#|=?[^\W_]+")
_YEAR = re.compile(r"^(?:19|20)\d\d$")


def term_stems(term: str) -> tuple[str, ...]:
    """A term as the keys it is compared with: stems, "=word" for exact words, "#", "#year"."""
    return tuple(
        w if w.startswith(("#", EXACT)) else stem(w) for w in _TERM_WORD.findall(term.casefold())
    )


def keys(word: Word) -> tuple[str, ...]:
    """What a message word can match: its stem, itself exactly, and a number class."""
    out = [word.stem, EXACT + word.text]
    if _NUMBER.match(word.text):
        out.append(NUMBER)
        if _YEAR.match(word.text):
            out.append(YEAR)
    return tuple(out)


class Terms:
    def __init__(self, named: Mapping[str, Sequence[str]]) -> None:
        """`named`: name → terms (phrases as written in content)."""
        self._by_first: dict[str, list[tuple[tuple[str, ...], str]]] = {}
        for name, terms in named.items():
            for term in terms:
                stems = term_stems(term)
                if stems:
                    self._by_first.setdefault(stems[0], []).append((stems, name))
        for entries in self._by_first.values():
            entries.sort(key=lambda e: -len(e[0]))

    def find(self, words: Sequence[Word]) -> list[Hit]:
        hits: list[Hit] = []
        options = [keys(w) for w in words]
        for i, first in enumerate(options):
            seen: set[str] = set()
            entries = [e for k in first for e in self._by_first.get(k, ())]
            if len(first) > 1 and entries:
                entries.sort(key=lambda e: -len(e[0]))
            for term, name in entries:
                end = i + len(term)
                if name in seen or end > len(words):
                    continue
                if any(term[k] not in options[i + k] for k in range(1, len(term))):
                    continue
                # A term never spans two sentences ("…my chest. Pain in my leg…").
                if words[end - 1].sentence != words[i].sentence:
                    continue
                seen.add(name)  # the longest term of a name at a place is enough
                hits.append(Hit(name, i, end, words[i].sentence, words[i].segment))
        return hits


def minutes(words: Sequence[Word], i: int, units: Mapping[str, float]) -> float | None:
    """A duration that starts at word i ("15 minutes", "an hour", "half an hour"), in minutes."""
    stems = [w.stem for w in words[i : i + 4]]
    if not stems:
        return None
    if stems[:3] == ["half", "an", "hour"]:
        return 30.0
    number: float | None = None
    if _NUMBER.match(stems[0]):
        number = float(stems[0])
    elif stems[0] in _WORD_NUMBERS:
        number = _WORD_NUMBERS[stems[0]]
    if number is None or len(stems) < 2:
        return None
    unit = stems[1]
    if unit in ("or", "to") and len(stems) >= 4:  # "10 or 15 minutes": the smaller one
        unit = stems[3]
    factor = units.get(unit)
    return number * factor if factor is not None else None


_WORD_NUMBERS = {
    "a": 1.0,
    "an": 1.0,
    "one": 1.0,
    "two": 2.0,
    "three": 3.0,
    "four": 4.0,
    "five": 5.0,
    "ten": 10.0,
    "fifteen": 15.0,
    "twenty": 20.0,
    "thirti": 30.0,  # stems, as the words arrive
    "forti": 40.0,
    "sixti": 60.0,
    "few": 3.0,
    "sever": 3.0,
    "coupl": 2.0,
}
UNITS = {
    "min": 1.0,
    "mins": 1.0,
    "minut": 1.0,
    "mn": 1.0,
    "hour": 60.0,
    "hr": 60.0,
    "hrs": 60.0,
    "h": 60.0,
}
