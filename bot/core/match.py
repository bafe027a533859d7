"""Scoring a message against every intent's phrasings.

Two views of similarity are blended, because each fails where the other holds:
- intent profile: TF-IDF cosine (words and word pairs) to the centroid of all the
  intent's examples — robust to rambling stories and to words spread over several
  phrasings, blind to phrasing;
- phrasing: rapidfuzz's token_sort_ratio to the intent's closest example —
  rewards the same words in any order, including the common words TF-IDF discounts.
(A third view, TF-IDF cosine to the single nearest example, was measured and
dropped: it added nothing on the evaluation file and cost most of the time.)
All run on spelling-corrected, stemmed tokens with foods replaced by one
placeholder, so "does salmon have b12" and "do sardines have b12" are one pattern.
The weights, the threshold and the ambiguity margin were chosen by
`python -m bot eval --tune` on tests/data/eval.jsonl (see README).
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from bot.core.text import Speller, stem

LENGTH_REFERENCE = 4  # a typical short question, in tokens
FOOD_TOKEN = "foodx"  # noqa: S105  # nosec B105  # a placeholder word, not a secret


@dataclass(frozen=True, slots=True)
class Params:
    profile_weight: float = 0.5  # the rest goes to the fuzzy phrase view
    unknown_weight: float = 0.0  # weight of a word the content never uses, relative to the rarest
    bigram_weight: float = 0.5
    shortlist: int = 8  # intents whose phrasings get the (costlier) fuzzy comparison
    max_tokens: int = 120  # a 100,000-character message is matched on its start
    phrase_scorer: str = "token_sort_ratio"  # a rapidfuzz.fuzz scorer name
    length_bonus: float = 8.0  # points per e-fold of message length beyond LENGTH_REFERENCE words


@dataclass(frozen=True, slots=True)
class Analysis:
    tokens: tuple[str, ...]  # stemmed words, foods as FOOD_TOKEN, fillers dropped
    foods: tuple[str, ...]  # food ids mentioned, in order of appearance
    phrase: str  # tokens joined, for the fuzzy view


@dataclass(frozen=True, slots=True)
class Scored:
    intent: str
    score: float  # 0–100


Vector = dict[str, float]


class Matcher:
    def __init__(
        self,
        phrasings: Mapping[str, Sequence[str]],
        food_names: Mapping[str, Sequence[str]],
        fillers: set[str],
        params: Params | None = None,
        aliases: Mapping[str, str] | None = None,
    ) -> None:
        """`phrasings` and `food_names` must already be normalised.

        `aliases` maps spelling variants to the canonical words normalisation produces, so a
        typo corrected to a variant ("crmaps" → "cramps") still lands on the canonical word.
        """
        self.params = params or Params()
        self._fillers = frozenset(fillers)
        self._aliases = dict(aliases or {})
        vocabulary = {w for texts in phrasings.values() for t in texts for w in t.split()}
        vocabulary |= {w for names in food_names.values() for n in names for w in n.split()}
        self._speller = Speller(vocabulary | self._fillers | set(self._aliases))
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
        self._examples: dict[str, list[str]] = {}
        documents: list[tuple[str, tuple[str, ...]]] = []
        for intent, texts in phrasings.items():
            analysed = [self.analyse(t) for t in texts]
            self._examples[intent] = [a.phrase for a in analysed]
            documents += [(intent, a.tokens) for a in analysed]
        self._index(documents)

    # -- index ---------------------------------------------------------------------------

    def _features(self, tokens: tuple[str, ...]) -> Counter[str]:
        features = Counter(tokens)
        if self.params.bigram_weight:
            features.update(f"{a} {b}" for a, b in itertools.pairwise(tokens))
        return features

    def _index(self, documents: list[tuple[str, tuple[str, ...]]]) -> None:
        n = len(documents)
        features = [self._features(tokens) for _, tokens in documents]
        df = Counter(f for fs in features for f in fs)
        self._idf = {f: math.log((1 + n) / (1 + k)) + 1 for f, k in df.items()}
        self._unknown_idf = (math.log(1 + n) + 1) * self.params.unknown_weight
        centroids: dict[str, Vector] = {}
        for (intent, _), fs in zip(documents, features, strict=True):
            centroid = centroids.setdefault(intent, {})
            for f, v in self._vector(fs).items():
                centroid[f] = centroid.get(f, 0.0) + v
        self._profile_postings: dict[str, list[tuple[str, float]]] = {}
        for intent, centroid in centroids.items():
            norm = math.sqrt(sum(v * v for v in centroid.values())) or 1.0
            for f, v in centroid.items():
                self._profile_postings.setdefault(f, []).append((intent, v / norm))

    def _vector(self, features: Counter[str]) -> Vector:
        vector = {}
        for f, count in features.items():
            weight = self.params.bigram_weight if " " in f else 1.0
            if f in self._idf:
                vector[f] = (1 + math.log(count)) * self._idf[f] * weight
            elif " " not in f:
                vector[f] = (1 + math.log(count)) * self._unknown_idf
        norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
        return {f: v / norm for f, v in vector.items()}

    # -- query ---------------------------------------------------------------------------

    def words(self, normalised: str) -> list[str]:
        """The message's words, spelling-corrected against the content vocabulary."""
        words = []
        for word in normalised.split()[: self.params.max_tokens]:
            corrected = self._speller.correct(word)
            words += self._aliases.get(corrected, corrected).split()
        return words

    def analyse(self, normalised: str, words: list[str] | None = None) -> Analysis:
        """`words`, when the caller already has them, saves correcting the message twice."""
        words = [w for w in (words or self.words(normalised)) if w not in self._fillers]
        stems = [stem(w) for w in words]
        foods: list[str] = []
        tokens: list[str] = []
        i = 0
        while i < len(stems):
            food, length = self._food_at(stems, i)
            if food is None:
                tokens.append(stems[i])
                i += 1
            else:
                foods.append(food)
                tokens.append(FOOD_TOKEN)
                i += length
        return Analysis(tuple(tokens), tuple(dict.fromkeys(foods)), " ".join(tokens))

    def _food_at(self, stems: list[str], i: int) -> tuple[str | None, int]:
        if stems[i] not in self._food_first:
            return None, 0
        for tokens, food in self._foods:
            if tuple(stems[i : i + len(tokens)]) == tokens:
                return food, len(tokens)
        return None, 0

    def rank(self, analysis: Analysis) -> list[Scored]:
        """Every intent with any evidence, best first."""
        if not analysis.tokens:
            return []
        query = self._vector(self._features(analysis.tokens))
        profile: dict[str, float] = {}
        for f, q in query.items():
            for intent, v in self._profile_postings.get(f, ()):
                profile[intent] = profile.get(intent, 0.0) + q * v
        p = self.params
        prior = {i: p.profile_weight * value for i, value in profile.items()}
        shortlist = sorted(prior, key=prior.__getitem__, reverse=True)[: p.shortlist]
        scorer = getattr(fuzz, p.phrase_scorer)
        phrase_weight = 1.0 - p.profile_weight
        # Long, rambling messages dilute every similarity although their topic is clear:
        # a calibrated score gives their evidence back in proportion to their length.
        bonus = p.length_bonus * max(0.0, math.log(len(analysis.tokens) / LENGTH_REFERENCE))
        scored = []
        for intent in shortlist:
            best = process.extractOne(
                analysis.phrase, self._examples[intent], scorer=scorer, processor=None
            )
            phrase = best[1] / 100 if best else 0.0
            raw = 100 * (prior[intent] + phrase_weight * phrase) + bonus
            scored.append(Scored(intent, round(min(raw, 100.0), 1)))
        scored.sort(key=lambda s: s.score, reverse=True)
        return scored
