"""Tokens the matcher compares: spelling-corrected against the content's vocabulary, stemmed.

Correction only ever maps an unknown word onto a word the content uses, one edit
away (two for long words), and never touches a real English word: "crmaps" becomes
"cramps", but "later" does not become "laver".
"""

from __future__ import annotations

import gzip
import hashlib
import importlib
import importlib.util
import itertools
import json
import logging
import re
import sys
import types
from collections.abc import Container, Iterable, Iterator, Mapping
from functools import lru_cache
from pathlib import Path
from typing import IO, Protocol

from rapidfuzz import process
from rapidfuzz.distance import OSA, Indel

from bot.core.understand.cache import ModelStore

log = logging.getLogger(__name__)


class Stemmer(Protocol):
    def stemWord(self, word: str) -> str: ...  # snowballstemmer's name for it


def english_stemmer() -> Stemmer:
    """PyStemmer's English stemmer: the same Snowball algorithm compiled to C.

    Stemming is most of what loading the safety layer's terms costs (~2,700 words, 0.22 s in
    pure Python) and much of the per-word cost of a new word; PyStemmer takes 3 µs a word
    where snowballstemmer takes 45. Both give the same stem for each of the 162,000 words of
    the English list and the test sets (tests/test_text.py checks it), so models trained with
    either stay valid. Without PyStemmer, snowballstemmer's pure-Python one.
    """
    try:
        import Stemmer as pystemmer  # PyStemmer
    except ImportError:
        return pure_python_stemmer()
    stemmer: Stemmer = pystemmer.Stemmer("english")
    return stemmer


def pure_python_stemmer() -> Stemmer:
    """snowballstemmer's English stemmer, loaded without the package's other 30 languages.

    `import snowballstemmer` imports every language's generated tables (~2.8 MB resident,
    for a bot that stems English only). The English module and the two it uses are loaded
    from the same installed files under a private package name, so nothing named
    `snowballstemmer` changes for anyone else; if that layout ever moves, the public API.
    """
    spec = importlib.util.find_spec("snowballstemmer")  # locates it; runs no package code
    name = "_b12_snowball_english"
    try:
        if name not in sys.modules:
            if spec is None or not spec.submodule_search_locations:
                raise ImportError("snowballstemmer is not a package")
            package = types.ModuleType(name)
            package.__path__ = list(spec.submodule_search_locations)
            sys.modules[name] = package
        stemmer: Stemmer = importlib.import_module(f"{name}.english_stemmer").EnglishStemmer()
    except (ImportError, AttributeError):
        sys.modules.pop(name, None)
        from snowballstemmer.english_stemmer import EnglishStemmer

        stemmer = EnglishStemmer()
    return stemmer


_STEMMER = english_stemmer()
MIN_CORRECTABLE = 3
LONG_WORD = 8  # from this length on, two edits are allowed
# How `Speller` breaks a tie when given `uses`: part of what names a trained model, since the
# phrasings are corrected the same way.
TIE_BREAK = "closest, then most typed letters kept, then same first letter, then most used"
_JSON_KEY = re.compile(r'"([^"]*)"\s*:')  # a key of the word list's flat {"word": count} object
_ESCAPED_JSON_KEY = re.compile(r'"((?:[^"\\]|\\.)*)"\s*:')
_CHUNK = 1 << 17  # characters of the word list parsed at a time: keeps the load's peak small
# Words remembered by `stem` and `Speller.correct`. Enough for a chat bot's working vocabulary
# (the evaluation file uses ~1,300 distinct words); a full cache holds ~1 MB, where 65,536
# entries grew the process by ~9 MB apiece under varied or hostile text that never repeats.
CACHED_WORDS = 8192


@lru_cache(maxsize=CACHED_WORDS)
def stem(word: str) -> str:
    return _STEMMER.stemWord(word)


class WordList(Container[str]):
    """An exact, read-only set of words packed into one string per word length.

    A frozenset of pyspellchecker's 160,000 English words costs ~20 MB of str objects and
    hash table (about a fifth of the bot's memory), and loading it through pyspellchecker
    peaked at ~45 MB more; packed, the same words take 1.4 MB. Membership is a binary
    search over the fixed-width records of the word's length: a few microseconds, paid only
    when the speller meets a new word (its answers are cached).

    Keeping only the words within correction distance of the content vocabulary (~7,300)
    would save another megabyte, but finding them means comparing 160,000 words with ~1,000
    content words at up to two edits: seconds of start-up, and redone for every vocabulary.
    The packed list is exact for any vocabulary and cheaper to build than pyspellchecker's.
    """

    def __init__(self, packed: dict[int, str]) -> None:
        """`packed`: as `pack` returns it; use `WordList.of(words)` for plain words."""
        self._packed = packed

    @classmethod
    def of(cls, words: Iterable[str]) -> WordList:
        """A list of these words (tests, small lists): all of them alive at once while packing."""
        return cls(pack([list(words)]))

    def __contains__(self, word: object) -> bool:
        if not isinstance(word, str):
            return False
        n = len(word)
        packed = self._packed.get(n)
        if packed is None:
            return False
        lo, hi = 0, len(packed) // n
        while lo < hi:
            mid = (lo + hi) // 2
            if packed[mid * n : mid * n + n] < word:
                lo = mid + 1
            else:
                hi = mid
        return packed[lo * n : lo * n + n] == word

    def __len__(self) -> int:
        return sum(len(p) // n for n, p in self._packed.items())

    @property
    def packed(self) -> dict[int, str]:
        return self._packed

    def __iter__(self) -> Iterator[str]:
        for n, packed in sorted(self._packed.items()):
            for i in range(0, len(packed), n):
                yield packed[i : i + n]

    def characters(self) -> int:
        """Characters held: what the list costs in bytes, give or take (1 per ASCII one)."""
        return sum(len(p) for p in self._packed.values())


def pack(batches: Iterable[list[str]]) -> dict[int, str]:
    """Words, a batch at a time, as one sorted, duplicate-free string of fixed-width records
    per word length (empty words dropped).

    Each batch is grouped and concatenated at once, so only one batch's word objects are ever
    alive; sorting each length on its own keeps the final step's extra memory to one length.
    """
    pieces: dict[int, list[str]] = {}
    for words in batches:
        words.sort(key=len)
        for n, group in itertools.groupby(words, key=len):
            if n:
                pieces.setdefault(n, []).append("".join(group))
    packed = {}
    for n in list(pieces):
        joined = "".join(pieces.pop(n))
        packed[n] = "".join(sorted({joined[i : i + n] for i in range(0, len(joined), n)}))
    return packed


def english_word_file() -> Path:
    """pyspellchecker's English word-frequency list (gzipped JSON), found without importing it."""
    spec = importlib.util.find_spec("spellchecker")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("pyspellchecker is not installed")
    return Path(spec.origin).parent / "resources" / "en.json.gz"


def read_word_list(path: Path) -> WordList:
    """The keys of a pyspellchecker word-frequency file, lower-cased as pyspellchecker does.

    Read directly instead of through `SpellChecker()`, which builds a dict, a lower-cased copy
    and a Counter of all 160,000 words only for us to keep their names. Decompressing and
    parsing a chunk at a time never holds the whole 2.7 MB text or more than a few thousand
    word objects at once, so loading costs little more memory than the result.
    """
    with gzip.open(path, "rt", encoding="utf-8") as file:
        return WordList(pack(_keys(chunk) for chunk in _chunks(file)))


def _chunks(file: IO[str]) -> Iterator[str]:
    """About _CHUNK characters at a time, each piece ending at a line end (or the end).

    The lists hold one key per line, so no key is cut; a list on one line is one piece.
    """
    while chunk := file.read(_CHUNK):
        yield chunk + file.readline()


def _keys(chunk: str) -> list[str]:
    """The lower-cased keys in a piece of a flat {"word": count, ...} JSON object."""
    if "\\" not in chunk:
        # Lower-cased before `pack` groups by length: a few letters change length when lowered.
        return _JSON_KEY.findall(chunk.lower())
    return [json.loads(f'"{key}"').lower() for key in _ESCAPED_JSON_KEY.findall(chunk)]


WORD_LIST_FORMAT = 1  # bump when `pack` changes: a stored packed list is then rebuilt
_ENGLISH: list[WordList] = []  # the process's English list, once read


def english_words(store: ModelStore | None = None) -> WordList:
    """A general English word list (pyspellchecker's), loaded once per process.

    `store` keeps it packed between runs, named by a digest of the installed file: packing
    160,000 words is ~0.3 s of a start that must stay under 1.5 s; reading it back, ~5 ms.
    Only the first call's `store` counts (the engine passes its own before anything reads).
    """
    if not _ENGLISH:
        _ENGLISH.append(_stored_english(english_word_file(), store))
    return _ENGLISH[0]


def _stored_english(path: Path, store: ModelStore | None) -> WordList:
    if store is None:
        return read_word_list(path)
    digest = hashlib.sha256(f"{WORD_LIST_FORMAT}\0".encode() + path.read_bytes())
    key = "words-" + digest.hexdigest()[:24]
    data = store.get(key)
    if data is not None:
        try:
            packed = {int(n): words for n, words in json.loads(data).items()}
            if all(isinstance(w, str) and len(w) % n == 0 for n, w in packed.items()):
                return WordList(packed)
        except (ValueError, AttributeError, ZeroDivisionError):
            pass
        log.warning("stored English word list unreadable; reading the installed one")
    words = read_word_list(path)
    store.put(key, json.dumps(words.packed).encode())
    return words


class Speller:
    """Maps unknown words onto the content vocabulary (crmaps → cramps, magnesum → magnesium)."""

    def __init__(
        self,
        vocabulary: Iterable[str],
        known: Container[str] | None = None,
        uses: Mapping[str, int] | None = None,
    ) -> None:
        """`known`: the real words never to correct (default: the English word list).
        `uses`: how often the content uses each word; with it, a tie between equally close
        words goes to the one keeping more of the typed letters ("spinah" → "spinach", not
        "spinal"), then to one with the typed first letter, which typos rarely hit ("egs" →
        "eggs", not "legs"), then to the commoner one ("lver" → "liver", not "laver").
        Without it, to the first in alphabetical order."""
        self.vocabulary = frozenset(vocabulary)
        self.uses = uses
        self._known = english_words() if known is None else known
        self._by_length: dict[int, list[str]] = {}
        # Sorted, so a tie between equally close words goes the same way in every process
        # (set order changes with the hash seed): every window gives the same reply.
        for word in sorted(self.vocabulary):
            if word.isalpha():
                self._by_length.setdefault(len(word), []).append(word)
        self.correct = lru_cache(maxsize=CACHED_WORDS)(self._correct)

    def _correct(self, word: str) -> str:
        # The word-list lookup is the dearest test (a binary search), so it goes last.
        if (
            word in self.vocabulary
            or len(word) < MIN_CORRECTABLE
            or not word.isalpha()
            or word in self._known
        ):
            return word
        edits = 2 if len(word) >= LONG_WORD else 1
        choices = [
            w
            for n in range(len(word) - edits, len(word) + edits + 1)
            for w in self._by_length.get(n, ())
        ]
        if self.uses is None:
            best = process.extractOne(
                word, choices, scorer=OSA.distance, score_cutoff=edits, processor=None
            )
            return best[0] if best else word
        uses = self.uses
        close = process.extract(
            word, choices, scorer=OSA.distance, score_cutoff=edits, processor=None, limit=None
        )
        return min(
            (c for c, _, _ in close),
            key=lambda c: (
                OSA.distance(word, c),
                -Indel.normalized_similarity(word, c),
                c[0] != word[0],
                -uses.get(c, 0),
            ),
            default=word,
        )
