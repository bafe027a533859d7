"""Per-user flood protection: more than `limit` updates in `window` seconds → one warning,
then silence until the burst is over.

Taps on the B12 check's own buttons are counted apart, against a much higher `tap_limit`:
tapping through a whole check is quick work (three taps a second is ordinary), and it must
never be silenced by the limit meant for typed messages — nor the other way round.

Kept in memory on purpose: it protects this process's work and Telegram budget, and a restart
resetting it is harmless. Updates dropped during a burst still count, so a user who keeps
hammering stays silenced; the burst is over once their rate falls back under the limit.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from enum import Enum


class Verdict(Enum):
    allow = "allow"
    warn = "warn"  # the first update over the limit: say "slow down" once
    drop = "drop"  # further updates of the same burst: ignore silently


class FloodGuard:
    def __init__(
        self,
        limit: int = 20,
        window: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        tap_limit: int = 100,
    ) -> None:
        self.limit = limit
        self.tap_limit = tap_limit
        self.window = window
        self._clock = clock
        self._hits: dict[tuple[int, bool], deque[float]] = {}
        self._warned: set[tuple[int, bool]] = set()
        self._checks = 0

    def check(self, user_id: int, *, tap: bool = False) -> Verdict:
        """Count one update of `user_id`: a check-button tap (`tap`) or anything else."""
        now = self._clock()
        key = (user_id, tap)
        hits = self._hits.setdefault(key, deque())
        self._expire(hits, now)
        hits.append(now)
        self._checks += 1
        if self._checks % 1000 == 0:
            self._sweep(now)
        if len(hits) <= (self.tap_limit if tap else self.limit):
            self._warned.discard(key)
            return Verdict.allow
        if key in self._warned:
            return Verdict.drop
        self._warned.add(key)
        return Verdict.warn

    def _expire(self, hits: deque[float], now: float) -> None:
        while hits and now - hits[0] >= self.window:
            hits.popleft()

    def _sweep(self, now: float) -> None:
        """Forget users with no recent updates, so memory follows active users only."""
        for key in list(self._hits):
            hits = self._hits[key]
            self._expire(hits, now)
            if not hits:
                del self._hits[key]
                self._warned.discard(key)
