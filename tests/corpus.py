"""The bad-input corpus, shared by the engine tests (tests/test_bad_input.py) and the
end-to-end ones (tests/telegram_bot/test_tg_hostile.py), so both prove the same messages.

A fixed, seeded generator (reproducible) of the kinds of text a public bot meets. tests/ is
not a package; pytest puts this directory on sys.path for tests/conftest.py, so test modules
anywhere under tests/ import it as `corpus`.
"""

from __future__ import annotations

import random

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
    """`size` messages; a prefix of a bigger corpus with the same seed is the smaller one."""
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
