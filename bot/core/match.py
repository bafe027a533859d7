"""Scoring a message against every intent's phrasings.

Two views of similarity are blended, because each fails where the other holds:
- keywords: an IDF-weighted cosine between the message and each intent's bag of
  words — robust to rambling stories and word order, blind to phrasing;
- phrasing: rapidfuzz's token_set_ratio against the intent's closest example —
  rewards a message that contains a whole curated phrasing, blind to rarity.
Both run on spelling-corrected, stemmed tokens with foods replaced by one
placeholder, so "does salmon have b12" and "do sardines have b12" are one pattern.
The blend, the threshold and the ambiguity margin were chosen by `python -m bot
eval` on tests/data/eval.jsonl (see README).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from bot.core.text import Speller, stem

FOOD_TOKEN = "foodx"  # noqa: S105 — a placeholder word, not a secret


@dataclass(frozen=True, slots=True)
class Params:
    keyword_weight: float = 0.5  # share of the keyword cosine in the blended score
    unknown_weight: float = 0.6  # weight of a word the content never uses, relative to the rarest
    shortlist: int = 8  # intents whose phrasings get the (costlier) fuzzy comparison
    max_tokens: int = 120  # a 100,000-character message is matched on its start


@dataclass(frozen=True, slots=True)
class Analysis:
    content: tuple[str, ...]  # stemmed topic words, foods as FOOD_TOKEN
    known: int  # how many of them the content vocabulary knows
    foods: tuple[str, ...]  # food ids mentioned, in order of appearance
    phrase: str  # content words joined, for the fuzzy view


@dataclass(frozen=True, slots=True)
class Scored:
    intent: str
    score: float  # 0–100


class Matcher:
    def __init__(
        self,
        phrasings: Mapping[str, Sequence[str]],
        food_names: Mapping[str, Sequence[str]],
        stopwords: set[str],
        params: Params | None = None,
    ) -> None:
        """`phrasings` and `food_names` must already be normalised."""
        self.params = params or Params()
        self._stop = frozenset(stopwords)
        vocabulary = {w for texts in phrasings.values() for t in texts for w in t.split()}
        vocabulary |= {w for names in food_names.values() for n in names for w in n.split()}
        self._speller = Speller(vocabulary | self._stop)
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
        self._known = frozenset(stem(w) for w in vocabulary)
        self._examples: dict[str, list[str]] = {}
        documents: dict[str, list[tuple[str, ...]]] = {}
        for intent, texts in phrasings.items():
            analysed = [self.analyse(t) for t in texts]
            self._examples[intent] = [a.phrase for a in analysed]
            documents[intent] = [a.content for a in analysed]
        self._build_keywords(documents)

    def _build_keywords(self, documents: dict[str, list[tuple[str, ...]]]) -> None:
        n_intents = len(documents)
        spread = Counter(t for docs in documents.values() for t in {t for d in docs for t in d})
        self._idf = {t: math.log(1 + n_intents / n) for t, n in spread.items()}
        self._unknown_idf = math.log(1 + n_intents) * self.params.unknown_weight
        self._postings: dict[str, list[tuple[str, float]]] = {}
        for intent, docs in documents.items():
            df = Counter(t for d in docs for t in set(d))
            vector = {t: math.sqrt(n / len(docs)) * self._idf[t] for t, n in df.items()}
            norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
            for token, value in vector.items():
                self._postings.setdefault(token, []).append((intent, value / norm))

    def words(self, normalised: str) -> list[str]:
        """The message's words, spelling-corrected against the content vocabulary."""
        return [self._speller.correct(w) for w in normalised.split()[: self.params.max_tokens]]

    def analyse(self, normalised: str) -> Analysis:
        corrected = self.words(normalised)
        stems = [stem(w) for w in corrected]
        stop = [w in self._stop for w in corrected]
        foods: list[str] = []
        content: list[str] = []
        known = 0
        i = 0
        while i < len(stems):
            food, length = self._food_at(stems, i)
            if food is not None:
                foods.append(food)
                content.append(FOOD_TOKEN)
                known += 1
                i += length
                continue
            if not stop[i]:
                content.append(stems[i])
                known += stems[i] in self._known
            i += 1
        return Analysis(tuple(content), known, tuple(dict.fromkeys(foods)), " ".join(content))

    def _food_at(self, stems: list[str], i: int) -> tuple[str | None, int]:
        if stems[i] not in self._food_first:
            return None, 0
        for tokens, food in self._foods:
            if tuple(stems[i : i + len(tokens)]) == tokens:
                return food, len(tokens)
        return None, 0

    def rank(self, analysis: Analysis) -> list[Scored]:
        """Every intent with any evidence, best first."""
        if not analysis.content:
            return []
        keyword = self._keyword_scores(analysis.content)
        if not keyword:
            return []
        shortlist = sorted(keyword, key=keyword.__getitem__, reverse=True)[: self.params.shortlist]
        w = self.params.keyword_weight
        scored = []
        for intent in shortlist:
            best = process.extractOne(
                analysis.phrase, self._examples[intent], scorer=fuzz.token_set_ratio, processor=None
            )
            phrasing = best[1] if best else 0.0
            scored.append(Scored(intent, round(w * 100 * keyword[intent] + (1 - w) * phrasing, 1)))
        scored.sort(key=lambda s: s.score, reverse=True)
        return scored

    def _keyword_scores(self, content: tuple[str, ...]) -> dict[str, float]:
        counts = Counter(content)
        query = {t: n * self._idf.get(t, self._unknown_idf) for t, n in counts.items()}
        norm = math.sqrt(sum(v * v for v in query.values())) or 1.0
        scores: dict[str, float] = {}
        for token, weight in query.items():
            for intent, value in self._postings.get(token, ()):
                scores[intent] = scores.get(intent, 0.0) + weight / norm * value
        return scores
