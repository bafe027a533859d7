"""Reading numbers and phrases out of raw messages, for the lab and intake parsers.

The matcher's normaliser drops punctuation, so "1.5" and "pg/mL" would not survive it;
these parsers work on a lighter fold of the raw text that keeps digits, '.', ',', '/'
and '%'. Every way of writing B12 still becomes the token "b12", so "b-12" never
yields the number 12.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

_B12_FORM = re.compile(r"\bb[\s\-_.]*12s?\b")
_APOSTROPHE = re.compile(r"(\w)['’‘`´](\w)")
_DASHES = str.maketrans({"−": "-", "–": "-", "—": "-", "⁄": "/", "∕": "/", "μ": "µ"})
# Thousands ("1,200") before decimals ("1.5", "1,5"); simple fractions ("1/2"); a digit
# glued to a letter ("b12") is not a number, a letter glued to a digit ("3oz") is.
NUMBER = re.compile(
    r"(?<![\w.,/])(?P<neg>-\s?)?"
    r"(?P<num>\d{1,3}(?:,\d{3})+(?![\d,])|\d+(?:[.,]\d+)?(?:/\d+)?|[.,]\d+)(?![\d])"
)


def fold(text: str) -> str:
    """NFKC, case folding, one kind of dash/slash/micro sign, B12 forms as "b12"."""
    text = unicodedata.normalize("NFKC", text).casefold().translate(_DASHES)
    text = _APOSTROPHE.sub(r"\1\2", text)
    text = _B12_FORM.sub(" b12 ", text)
    return " ".join(text.split())


def number_value(raw: str) -> float | None:
    """'1,200' → 1200, '1,5' → 1.5, '1/2' → 0.5; None for '1/0' or a non-number."""
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+", raw):
        raw = raw.replace(",", "")
    raw = raw.replace(",", ".")
    try:
        if "/" in raw:
            top, bottom = raw.split("/", 1)
            value = float(top) / float(bottom)
        else:
            value = float(raw)
    except (ValueError, ZeroDivisionError):
        return None
    return value if math.isfinite(value) else None


def phrase_pattern(phrases: Iterable[str], *, plural: bool = False) -> re.Pattern[str] | None:
    """One regex for many phrases, longest first, on word boundaries.

    Inside a phrase, spaces match any run of spaces and "/" also matches " per ".
    With `plural`, every word may take an "s" or "es" ending (eggs, sandwiches).
    Compiled once per phrase set: callers ask for the same sets on every message.
    """
    return _compiled(tuple(phrases), plural)


@lru_cache(maxsize=256)
def _compiled(phrases: tuple[str, ...], plural: bool) -> re.Pattern[str] | None:
    parts = []
    for phrase in sorted({fold(p) for p in phrases if p.strip()}, key=len, reverse=True):
        words = []
        for word in phrase.split():
            pieces = [re.escape(piece) for piece in word.split("/")]
            text = r"\s*(?:/|\bper\b)\s*".join(pieces)
            words.append(text + (r"(?:e?s)?" if plural and word[-1].isalpha() else ""))
        parts.append(r"\s+".join(words))
    if not parts:
        return None
    # Not glued to a letter on the left ("3oz" is fine), nor to a letter or digit on the right.
    return re.compile(r"(?<![^\W\d_]|µ)(?:" + "|".join(parts) + r")(?![\wµ])")


def format_number(value: float) -> str:
    """Figures as people write them: 1,000 · 133 · 18.5 · 0.45 (never 1e+03)."""
    if value >= 1000:
        return f"{value:,.0f}"
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}".removesuffix(".0")
    if value < 0.001:
        return "0"
    return f"{value:.3g}"


def action_number(value: float) -> str:
    """A compact, lossless-enough number for callback data ('180', '0.271')."""
    return f"{value:.6g}"
