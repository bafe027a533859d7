"""Finding foods, amounts and measures in a meal description — the scanning half of intake.

Compiled once per (foods, intake content) pair. Foods are found by their names in
foods.yaml (plurals allowed), then, for a piece with no exact name, by a fuzzy match of
its unknown words ("salmn", "sardins"); a piece with neither is reported, not guessed.
A food with no checked figure ("chicken liver") is taken out before foods are looked for, so
it never counts as the food inside its name; a label-only name ("oat milk") is kept apart
from the food's counted names, because only the label can say how much B12 it has.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from bot.content.intake import Intake
from bot.content.models import Food
from bot.core.tools.parsing import fold, number_value, phrase_pattern

# Numbers not glued to a letter on their left ("b12" is one word), words, and "%".
_TOKEN = re.compile(r"(?<![^\W\d_])\d+(?:[.,]\d+)?(?:/\d+)?|[^\W\d_][^\W_]*|%")
# A comma between digits is a decimal or thousands mark ("1,5 cups"), not a list.
_SPLIT = re.compile(
    r"(?<!\d),|,(?!\d)|[;:\n&+!?()]|\.(?!\d)|\b(?:and|plus|with|w|then|also|as well as|along with)\b"
)
_HALF = re.compile(r"\band (?:a )?half\b")
HALF_MARK = "andahalf"
_COMMAND = re.compile(r"^\s*/intake(?:@\w+)?\b")
_TIMES = re.compile(r"\bx(?=\d)")  # "milk x2" → "milk x 2"
_FOOD_MARK = "foodmark"  # stands where a food name was, so words either side stay apart
_MIN_FUZZY = 4  # shorter words are never fuzzy-matched: "ham" must not become "jam"'s food


@dataclass(frozen=True, slots=True)
class Amount:
    count: float  # how many (of the measure, or of the food when there is no measure)
    measure: str | None  # a key of intake weights / volumes / counts
    stated: bool  # a number or a measure was written


@dataclass(frozen=True, slots=True)
class Piece:
    """One comma/and-separated part of a message."""

    text: str  # the part, without leading and trailing filler words
    foods: tuple[str, ...]  # food ids found in it, in order
    amount: Amount
    unknown: tuple[str, ...]  # runs of words that are neither food, amount nor filler
    labels: tuple[tuple[str, str], ...] = ()  # (food id, label-only name) named only so
    no_figure: tuple[str, ...] = ()  # foods named that have no checked figure


class MealLexicon:
    def __init__(self, foods: Mapping[str, Food], intake: Intake) -> None:
        self.foods = foods
        self.intake = intake
        self._measures = {**intake.weights, **intake.volumes, **dict.fromkeys(intake.counts, 0.0)}
        names = {f.id: self._names_without_measures(f) for f in foods.values()}
        self._food_patterns = [(fid, _pattern(n, plural=True)) for fid, n in names.items()]
        self._any_food = _pattern([n for ns in names.values() for n in ns], plural=True)
        self._names = {n: fid for fid, ns in names.items() for n in ns}
        self._labels = [
            (name, _pattern([name], plural=True))
            for f in foods.values()
            for name in map(fold, f.label_names)
        ]
        self._no_figure = _pattern(intake.no_figure, plural=True)
        self._vegan = _pattern(intake.vegan_words)
        self._stages = [(s.id, _pattern(s.words)) for s in intake.life_stages if s.words]
        self._skip_after = {"am", "pm", "%"}
        self._ignored = {fold(w) for w in intake.filler}
        for words in (intake.vegan_words, *(s.words for s in intake.life_stages)):
            self._ignored.update(w for phrase in words for w in fold(phrase).split())
        self._trigger = _pattern(intake.triggers)
        self._not_meal = _pattern(intake.not_meal_words)
        self._food_question = _pattern(intake.food_questions)
        self._meal_question = _pattern(intake.meal_questions)
        self._question = _pattern(intake.question_words)
        self._total_question = _pattern(intake.total_questions)
        self._compare = _pattern(intake.compare_words)
        # "2 eggs", "three sardines" — not "a banana", "one egg": that is the food's answer.
        several = [n for n, value in intake.numbers.items() if value > 1]
        numbers = "|".join(map(re.escape, sorted(several, key=len, reverse=True)))
        self._counted_food = re.compile(
            rf"\b(?:\d+(?:\.\d+)?|{numbers})\s+(?:{self._any_food.pattern})"
        )
        self._amount_measure = re.compile(
            r"\b(?:\d+(?:\s\d+)?|"
            + "|".join(map(re.escape, intake.numbers))
            + r")\s+(?:"
            + "|".join(map(re.escape, sorted(self._measures, key=len, reverse=True)))
            + r")(?:e?s)?\b"
        )

    def _names_without_measures(self, food: Food) -> list[str]:
        """ "salmon fillet" goes when "salmon" is a name too, so "fillet" stays a measure."""
        names = [fold(n) for n in food.names]
        return [
            n
            for n in names
            if not (" " in n and self.measure(n.rsplit(" ", 1)[1]) and n.rsplit(" ", 1)[0] in names)
        ]

    # -- whole message -----------------------------------------------------------------

    def pieces(self, text: str) -> list[Piece]:
        folded = _HALF.sub(f" {HALF_MARK} ", _TIMES.sub("x ", _COMMAND.sub("", fold(text))))
        return [self._piece(part) for part in _SPLIT.split(folded) if part and part.strip()]

    def vegan(self, text: str) -> bool:
        return bool(self._vegan.search(fold(text)))

    def life_stage(self, text: str) -> str | None:
        folded = fold(text)
        return next((sid for sid, pattern in self._stages if pattern.search(folded)), None)

    def looks_like_meal(self, normalised: str) -> bool:
        if self._not_meal.search(normalised):
            return False
        if self._meal_question.search(normalised) and self._any_food.search(normalised):
            return True
        if self._food_question.search(normalised):
            return bool(self._counted_food.search(normalised))
        if self._trigger.search(normalised):
            return True
        found = {self._which(m.group(0)) for m in self._any_food.finditer(normalised)}
        if len(found) == 1 and "b12" in normalised.split():
            # "is a glass of milk good for b12": a measure, but a question about one food
            return bool(self._counted_food.search(normalised))
        if self._amount_measure.search(normalised):
            return True
        if self._counted_food.search(normalised) and not self._question.search(normalised):
            return True  # "had 2 eggs b4 my shift": a count of a food, and nothing that asks
        if len(found) < 2:
            return False
        if self._total_question.search(normalised) and not self._compare.search(normalised):
            return True  # "eggs and milk how much b12": their sum
        # "salmon and eggs", "tuna sandwich w cheese": two foods and nothing that asks
        counted = any(ch.isdigit() for ch in normalised.replace("b12", ""))
        return counted or not self._question.search(normalised)

    # -- one piece ---------------------------------------------------------------------

    def _piece(self, part: str) -> Piece:
        no_figure = tuple(m.group(0) for m in self._no_figure.finditer(part))
        rest = self._no_figure.sub(f" {_FOOD_MARK} ", part)
        spans = [(m.start(), m.end(), m.group(0)) for m in self._any_food.finditer(rest)]
        for start, end, _ in reversed(spans):
            rest = f"{rest[:start]} {_FOOD_MARK} {rest[end:]}"
        tokens = _TOKEN.findall(rest)
        amount = self._amount([t for t in tokens if t != _FOOD_MARK])
        names = [name for _, _, name in spans]
        words = [t if t == _FOOD_MARK or self._is_unknown(t) else "" for t in tokens]
        if not names:
            guess = self._fuzzy(tuple(w for w in words if w))
            if guess:
                names = [guess[0]]
                words = [w if w not in guess[1] else "" for w in words]
        foods = tuple(dict.fromkeys(map(self._names_to_id, names)))
        return Piece(
            self._trim(part), foods, amount, _runs(words), self._label_only(names), no_figure
        )

    def _label_only(self, names: list[str]) -> tuple[tuple[str, str], ...]:
        """(food id, label name) for each food named only by label-only names: "oat milk"
        is plant milk, but not the plant milk whose figure the food carries."""
        labels: dict[str, str] = {}
        counted: set[str] = set()
        for name in names:
            fid = self._names_to_id(name)
            label = next((lab for lab, pattern in self._labels if pattern.fullmatch(name)), None)
            if label is None:
                counted.add(fid)
            else:
                labels.setdefault(fid, label)
        return tuple((fid, label) for fid, label in labels.items() if fid not in counted)

    def _amount(self, tokens: list[str]) -> Amount:
        numbers: list[float] = []
        measure = None
        for index, token in enumerate(tokens):
            following = tokens[index + 1] if index + 1 < len(tokens) else ""
            value = self._number(token)
            if token == HALF_MARK:
                numbers = [*numbers[:-1], (numbers[-1] if numbers else 1.0) + 0.5]
            elif value is not None and following not in self._skip_after:
                whole = numbers and token[0].isdigit() and "/" in token and value < 1
                numbers = [*numbers[:-1], numbers[-1] + value] if whole else [*numbers, value]
            elif measure is None:
                measure = self.measure(token)
        count = 1.0
        for value in numbers:
            count *= value
        return Amount(count, measure, bool(numbers) or measure is not None)

    def measure(self, word: str) -> str | None:
        for candidate in (word, word.removesuffix("s"), word.removesuffix("es")):
            if candidate in self._measures:
                return candidate
        return None

    def _number(self, token: str) -> float | None:
        if token[0].isdigit():
            return number_value(token)
        return self.intake.numbers.get(token)

    def _is_unknown(self, word: str) -> bool:
        return not (
            word in self._ignored
            or word == HALF_MARK
            or word == "%"
            or self._number(word) is not None
            or self.measure(word) is not None
        )

    def _fuzzy(self, words: tuple[str, ...]) -> tuple[str, tuple[str, ...]] | None:
        """(food name, words used) for the best fuzzy name match of 1–3 adjacent unknown words."""
        best: tuple[float, str, tuple[str, ...]] | None = None
        for size in (3, 2, 1):
            for start in range(len(words) - size + 1):
                gram = words[start : start + size]
                query = " ".join(gram)
                if len(query) < _MIN_FUZZY:
                    continue
                hit = process.extractOne(
                    query, self._names, scorer=fuzz.ratio, score_cutoff=self.intake.fuzzy_cutoff
                )
                if hit and (best is None or hit[1] > best[0]):
                    best = (hit[1], hit[0], gram)
        return (best[1], best[2]) if best else None

    def _names_to_id(self, name: str) -> str:
        return self._names[name] if name in self._names else self._which(name)

    def _which(self, matched: str) -> str:
        return next(fid for fid, pattern in self._food_patterns if pattern.fullmatch(matched))

    def _trim(self, part: str) -> str:
        words = part.split()
        while words and _bare(words[0]) in self._ignored:
            words.pop(0)
        while words and _bare(words[-1]) in self._ignored:
            words.pop()
        return " ".join(words).replace(HALF_MARK, "and a half")


def _runs(words: list[str]) -> tuple[str, ...]:
    """Adjacent unknown words as phrases ("stir fry"); "" and the food mark split them."""
    runs: list[list[str]] = [[]]
    for word in words:
        if word and word != _FOOD_MARK:
            runs[-1].append(word)
        elif runs[-1]:
            runs.append([])
    return tuple(" ".join(run) for run in runs if run)


def _bare(word: str) -> str:
    return re.sub(r"[^\w]", "", word)


def _pattern(phrases: Iterable[str], *, plural: bool = False) -> re.Pattern[str]:
    pattern = phrase_pattern(list(phrases), plural=plural)
    return pattern if pattern is not None else re.compile(r"(?!)")


_CACHE: dict[tuple[int, int], MealLexicon] = {}


def meal_lexicon(foods: Mapping[str, Food], intake: Intake) -> MealLexicon:
    key = (id(foods), id(intake))
    cached = _CACHE.get(key)
    if cached is None or cached.foods is not foods or cached.intake is not intake:
        if len(_CACHE) > 16:
            _CACHE.clear()
        cached = _CACHE[key] = MealLexicon(foods, intake)
    return cached
