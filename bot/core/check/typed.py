"""Typed answers to a check question: "yes", "y", "nah", "not sure", "2", "1, 3", a label
with a typo — mapped onto the question's options, or None when it is not clearly one."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from rapidfuzz import fuzz, process

from bot.content.questionnaire import Option, Question


def normalise(text: str) -> str:
    """Case-fold, drop punctuation and maths symbols (keep emoji), squeeze spaces."""
    text = unicodedata.normalize("NFKC", text).casefold().replace("'", "").replace("’", "")
    kept = (
        " " if unicodedata.category(c)[0] == "P" or unicodedata.category(c) == "Sm" else c
        for c in text
    )
    return " ".join("".join(kept).split())


def _match_one(options: Sequence[Option], part: str, *, prefix: bool = True) -> Option | None:
    """One option for one typed phrase; `prefix` lets "yes, in my toes" count as "yes"."""
    if part.isdecimal():
        if len(part) > 4:
            return None
        number = int(part)
        if 1 <= number <= len(options):
            return options[number - 1]
        ranged = [
            o
            for o in options
            if o.number_range and o.number_range[0] <= number <= o.number_range[1]
        ]
        return ranged[0] if len(ranged) == 1 else None
    table: dict[str, Option | None] = {}
    for option in options:
        for word in (option.label, *option.synonyms):
            key = normalise(word)
            if key:
                table[key] = option if table.get(key, option) is option else None
    if part in table:
        return table[part]
    starts = (k for k in table if prefix and part.startswith(k + " "))
    prefixes = sorted(starts, key=len, reverse=True)
    if prefixes:
        return table[prefixes[0]]
    if len(part) < 4:
        return None
    keys = [k for k in table if len(k) >= 4 and table[k] is not None]
    found = process.extract(part, keys, scorer=fuzz.ratio, score_cutoff=85, limit=2)
    if not found or (
        len(found) == 2
        and found[1][1] == found[0][1]
        and table[found[0][0]] is not table[found[1][0]]
    ):
        return None
    return table[found[0][0]]


def parse_typed_answer(
    question: Question, text: str, visible: Sequence[Option] | None = None
) -> tuple[str, ...] | None:
    """Option ids for a typed answer ("yes", "y", "nah", "not sure", "2", "1, 3", a label
    with a typo), or None if it is not clearly an answer to this question."""
    options = list(visible if visible is not None else question.options)
    whole = normalise(text)
    if not whole:
        return None
    single = _match_one(options, whole, prefix=question.choice == "single")
    if single is not None:
        return (single.id,)
    if question.choice == "single":
        return None
    parts = re.split(r"\s*(?:,|;|/|&|\band\b|\bplus\b)\s*", unicodedata.normalize("NFKC", text))
    parts = [normalise(p) for p in parts]
    if len(parts) == 1 and all(t.isdecimal() for t in whole.split()):
        parts = whole.split()
    chosen = [_match_one(options, p) for p in parts if p]
    if not chosen or any(o is None for o in chosen):
        return None
    ids = {o.id for o in chosen if o is not None}
    if len(ids) > 1 and any(o.exclusive for o in chosen if o is not None):
        return None
    return tuple(o.id for o in question.options if o.id in ids)
