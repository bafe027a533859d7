"""A learned model's feature vocabulary: feature name → id, held as hashes, not strings.

Why: the two models know ~110,000 features (word pairs and character n-grams, mostly the
safety model's). As a dict of strings they cost ~14 MB resident — a dict entry, a string
object and an int object each — and put the loaded bot over its 90 MB budget (issue 11;
README "Speed and memory"). Here the names are kept once, as the UTF-8 blob the model cache
stores, and a lookup goes through a sorted array of their hashes: ~12 bytes a feature.

The ids are the dict's (a name's place in sorted order, from 1), so a model answers exactly
as before. A message's feature that is not in the vocabulary could only be taken for one
that is by a 64-bit hash collision (about 1 in 10^14 per feature). Should two names of the
vocabulary itself share a hash, the vocabulary falls back to the plain dict.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Iterator, Sequence

import numpy as np

SEPARATOR = "\n"  # never inside a feature: features are made of whitespace-split words
_CHUNK = 65_536  # characters of the blob split at a time: a load never holds every name


class Vocabulary:
    def __init__(self, blob: bytes, hash_: Callable[[str], int] = hash) -> None:
        """`blob`: the names, sorted, joined by SEPARATOR (`Vocabulary.of` makes one).
        `hash_` is Python's own string hash: salted per process, so hashes are made at load
        and never stored."""
        self._hash = hash_
        self._text = blob.decode()
        keys = np.fromiter((hash_(name) for part in self._parts() for name in part), np.int64)
        self._size = len(keys)
        order = np.argsort(keys, kind="stable")
        self._keys = keys[order]
        self._ids = order + 1
        self._fallback: dict[str, int] | None = None
        if self._size > 1 and bool((self._keys[1:] == self._keys[:-1]).any()):
            self._fallback = {name: k + 1 for k, name in enumerate(self.names())}

    @classmethod
    def of(cls, names: Iterable[str]) -> Vocabulary:
        return cls(SEPARATOR.join(sorted(set(names))).encode())

    def __len__(self) -> int:
        return self._size

    @property
    def blob(self) -> bytes:
        return self._text.encode()

    def names(self) -> list[str]:
        """Every name, in id order (for training and tests; a loaded bot never needs them)."""
        return self._text.split(SEPARATOR) if self._text else []

    def _parts(self) -> Iterator[list[str]]:
        text, start = self._text, 0
        while start < len(text):
            cut = text.find(SEPARATOR, start + _CHUNK)
            end = len(text) if cut < 0 else cut
            yield text[start:end].split(SEPARATOR)
            start = end + 1

    def ids(self, found: Sequence[str]) -> np.ndarray:
        """The ids of those of `found` that are in the vocabulary, in their order."""
        if self._fallback is not None:
            get = self._fallback.get
            return np.fromiter((k for k in map(get, found) if k is not None), np.int64)
        if not self._size:
            return np.zeros(0, np.int64)
        hashes = np.fromiter(map(self._hash, found), np.int64, len(found))
        where = np.searchsorted(self._keys, hashes)
        np.minimum(where, self._size - 1, out=where)
        where = where[self._keys[where] == hashes]
        return self._ids[where]

    def span(self, prefix: str) -> tuple[int, int]:
        """The ids [first, end) of the names that start with `prefix` (a block of features:
        the names are sorted, so a prefix's names are one run, counted chunk by chunk)."""
        upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        first = end = 0
        for part in self._parts():
            first += bisect.bisect_left(part, prefix)
            end += bisect.bisect_left(part, upper)
        return (first + 1, end + 1) if end > first else (0, 0)
