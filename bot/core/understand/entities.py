"""Entities: what a message names — food, nutrient, lab test, number with a unit, age,
medicine, condition, body part, time of day.

Found in the normalised, spelling-corrected words, so "magnesum" and "simvastatin" arrive
as "magnesium" and "statin"; a name the speller does not know yet is looked up with
rapidfuzz (one misspelt word of five letters or more, ratio ≥ 88). The lexicons are
content: content/entities.yaml, foods.yaml (foods) and labs.yaml (test names).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from bot.content.entities import EntityLexicon
from bot.core.understand.spelling import english_words

FUZZY_MIN = 5  # letters: shorter words are only matched exactly
FUZZY_CUTOFF = 88
_PEOPLE = (
    "she|he|mum|mom|mother|dad|father|nan|nana|gran|granny|grandma|grandad|grandpa|husband|"
    "wife|partner|son|daughter|aunt|uncle|friend|baby|child|kid"
)
_AGE = re.compile(
    rf"\b(?:im|i am|aged?|age|shes|hes|(?:{_PEOPLE})\s+is)\s+(\d{{1,3}})\b"
    r"|\b(\d{1,3})\s*(?:years?|yrs?|yo|y o)(?:\s+old)?\b"
)


@dataclass(frozen=True, slots=True)
class Entity:
    kind: str  # food, nutrient, test, number, age, medicine, condition, body_part, time_of_day
    value: str  # the canonical id ("salmon", "magnesium", "b12", "300 pg", "78")
    text: str  # the words it was found in


class EntityFinder:
    def __init__(
        self,
        lexicon: EntityLexicon,
        tests: Mapping[str, Sequence[str]],
        normalise: Callable[[str], str],
    ) -> None:
        """`tests`: lab test id → names (labs.yaml). Foods come from the matcher's analysis."""
        self._names: dict[str, tuple[str, str]] = {}  # normalised name → (kind, id)
        spelled: dict[str, tuple[str, str]] = {}  # names as written, for misspellings
        for kind, entities in lexicon.kinds.items():
            for entity, names in entities.items():
                for name in names:
                    self._names.setdefault(normalise(name), (kind, entity))
                    spelled.setdefault(name.casefold(), (kind, entity))
        for test, names in tests.items():
            for name in names:
                self._names.setdefault(normalise(name), ("test", test))
        self._names.pop("", None)
        ordered = sorted(self._names, key=len, reverse=True)
        self._phrase = re.compile(r"\b(?:" + "|".join(map(re.escape, ordered)) + r")\b")
        # A misspelt brand name ("lanzoprazole") is closer to how it is written than to the
        # class it normalises to ("ppi").
        self._spelled = {n: e for n, e in spelled.items() if " " not in n and len(n) >= FUZZY_MIN}
        self._spelled.update(
            {n: e for n, e in self._names.items() if " " not in n and len(n) >= FUZZY_MIN}
        )
        self._fuzzy = list(self._spelled)
        self._english = english_words()
        units = sorted({normalise(u) for u in lexicon.units} - {""}, key=len, reverse=True)
        self._number = re.compile(
            r"\b(\d+(?:[.,]\d+)?)\s*(" + "|".join(map(re.escape, units)) + r")\b"
        )

    def find(self, corrected: Sequence[str], foods: Sequence[str] = ()) -> tuple[Entity, ...]:
        """Entities in order of kind: foods first (the matcher found them), then the rest."""
        text = " ".join(corrected)
        found = [Entity("food", f, f) for f in foods]
        covered: list[tuple[int, int]] = []
        for m in self._phrase.finditer(text):
            kind, value = self._names[m.group(0)]
            found.append(Entity(kind, value, m.group(0)))
            covered.append(m.span())
        for m in _AGE.finditer(text):
            age = m.group(1) or m.group(2)
            if 0 < int(age) <= 120:
                found.append(Entity("age", str(int(age)), m.group(0)))
        for m in self._number.finditer(text):
            found.append(Entity("number", f"{m.group(1)} {m.group(2)}", m.group(0)))
        position = 0
        for word in corrected:
            start = text.find(word, position)
            position = start + len(word)
            if len(word) < FUZZY_MIN or not word.isalpha() or word in self._names:
                continue
            if word in self._english:
                continue  # a real word is not a misspelt name ("calves" is, "salve" is not)
            if any(a <= start < b for a, b in covered):
                continue
            best = process.extractOne(
                word, self._fuzzy, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF
            )
            if best is not None:
                kind, value = self._spelled[best[0]]
                found.append(Entity(kind, value, word))
        return tuple(dict.fromkeys(found))
