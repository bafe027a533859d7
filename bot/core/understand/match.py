"""Reading a message into tokens and foods, and ranking the intents for it.

The words are spelling-corrected against the content vocabulary and stemmed, foods are
replaced by one placeholder (so "does salmon have b12" and "do sardines have b12" are one
pattern), and the learned intent model (`model.py`) turns tokens plus the typed words'
character n-grams into calibrated probabilities: a score of 80 means about 80% sure.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot.core.understand.cache import ModelStore
from bot.core.understand.model import IntentModel, ModelParams, features, fingerprint
from bot.core.understand.spelling import TIE_BREAK, Speller, english_words, stem

FOOD_TOKEN = "foodx"  # noqa: S105  # nosec B105  # a placeholder word, not a secret
MAX_TOKENS = 120  # a 100,000-character message is matched on its start
RANKED = 10  # intents a ranking lists: the rest share well under 1 % of the probability


@dataclass(frozen=True, slots=True)
class Analysis:
    tokens: tuple[str, ...]  # stemmed words, foods as FOOD_TOKEN, fillers dropped
    foods: tuple[str, ...]  # food ids mentioned, in order of appearance
    words: tuple[str, ...] = ()  # the normalised words as typed, for character n-grams
    corrected: tuple[str, ...] = ()  # the words after spelling correction, not stemmed


@dataclass(frozen=True, slots=True)
class Scored:
    intent: str
    score: float  # 0–100: the model's calibrated probability


def _uses(phrasings: Mapping[str, Sequence[str]]) -> Counter[str]:
    """How many phrasings use each word."""
    return Counter(w for texts in phrasings.values() for t in texts for w in set(t.split()))


def _vocabulary(phrasings: Mapping[str, Sequence[str]]) -> set[str]:
    """The words the speller corrects onto: English words and the content's own terms.

    Phrasings are written with typos on purpose ("why do i get leg crmaps"), and a typo
    in the vocabulary would never be corrected again. So a word that is not English
    counts only when two phrasings use it (a term such as "metformin" or "holotc"
    repeats, a typo rarely does) and it is not one edit from a word used five times as
    often (two edits from five letters on: "crmps" beside "cramp").
    """
    counts = _uses(phrasings)
    english = english_words()
    kept = {w for w, n in counts.items() if not w.isalpha() or w in english}
    for word, n in counts.items():
        if word in kept or n < 2:
            continue
        edits = 1 if len(word) < 5 else 2
        common = [w for w, m in counts.items() if m >= 5 * n and abs(len(w) - len(word)) <= edits]
        if process.extractOne(word, common, scorer=OSA.distance, score_cutoff=edits) is None:
            kept.add(word)
    return kept


_TRAINED: dict[
    str, IntentModel
] = {}  # this process's models by fingerprint (tests load many engines)


class Matcher:
    def __init__(
        self,
        phrasings: Mapping[str, Sequence[str]],
        food_names: Mapping[str, Sequence[str]],
        fillers: set[str],
        params: ModelParams | None = None,
        aliases: Mapping[str, str] | None = None,
        store: ModelStore | None = None,
        not_foods: Sequence[str] = (),
    ) -> None:
        """`phrasings`, `food_names` and `not_foods` must already be normalised.

        `not_foods` names things with a food's name inside that are no food ("liver disease",
        "fatty liver"): their words are read as words, not as the food.

        `aliases` maps spelling variants to the canonical words normalisation produces, so a
        typo corrected to a variant ("crmaps" → "cramps") still lands on the canonical word.
        `store` keeps trained models between runs: the same phrasings are trained once.
        """
        self.params = params or ModelParams()
        self._fillers = frozenset(fillers)
        self._aliases = dict(aliases or {})
        vocabulary = _vocabulary(phrasings)
        vocabulary |= {w for names in food_names.values() for n in names for w in n.split()}
        self._speller = Speller(
            vocabulary | self._fillers | set(self._aliases), uses=_uses(phrasings)
        )
        # Food names as stemmed token tuples, longest first so "soy milk" beats "milk".
        self._foods = sorted(
            (
                (tuple(stem(w) for w in name.split()), food)
                for food, names in food_names.items()
                for name in names
            ),
            key=lambda item: -len(item[0]),
        )
        self._food_first = {tokens[0] for tokens, _ in self._foods}
        self._not_foods: dict[str, list[tuple[str, ...]]] = {}
        for tokens in sorted({tuple(stem(w) for w in name.split()) for name in not_foods}):
            if any(_contains(tokens, food) for food, _ in self._foods):
                self._not_foods.setdefault(tokens[0], []).append(tokens)
        self._phrasings = [(t, intent) for intent, texts in phrasings.items() for t in texts]
        # What turns a phrasing into features: with the phrasings, it names the trained model,
        # so a cached one is found without reading every phrasing again at each start.
        reading = json.dumps(
            [
                sorted(self._speller.vocabulary),
                sorted(self._fillers),
                sorted(self._aliases.items()),
                sorted((food, sorted(n)) for food, n in food_names.items()),
                sorted(" ".join(t) for names in self._not_foods.values() for t in names),
                TIE_BREAK,
            ]
        )
        self.model = self._trained(store, fingerprint(self._phrasings, self.params, reading))

    @cached_property
    def examples(self) -> list[tuple[list[str], str]]:
        """(features, intent) of every phrasing: what the model is trained on."""
        return [(self.features(self.analyse(t)), intent) for t, intent in self._phrasings]

    def _trained(self, store: ModelStore | None, key: str) -> IntentModel:
        model = _TRAINED.get(key)
        if model is None and store is not None:
            data = store.get(key)
            if data is not None:
                model = IntentModel.from_bytes(data, self.params)
        if model is None:
            model = IntentModel.train(self.examples, self.params)
            if store is not None:
                store.put(key, model.to_bytes())
        if len(_TRAINED) >= 8:
            _TRAINED.pop(next(iter(_TRAINED)))
        _TRAINED[key] = model
        return IntentModel.from_trained(model, self.params)

    # -- query ---------------------------------------------------------------------------

    def words(self, normalised: str) -> list[str]:
        """The message's words, spelling-corrected against the content vocabulary."""
        words = []
        for word in normalised.split()[:MAX_TOKENS]:
            corrected = self._speller.correct(word)
            words += self._aliases.get(corrected, corrected).split()
        return words

    def analyse(self, normalised: str, words: list[str] | None = None) -> Analysis:
        """`words`, when the caller already has them, saves correcting the message twice."""
        corrected = tuple(words or self.words(normalised))
        words = [w for w in corrected if w not in self._fillers]
        stems = [stem(w) for w in words]
        foods: list[str] = []
        tokens: list[str] = []
        i = 0
        while i < len(stems):
            food, length = self._food_at(stems, i)
            masked = self._not_food_at(stems, i)
            if masked > length:
                tokens += stems[i : i + masked]
                i += masked
            elif food is None:
                tokens.append(stems[i])
                i += 1
            else:
                foods.append(food)
                tokens.append(FOOD_TOKEN)
                i += length
        typed = tuple(normalised.split()[:MAX_TOKENS])
        return Analysis(tuple(tokens), tuple(dict.fromkeys(foods)), typed, corrected)

    def _food_at(self, stems: list[str], i: int) -> tuple[str | None, int]:
        if stems[i] not in self._food_first:
            return None, 0
        for tokens, food in self._foods:
            if tuple(stems[i : i + len(tokens)]) == tokens:
                return food, len(tokens)
        return None, 0

    def _not_food_at(self, stems: list[str], i: int) -> int:
        """How many words from `i` on name something that is no food (0: none)."""
        return max(
            (
                len(t)
                for t in self._not_foods.get(stems[i], ())
                if tuple(stems[i : i + len(t)]) == t
            ),
            default=0,
        )

    def features(self, analysis: Analysis) -> list[str]:
        return features(analysis.tokens, analysis.words, self.params)

    def rank(self, analysis: Analysis) -> list[Scored]:
        """The RANKED most probable intents, best first; nothing for a message with no words."""
        if not analysis.words:
            return []
        probabilities = self.model.probabilities(self.model.encode(analysis.tokens, analysis.words))
        labels = self.model.labels
        top = np.argsort(-probabilities, kind="stable")[:RANKED]
        scored = [Scored(labels[i], round(100 * float(probabilities[i]), 1)) for i in top]
        return scored


def _contains(words: tuple[str, ...], part: tuple[str, ...]) -> bool:
    return any(words[i : i + len(part)] == part for i in range(len(words) - len(part) + 1))
