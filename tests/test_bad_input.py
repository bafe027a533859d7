"""Ten thousand hostile messages through the engine: no exception, always a sendable reply.

A fixed, seeded corpus (reproducible) of the kinds of text a public bot meets, plus a
hypothesis search over any Unicode.
"""

from __future__ import annotations

import random
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.content.html import html_problems
from bot.core.engine import Engine

INJECTIONS = [
    "<b>bold</b>",
    "</b>",
    "<script>alert(1)</script>",
    "a & b",
    "&amp; &lt; &#x3c;",
    "' OR 1=1; --",
    "'); DROP TABLE users; --",
    "{reply}",
    "{0}",
    "%s %d",
    "\\x00",
    "<a href='javascript:alert(1)'>x</a>",
]
EMOJI = ["👍", "🙏", "🤷‍♀️", "🦵", "💊", "🥩", "🧪", "❤️", "🏃🏽‍♂️", "🇬🇧"]
RTL = ["مرحبا", "שלום", "\u202eevil", "\u200f", "\u061c"]
COMBINING = ["e\u0301", "a\u0308\u0308\u0308", "z\u0336\u0336", "\u0300" * 20]
CONTROL = ["\x00", "\x07", "\x1b[31m", "\r\n", "\t", "\x7f", "\u2028", "\ufeff"]
WORDS = "b12 cramp leg night magnesium salmon vegan test doctor chest pain why how does".split()


def corpus(size: int = 10_000, seed: int = 12) -> list[str]:
    rng = random.Random(seed)
    pools = [INJECTIONS, EMOJI, RTL, COMBINING, CONTROL, WORDS]
    messages: list[str] = ["", " ", "\n\n", "x" * 4096, "x" * 4097, "🙂" * 4096]
    while len(messages) < size:
        kind = rng.randrange(4)
        if kind == 0:  # a mix of hostile pieces and real words
            parts = [rng.choice(rng.choice(pools)) for _ in range(rng.randrange(1, 30))]
            messages.append(" ".join(parts))
        elif kind == 1:  # random code points from anywhere in Unicode
            length = rng.randrange(0, 200)
            messages.append("".join(chr(rng.randrange(0x20, 0x30000)) for _ in range(length)))
        elif kind == 2:  # walls of text up to 10,000 characters
            piece = rng.choice(WORDS + INJECTIONS)
            messages.append(((piece + " ") * rng.randrange(1, 10_000 // len(piece)))[:10_000])
        else:  # a real question wrapped in noise
            noise = rng.choice(CONTROL + RTL + EMOJI + INJECTIONS)
            messages.append(f"{noise} does magnesium help night cramps {noise}")
    return messages


def check(engine: Engine, text: str) -> None:
    reply = engine.ask(text)
    assert 0 < len(reply.text) <= 4096
    assert html_problems(reply.text) == [], (text, reply.text)
    assert "<script>" not in reply.text
    assert all(len(b.action.encode()) <= 40 for b in reply.buttons)


@pytest.mark.parametrize("start", range(0, 10_000, 2_500))
def test_fixed_corpus(engine: Engine, start: int) -> None:
    for text in corpus()[start : start + 2_500]:
        check(engine, text)


def test_corpus_covers_what_it_claims() -> None:
    messages = corpus()
    assert len(messages) == 10_000
    assert max(len(m) for m in messages) <= 10_000
    assert any(unicodedata.bidirectional(c) == "R" for m in messages for c in m[:50])
    assert any("\x00" in m for m in messages)


def test_question_inside_noise_is_still_understood(engine: Engine) -> None:
    for noise in CONTROL + RTL + INJECTIONS:
        assert engine.ask(f"{noise} does magnesium help cramps {noise}").intent == (
            "remedy_magnesium"
        ), noise


@settings(max_examples=500, deadline=None)
@given(st.text(st.characters(), max_size=2_000))
def test_any_unicode(engine: Engine, text: str) -> None:
    check(engine, text)
