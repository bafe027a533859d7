"""The safety layer: emergency descriptions found by curated word patterns.

It runs before matching and is deliberately simple and literal — a missed
emergency costs far more than an unneeded "call for help" — but it ignores a
pattern that the user explicitly negates ("no chest pain").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bot.core.text import stem

WINDOW = 8  # all groups of one trigger must fall within this many words
_NEGATORS = frozenset({"no", "not", "never", "without", "nor", "neither"})
_NOT_A_NEGATION_AFTER = frozenset({"can", "could"})  # "i can not breathe"


class Triggers:
    def __init__(self, triggers: Sequence[Sequence[str]], normalise: Callable[[str], str]) -> None:
        self._triggers = [
            [frozenset(stem(normalise(word)) for word in group.split("|")) for group in trigger]
            for trigger in triggers
        ]
        # Only triggers whose first group occurs in a message need a closer look.
        self._by_first: dict[str, list[list[frozenset[str]]]] = {}
        for trigger in self._triggers:
            for word in trigger[0]:
                self._by_first.setdefault(word, []).append(trigger)

    def fires(self, words: Sequence[str]) -> bool:
        """`words` are the normalised message's words, spelling-corrected."""
        stems = [stem(w) for w in words]
        candidates = {id(t): t for s in set(stems) for t in self._by_first.get(s, ())}
        return any(self._fires(trigger, stems) for trigger in candidates.values())

    def _fires(self, trigger: list[frozenset[str]], stems: list[str]) -> bool:
        for start, token in enumerate(stems):
            if token not in trigger[0]:
                continue
            lo = max(0, start - WINDOW)
            span = stems[lo : start + WINDOW + 1]
            positions = [start]
            for group in trigger[1:]:
                hits = [lo + k for k, t in enumerate(span) if t in group]
                if not hits:
                    break
                positions.append(hits[0])
            else:
                if not _negated(stems, min(positions)):
                    return True
        return False


def _negated(stems: list[str], index: int) -> bool:
    for j in range(max(0, index - 3), index):
        if stems[j] in _NEGATORS and not (
            stems[j] == "not" and j > 0 and stems[j - 1] in _NOT_A_NEGATION_AFTER
        ):
            return True
    return False
