"""Persistence: the `Storage` interface and its SQLite implementation.

This package imports nothing else from `bot`: it stores plain values (ids, texts, JSON-able
dicts) so that any window or feature can use it, and another backend can replace SQLite.
"""

from __future__ import annotations

from pathlib import Path

from bot.storage.base import (
    MEAL_RETENTION,
    RETENTION,
    PendingQuestion,
    Result,
    Session,
    Stats,
    Storage,
    StorageError,
    User,
)
from bot.storage.fault import StorageUnavailable
from bot.storage.sqlite import SQLiteStorage

__all__ = [
    "MEAL_RETENTION",
    "RETENTION",
    "PendingQuestion",
    "Result",
    "SQLiteStorage",
    "Session",
    "Stats",
    "Storage",
    "StorageError",
    "StorageUnavailable",
    "User",
    "open_storage",
]


async def open_storage(path: Path | str) -> Storage:
    """Open the configured backend. Today: SQLite at `path` (migrated to the latest schema)."""
    return await SQLiteStorage.open(path)
