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

from bot.core.safety.words import EXACT, Word
from bot.core.understand.spelling import stem


@dataclass(slots=True)  # not frozen: built per word, and a frozen __init__ costs twice
class Hit:
    name: str  # a concept, or a marker kind ("~negation", "~past", …)
    start: int  # index of its first word
    end: int  # index after its last word
    sentence: int
    segment: int
    whole_segment: bool = False  # the hit is all its clause holds ("hypothetically,")


_TERM_WORD = re.compile(r"#year|#|=?[^\W_]+")


def term_stems(term: str) -> tuple[str, ...]:
    """A term as the keys it is compared with: stems, "=word" for exact words, "#", "#year"."""
    return tuple(
        w if w.startswith(("#", EXACT)) else stem(w) for w in _TERM_WORD.findall(term.casefold())
    )


class Terms:
    """All terms in one trie of keys, so finding them costs about one step per word."""

    def __init__(
        self, named: Mapping[str, Sequence[str]], exact: frozenset[str] = frozenset()
    ) -> None:
        """`named`: name → terms (phrases as written in content). The one-word terms of the
        `exact` names match only that word or its plural in "s": a cancelling word matched
        by stem cancels too much ("talks" would cancel "talking")."""
        self._root: dict[str, dict] = {}
        self.keys: set[str] = set()  # every key some term uses: a word's other keys are dropped
        for name, terms in named.items():
            for term in terms:
                forms = [term_stems(term)]
                if name in exact and len(forms[0]) == 1 and not term.startswith(("=", "#")):
                    word = term.casefold()
                    forms = [(EXACT + word,), (EXACT + word + "s",)]
                for keys in forms:
                    node = self._root
                    for key in keys:
                        node = node.setdefault(key, {})
                        self.keys.add(key)
                    if keys:
                        node.setdefault(_END, set()).add(name)

    def find(self, words: Sequence[Word]) -> list[Hit]:
        hits: list[Hit] = []
        root, n = self._root, len(words)
        for i, word in enumerate(words):
            frontier = [root[key] for key in word.keys if key in root]
            if not frontier:
                continue
            ends = [(i + 1, node[_END]) for node in frontier if _END in node]
            k = i + 1
            while k < n and words[k].chunk == word.chunk:
                keys = words[k].keys
                frontier = [node[key] for node in frontier for key in keys if key in node]
                if not frontier:
                    break
                k += 1
                ends += [(k, node[_END]) for node in frontier if _END in node]
            # The longest term of a name at a place is the one kept.
            seen: set[str] = set()
            for end, names in reversed(ends):
                for name in names - seen:
                    seen.add(name)
                    whole = (i == 0 or words[i - 1].segment != word.segment) and (
                        end == n or words[end].segment != word.segment
                    )
                    hits.append(Hit(name, i, end, word.sentence, word.segment, whole))
        return hits


_END = ""  # the trie key under which a node lists the names whose terms end there


def minutes(words: Sequence[Word], i: int) -> float | None:
    """A duration that starts at word i ("15 minutes", "an hour", "half an hour"), in minutes."""
    first = words[i].stem
    if not (first.isdigit() or first in WORD_NUMBERS or first == "half"):
        return None  # most words: no look further
    stems = [w.stem for w in words[i : i + 4]]
    if stems[:3] == ["half", "an", "hour"]:
        return 30.0
    number = float(first) if first.isdigit() else WORD_NUMBERS.get(first)
    if number is None or len(stems) < 2:
        return None
    unit = stems[1]
    if unit in ("or", "to") and len(stems) >= 4:  # "10 or 15 minutes": the smaller one
        unit = stems[3]
    factor = UNITS.get(unit)
    return number * factor if factor is not None else None


WORD_NUMBERS = {
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
    "minuto": 1.0,  # Spanish, Italian, Portuguese
    "minuten": 1.0,  # German, Dutch
    "mn": 1.0,
    "hour": 60.0,
    "hr": 60.0,
    "hrs": 60.0,
    "h": 60.0,
}
