"""Raw text → the words the safety layer reads, each placed in its clause.

The layer reads what the person typed, only folded (NFKC, case) — not the matcher's
normalised text, whose spelling correction and synonyms were made for the FAQ content
and once turned a blood-clot abbreviation into another word. Its own tolerant reading
corrects a typo only onto the emergency vocabulary, never a real English word, and
splits words typed together ("chestpains", "cantbreathe").

Clauses: a sentence ends at . ! ? ; a new line or a dash; a segment — what a negation
can reach — also ends at a comma, at the `breaks` words ("but", which leave out of the
word list) and at the `joins` words ("and").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Container, Iterable
from dataclasses import dataclass, replace
from functools import lru_cache

from bot.core.understand.spelling import CACHED_WORDS, Speller, english_words, stem

_APOSTROPHE = re.compile(r"(\w)['’‘`´ʼ](\w)")
# A full stop between digits is a decimal point ("38.8"), not the end of a sentence.
_SENTENCE_END = re.compile(r"(?:(?<!\d)\.|\.(?!\d)|[!?;\n\r…])+|\s[-–—]+\s|[–—]+|\s-+$|^-+\s")
_DIGIT_LETTER = re.compile(r"(\d)([^\W\d_])|([^\W\d_]{3,})(\d)")  # "10min", "stop20"
_PIECE = re.compile(r"[^\W_]+|,")
EXACT = "="  # before a word in a term: that word exactly as typed, not its stem ("=legs")
NUMBER = "#"  # in a term: any number ("took # pills")
YEAR = "#year"  # in a term: a year, 1900–2099 ("in #year")
_NUMBER = re.compile(r"^\d+$")
_YEAR = re.compile(r"^(?:19|20)\d\d$")
_REPEAT = re.compile(r"([^\W\d_])\1+")
MAX_WORDS = 400  # a 4,096-character message has fewer; a longer text is read on its start
SHORT_FRAGMENT = 3  # words: a "sentence" this short is a fragment of the next
MIN_CORRECTED = 4  # shortest word a typo correction is tried on (chat spellings come first)
SPLIT_MIN = 6  # shortest unknown word tried as words typed together
MAX_PARTS = 6  # words one typed-together word may stand for
MAX_PART = 16  # longest single word looked for inside it
# Longest word tried as words typed together. The longest in all the corpora is 20 letters
# ("calfswollenhotandred"); the search grows with the length, and pasted junk or a long
# keyboard mash is not words typed together.
SPLIT_MAX = 40


@dataclass(slots=True)  # not frozen: built per word, and a frozen __init__ costs twice
class Word:
    text: str  # as typed, folded
    stem: str  # after correction, stemmed: what terms are compared with
    sentence: int
    segment: int
    keys: tuple[str, ...]  # what a term's word can match here: the stem, "=text", "#", "#year"
    chunk: int = 0  # between commas and breaks: no term runs across one ("it stopped, now
    # her words…"; "finally gone but now my calf…" is no "gone now")


def fold(text: str) -> str:
    """NFKC and case folding, invisible characters dropped, apostrophes inside words removed."""
    text = unicodedata.normalize("NFKC", text).casefold()
    if not text.isprintable():
        text = "".join(
            " " if ch in "\t" else ch
            for ch in text
            if ch in "\n\r\t" or unicodedata.category(ch)[0] != "C"
        )
    return _DIGIT_LETTER.sub(_spaced, _APOSTROPHE.sub(r"\1\2", text))


def _spaced(match: re.Match[str]) -> str:
    return " ".join(g for g in match.groups() if g)


class Reader:
    """Compiled once from the emergency vocabulary; `read` is the per-message path."""

    def __init__(
        self,
        vocabulary: Iterable[str],
        breaks: Iterable[str],
        joins: Iterable[str],
        known: Container[str] | None = None,
        spellings: dict[str, str] | None = None,
        used: Container[str] | None = None,
    ) -> None:
        """`vocabulary`: every word of every term and marker; `known`: real English words,
        never corrected (default: the English word list)."""
        self.vocabulary = frozenset(vocabulary)
        self._known = english_words() if known is None else known
        self._speller = Speller(self.vocabulary, self._known)
        self._breaks = frozenset(breaks)
        self._joins = frozenset(joins)
        self._spellings = dict(spellings or {})
        self._used = used  # the keys terms use; None keeps every key
        self._read_piece = lru_cache(maxsize=CACHED_WORDS)(self._piece)

    def read(self, text: str) -> list[Word]:
        words: list[Word] = []
        sentence = segment = chunk = opened = 0
        short = False
        for part in _SENTENCE_END.split(fold(text)):
            pieces = _PIECE.findall(part)
            if not pieces:
                continue
            # "i have. a pain. in my chest.": fragments of three words or fewer run on into
            # the next sentence, as they were meant to.
            if not short:
                sentence += 1
                opened = len(words)
            segment += 1
            chunk += 1
            short = len(pieces) <= SHORT_FRAGMENT
            for piece in pieces:
                if piece == ",":
                    segment += 1
                    chunk += 1
                    continue
                if piece in self._breaks:
                    segment += 1
                    chunk += 1
                    continue
                if piece in self._joins:
                    segment += 1
                for word_stem, keys in self._read_piece(piece):
                    words.append(Word(piece, word_stem, sentence, segment, keys, chunk))
                if len(words) >= MAX_WORDS:
                    return words
        # "goodbye. thanks for trying. im done": a fragment that ends the message belongs
        # to the sentence before it.
        if short and sentence > 1 and opened < len(words):
            words[opened:] = [replace(w, sentence=sentence - 1) for w in words[opened:]]
        return words

    def _piece(self, piece: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """(stem, keys) of each word a typed piece stands for."""
        out = []
        for corrected in self._correct(piece):
            word_stem = stem(corrected)
            keys = [word_stem, EXACT + piece]
            if _NUMBER.match(piece):
                keys.append(NUMBER)
                if _YEAR.match(piece):
                    keys.append(YEAR)
            if self._used is not None:
                keys = [k for k in keys if k in self._used]
            out.append((word_stem, tuple(keys)))
        return tuple(out)

    def _correct(self, word: str) -> tuple[str, ...]:
        """The word, corrected onto the vocabulary, or the two words typed together."""
        if word in self._spellings:
            return tuple(self._spellings[word].split())
        if _REPEAT.search(word) and word not in self.vocabulary:
            # "chessst", "pleaaase": letters held down; try the word with each run shortened.
            for shorter in (_REPEAT.sub(r"\1\1", word), _REPEAT.sub(r"\1", word)):
                if shorter in self.vocabulary or shorter in self._known:
                    return (shorter,)
            word = _REPEAT.sub(r"\1\1", word)
        # Three letters are too few to guess from: "kbs" is not "kms".
        corrected = self._speller.correct(word) if len(word) >= MIN_CORRECTED else word
        if corrected != word or word in self.vocabulary or len(word) < SPLIT_MIN:
            return (corrected,)
        if not word.isalpha() or word in self._known:
            return (word,)
        return self._split(word) or (word,)

    def _split(self, word: str) -> tuple[str, ...] | None:
        """ "chestpains" → chest pains, "calfswollenhotandred" → calf swollen hot and red: the
        fewest whole words (up to MAX_PARTS), one of them an emergency word of some length
        ("metformin" is not met+for+min); the last may be a typo of a vocabulary word."""
        n = len(word)
        if n > SPLIT_MAX:
            return None
        best: list[tuple[str, ...] | None] = [None] * (n + 1)
        best[0] = ()
        for end in range(1, n + 1):
            for start in range(max(0, end - MAX_PART), end):
                head = best[start]
                if head is None or len(head) >= MAX_PARTS:
                    continue
                part = word[start:end]
                if not self._whole(part):
                    if end < n or len(part) < 4:
                        continue
                    part = self._speller.correct(part)
                    if part not in self.vocabulary:
                        continue
                candidate = (*head, part)
                if best[end] is None or len(candidate) < len(best[end]):  # type: ignore[arg-type]
                    best[end] = candidate
        parts = best[n]
        if parts is None or len(parts) < 2:
            return None
        if not any(len(p) >= 4 and p in self.vocabulary for p in parts):
            return None
        return parts

    def _whole(self, part: str) -> bool:
        if part in self.vocabulary:
            return len(part) > 1 or part == "i"
        return len(part) > 2 and part in self._known
