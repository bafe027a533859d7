"""Turning what people type into what the matcher compares.

Users write "Vit B-12", "cobalamine", "anaemia", "charley horse" and 🙏; the
matcher should see "b12", "anemia", "cramp" and "thanks". The same function runs
over every content phrasing at load time, so both sides meet in one vocabulary.
"""

from __future__ import annotations

import re
import unicodedata

from bot.content import Synonyms

# "b12", "b 12", "b-12", "b.12", "b_12", "b12s" — the bare letter-number forms.
_B12_FORM = re.compile(r"\bb[\s\-_.]*12s?\b")
_APOSTROPHE = re.compile(r"(\w)['’‘`´](\w)")
_NOT_WORD = re.compile(r"[^\w]+")
_DIGIT_UNIT = re.compile(r"(\d)([a-z])")


def visible(text: str) -> str:
    """Drop control and format characters (RTL marks, zero-width joiners, NUL, …)."""
    if text.isprintable():
        return text
    return "".join(
        " " if ch in "\n\t\r" else ch
        for ch in text
        if ch in "\n\t\r" or unicodedata.category(ch)[0] != "C"
    )


def _phrase_pattern(phrases: list[str]) -> re.Pattern[str] | None:
    if not phrases:
        return None
    ordered = sorted(phrases, key=len, reverse=True)
    return re.compile(r"\b(?:" + "|".join(re.escape(p) for p in ordered) + r")\b")


class Normaliser:
    """Compiled from the synonym file once; `__call__` is the per-message hot path."""

    def __init__(self, synonyms: Synonyms) -> None:
        self._emoji = synonyms.emoji
        self._b12 = _phrase_pattern([_B12_FORM.sub("b12", _fold(p)) for p in synonyms.b12])
        phrases = {_clean(k): _clean(v) for k, v in synonyms.phrases.items()}
        self._phrases = phrases
        self._phrase_re = _phrase_pattern(list(phrases))
        self._spellings = {_fold(k): _clean(v) for k, v in synonyms.spellings.items()}
        preambles = [self(p) for p in synonyms.preambles]
        self._preamble = (
            re.compile(
                r"^(?:(?:" + "|".join(map(re.escape, sorted(preambles, key=len)[::-1])) + r") )+"
            )
            if preambles
            else None
        )

    def __call__(self, text: str) -> str:
        text = _fold(visible(text))
        for emoji, word in self._emoji.items():
            if emoji in text:
                text = text.replace(emoji, f" {word} ")
        text = _APOSTROPHE.sub(r"\1\2", text)
        text = " ".join(_B12_FORM.sub(" b12 ", text).split())
        if self._b12 is not None:
            text = self._b12.sub(" b12 ", text)
        text = _clean(text)
        text = " ".join(self._spellings.get(word, word) for word in text.split())
        if self._phrase_re is not None:
            text = self._phrase_re.sub(lambda m: self._phrases[m.group(0)], text)
        return text

    def asked(self, normalised: str) -> str:
        """The question itself: openings that only announce one ("ok different question",
        "quick question") dropped when at least two words follow. They carried the weight of
        the intents that happened to hold them, and "ok different question, can stretching
        help night cramps" fell below the answer threshold. The conversation still reads
        them (a fresh cue)."""
        if self._preamble is None:
            return normalised
        rest = self._preamble.sub("", normalised, count=1)
        return rest if rest.count(" ") >= 1 else normalised


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def _clean(text: str) -> str:
    """Punctuation, emoji and underscores become spaces; '1000mcg' splits into '1000 mcg'."""
    text = _NOT_WORD.sub(" ", text.replace("_", " "))
    text = _DIGIT_UNIT.sub(r"\1 \2", text)
    return " ".join(text.split())
