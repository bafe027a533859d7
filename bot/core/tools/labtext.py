"""Finding lab tests, numbers and units in a message — the scanning half of the lab explainer.

Compiled once per `Labs` content object. Kept apart from `bot.core.tools.labs` so that the
decisions (which number, which unit, which class) read in one place without the regex
plumbing around them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.content.labs import Labs
from bot.core.tools.parsing import NUMBER, fold, number_value, phrase_pattern

_NOT_WORD = re.compile(r"[^\w]+")


@dataclass(frozen=True, slots=True)
class Mention:
    start: int
    end: int
    test: str


@dataclass(frozen=True, slots=True)
class Number:
    start: int
    end: int
    value: float
    unit: str | None  # a lab unit written right after it
    skip: bool  # a dose, an age, a time or a percentage: not a result


class Lexicon:
    """Every pattern of labs.yaml, compiled."""

    def __init__(self, labs: Labs) -> None:
        self.labs = labs
        self._tests = [(t.id, _pattern(t.names)) for t in labs.tests]
        self._any_test = _pattern([n for t in labs.tests for n in t.names])
        self._units = [(u.id, _pattern(u.spellings)) for u in labs.units]
        self._any_unit = _pattern([s for u in labs.units for s in u.spellings])
        self._skip = _pattern([*labs.dose_units, *labs.skip_after])
        before = "|".join(
            re.escape(fold(w)) for w in sorted(labs.skip_before, key=len, reverse=True)
        )
        self._skip_before = re.compile(rf"(?<![^\W\d_])(?:{before})\s*$") if before else None
        self._not_lab = _pattern(labs.not_lab_words)
        self._lab = _pattern(labs.lab_words)
        self._other = _pattern(labs.other_tests)
        words = labs.qualifier_words
        self._qualifiers = [
            (name, _pattern(getattr(words, name))) for name in ("high", "low", "normal")
        ]
        # The cheap detector reads the engine's normalised text: no punctuation at all.
        plain = [_plain(n) for t in labs.tests for n in t.names]
        self._plain_test = _pattern(plain)
        self._plain_other = _pattern([_plain(n) for n in labs.other_tests])
        self._plain_qualifier = _pattern(
            [
                _NOT_WORD.sub(" ", w)
                for name in ("high", "low", "normal")
                for w in getattr(words, name)
            ]
        )
        self._value_free = {t.id for t in labs.tests if not t.needs_value}
        # A unit only one test is reported in names it: "my level was 210 ng/l" is serum B12.
        users = {u.id: [t.id for t in labs.tests if u.id in t.units] for u in labs.units}
        self._implied = {unit: tests[0] for unit, tests in users.items() if len(tests) == 1}
        implied_spellings = [
            _plain(s) for u in labs.units if u.id in self._implied for s in u.spellings
        ]
        self._plain_implied = (
            re.compile(r"\b\d+(?: \d+)? (?:" + "|".join(map(re.escape, implied_spellings)) + r")\b")
            if implied_spellings
            else None
        )
        self._plain_by_test = [(t.id, _pattern([_plain(n) for n in t.names])) for t in labs.tests]

    def mentions(self, text: str) -> list[Mention]:
        """The tests named; with none, a number in a unit only one test uses stands for it —
        unless another test is named: "vitamin d 30 nmol/l" is no MMA of 30."""
        named = [
            Mention(m.start(), m.end(), self._which(self._tests, m.group(0)))
            for m in self._any_test.finditer(text)
        ]
        if named or self._other.search(text):
            return named
        return [
            Mention(n.start, n.start, self._implied[n.unit])
            for n in self.numbers(text)[:1]
            if n.unit in self._implied
        ]

    def numbers(self, text: str) -> list[Number]:
        found = []
        for m in NUMBER.finditer(text):
            value = number_value(m.group("num"))
            if value is None:
                continue
            if m.group("neg"):
                value = -value
            pos = m.end()
            while pos < len(text) and text[pos] == " ":
                pos += 1
            unit_match = self._any_unit.match(text, pos)
            unit = self._which(self._units, unit_match.group(0)) if unit_match else None
            skip = unit is None and (
                self._skip.match(text, pos) is not None
                or (self._skip_before is not None and self._skip_before.search(text, 0, m.start()))
            )
            found.append(Number(m.start(), m.end(), value, unit, bool(skip)))
        return found

    def units_anywhere(self, text: str) -> set[str]:
        return {self._which(self._units, m.group(0)) for m in self._any_unit.finditer(text)}

    def qualifier(self, text: str, mention: Mention) -> str | None:
        """A word like "high" within a few words of this mention, before or after it."""
        reach = self.labs.max_words_to_qualifier
        before = " ".join(text[: mention.start].split()[-reach:])
        after = " ".join(text[mention.end :].split()[:reach])
        for name, pattern in self._qualifiers:
            if pattern.search(before) or pattern.search(after):
                return name
        return None

    def about_supplements(self, text: str) -> bool:
        """Dose talk ("I take b12 1000 daily") with nothing saying it is a result."""
        return bool(self._not_lab.search(text)) and not self._lab.search(text)

    @staticmethod
    def words_between(text: str, start: int, end: int) -> int:
        return len(text[start:end].split())

    def looks_like_lab(self, normalised: str) -> bool:
        if not self._plain_test.search(normalised):
            if self._plain_other.search(normalised):
                return False
            return self._plain_implied is not None and bool(self._plain_implied.search(normalised))
        if any(ch.isdigit() for ch in normalised.replace("b12", "")):
            return True
        named = {tid for tid, p in self._plain_by_test if p.search(normalised)}
        return bool(named & self._value_free) and bool(self._plain_qualifier.search(normalised))

    @staticmethod
    def _which(patterns: list[tuple[str, re.Pattern[str]]], matched: str) -> str:
        return next(key for key, pattern in patterns if pattern.fullmatch(matched))


def _plain(phrase: str) -> str:
    """A phrase as the engine's normalised text has it: folded, no punctuation."""
    return _NOT_WORD.sub(" ", fold(phrase)).strip()


def _pattern(phrases: list[str] | tuple[str, ...]) -> re.Pattern[str]:
    pattern = phrase_pattern(phrases)
    return pattern if pattern is not None else re.compile(r"(?!)")


_CACHE: dict[int, Lexicon] = {}


def lexicon(labs: Labs) -> Lexicon:
    """The compiled patterns of this content object (a few are alive per process)."""
    cached = _CACHE.get(id(labs))
    if cached is None or cached.labs is not labs:
        if len(_CACHE) > 16:
            _CACHE.clear()
        cached = _CACHE[id(labs)] = Lexicon(labs)
    return cached
