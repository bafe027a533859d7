"""Telling "the database cannot take writes right now" apart from bugs, and logging it once.

A read-only file, a full disk or a briefly unreachable file are outages, not bugs: the bot
keeps answering what needs no saving, and comes back by itself when the fault clears. Such
errors become `StorageUnavailable`; anything else (a wrong statement, a broken schema) stays
the sqlite3 error it is. A `FaultLatch` logs the outage on its first failure and its end on
the first write that works again, so a busy bot does not log one error per message.
"""

from __future__ import annotations

import logging
import sqlite3

from bot.storage.base import StorageError

log = logging.getLogger(__name__)

#: Primary SQLite result codes that mean "the database cannot be written now" (sqlite3.h):
#: SQLITE_BUSY, SQLITE_READONLY, SQLITE_IOERR, SQLITE_FULL, SQLITE_CANTOPEN.
_OUTAGE_CODES = frozenset({5, 8, 10, 13, 14})


class StorageUnavailable(StorageError):
    """The database refuses writes (read-only, disk full, cannot open): try again later."""


def is_outage(error: sqlite3.Error) -> bool:
    """Whether `error` is an environmental fault that may clear by itself."""
    code = getattr(error, "sqlite_errorcode", None)
    return isinstance(code, int) and (code & 0xFF) in _OUTAGE_CODES


class FaultLatch:
    """Remembers whether storage is failing, so the outage is logged once, not per message.

    Not thread-safe by itself: `SQLiteStorage` calls it under its own lock.
    """

    def __init__(self) -> None:
        self.failing: str | None = None  # the first error of the current outage
        self.failures = 0  # failed attempts during the current outage

    def failed(self, error: BaseException) -> None:
        self.failures += 1
        if self.failing is None:
            self.failing = str(error)
            log.error(
                "database cannot be written (%s): answers go on, nothing is saved until it "
                "recovers; further failures are not logged",
                error,
            )

    def succeeded(self) -> None:
        if self.failing is not None:
            log.warning(
                "database recovered: writes work again after %d failed attempt(s)", self.failures
            )
            self.failing, self.failures = None, 0
