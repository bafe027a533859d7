"""Made-up messages for fuzzing the safety layer and the engine: a seeded mix of the
emergency vocabulary, negations, numbers, punctuation, emoji, other scripts, control
characters and very long words, so every path of the tokeniser and the scopes is hit."""

from __future__ import annotations

import random

_WORDS = (
    "chest pain cant breathe no not never dont stroke face drooping calf swollen hot red "
    "years ago now again just had a clot seizure fit fitting overdose pills took 20 my son "
    "baby floppy water marathon confused vomiting cramp 15 min wont stop quinine bleeding "
    "what are the signs of can b12 cause kill myself want to die lol but and, . ? ! ; — - "
    "chestpains cantbreathe breeth seizher 38.8 10min 2yo i'm can't won't isn't"
).split()
_ODD = [
    "\u200b",
    "\u202e",
    "\x00",
    "\ufeff",
    "é",
    "ß",
    "İ",
    "🚑",
    "😭",
    "👍🏽",
    "ﬁ",
    "Ａ",
    "٣",
    "中",
    "\n",
    "\t",
]


def fuzz_messages(count: int, seed: int = 10) -> list[str]:
    rng = random.Random(seed)
    messages = []
    for _ in range(count):
        n = rng.choice((0, 1, 2, 5, 12, 40, 300))
        parts = []
        for _ in range(n):
            roll = rng.random()
            if roll < 0.7:
                parts.append(rng.choice(_WORDS))
            elif roll < 0.85:
                parts.append(rng.choice(_ODD))
            elif roll < 0.95:
                parts.append(str(rng.randint(-5, 10**6)))
            else:
                parts.append("".join(rng.choice("abcxyz'-.,") for _ in range(rng.randint(1, 60))))
        messages.append(rng.choice((" ", "", ",", "  ")).join(parts))
    return messages
