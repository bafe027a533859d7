"""Tokens the matcher compares: spelling-corrected against the content's vocabulary, stemmed.

Correction only ever maps an unknown word onto a word the content uses, one edit
away (two for long words), and never touches a real English word: "crmaps" becomes
"cramps", but "later" does not become "laver".
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache, lru_cache

import snowballstemmer
from rapidfuzz import process
from rapidfuzz.distance import OSA

_STEMMER = snowballstemmer.stemmer("english")
MIN_CORRECTABLE = 3
LONG_WORD = 8  # from this length on, two edits are allowed


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    return _STEMMER.stemWord(word)


@cache
def english_words() -> frozenset[str]:
    """A general English word list (pyspellchecker's), loaded once per process."""
    from spellchecker import SpellChecker

    return frozenset(SpellChecker(distance=1).word_frequency.keys())


class Speller:
    """Maps unknown words onto the content vocabulary (crmaps → cramps, magnesum → magnesium)."""

    def __init__(self, vocabulary: Iterable[str], known: frozenset[str] | None = None) -> None:
        self.vocabulary = frozenset(vocabulary)
        self._known = english_words() if known is None else known
        self._by_length: dict[int, list[str]] = {}
        for word in self.vocabulary:
            if word.isalpha():
                self._by_length.setdefault(len(word), []).append(word)
        self.correct = lru_cache(maxsize=65536)(self._correct)

    def _correct(self, word: str) -> str:
        if (
            word in self.vocabulary
            or word in self._known
            or len(word) < MIN_CORRECTABLE
            or not word.isalpha()
        ):
            return word
        edits = 2 if len(word) >= LONG_WORD else 1
        choices = [
            w
            for n in range(len(word) - edits, len(word) + edits + 1)
            for w in self._by_length.get(n, ())
        ]
        best = process.extractOne(
            word, choices, scorer=OSA.distance, score_cutoff=edits, processor=None
        )
        return best[0] if best else word
