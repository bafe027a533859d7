"""Per-user flood protection: more than `limit` updates in `window` seconds → one warning,
then silence until the burst is over.

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
    ) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._hits: dict[int, deque[float]] = {}
        self._warned: set[int] = set()
        self._checks = 0

    def check(self, user_id: int) -> Verdict:
        now = self._clock()
        hits = self._hits.setdefault(user_id, deque())
        self._expire(hits, now)
        hits.append(now)
        self._checks += 1
        if self._checks % 1000 == 0:
            self._sweep(now)
        if len(hits) <= self.limit:
            self._warned.discard(user_id)
            return Verdict.allow
        if user_id in self._warned:
            return Verdict.drop
        self._warned.add(user_id)
        return Verdict.warn

    def _expire(self, hits: deque[float], now: float) -> None:
        while hits and now - hits[0] >= self.window:
            hits.popleft()

    def _sweep(self, now: float) -> None:
        """Forget users with no recent updates, so memory follows active users only."""
        for user_id in list(self._hits):
            hits = self._hits[user_id]
            self._expire(hits, now)
            if not hits:
                del self._hits[user_id]
                self._warned.discard(user_id)
