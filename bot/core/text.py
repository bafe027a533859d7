"""Tokens the matcher compares: spelling-corrected against the content's vocabulary, stemmed.

Correction only ever maps an unknown word onto a word the content uses, so a typo
can bring a message closer to an answer but never invent a topic.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

import snowballstemmer
from rapidfuzz import fuzz, process

_STEMMER = snowballstemmer.stemmer("english")
MIN_CORRECTABLE = 4
CORRECTION_CUTOFF = 80.0


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    return _STEMMER.stemWord(word)


class Speller:
    """Maps unknown words onto the content vocabulary (crmaps → cramps, magnesum → magnesium)."""

    def __init__(self, vocabulary: Iterable[str]) -> None:
        words = {w for w in vocabulary if w.isalpha()}
        self.vocabulary = frozenset(vocabulary)
        self._by_length: dict[int, list[str]] = {}
        for word in words:
            self._by_length.setdefault(len(word), []).append(word)
        self.correct = lru_cache(maxsize=65536)(self._correct)

    def _correct(self, word: str) -> str:
        if word in self.vocabulary or len(word) < MIN_CORRECTABLE or not word.isalpha():
            return word
        choices = [
            w for n in range(len(word) - 2, len(word) + 3) for w in self._by_length.get(n, ())
        ]
        best = process.extractOne(
            word, choices, scorer=fuzz.ratio, score_cutoff=CORRECTION_CUTOFF, processor=None
        )
        return best[0] if best else word
