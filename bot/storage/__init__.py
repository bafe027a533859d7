"""Persistence: the `Storage` interface and its two backends.

SQLite (bot/storage/sqlite.py) is the embedded default: one process, one file. PostgreSQL
(bot/storage/postgres.py) is for several replicas sharing their state. This package imports
nothing else from `bot`: it stores plain values (ids, texts, JSON-able dicts) so that any
window or feature can use it.
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
from bot.storage.url import DatabaseUrl, parse_url

__all__ = [
    "MEAL_RETENTION",
    "RETENTION",
    "DatabaseUrl",
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
    "parse_url",
]


async def open_storage(where: Path | str) -> Storage:
    """Open the backend `where` names, migrated to the latest schema: a `postgresql://` URL,
    a `sqlite:///` URL, or a plain path to an SQLite file."""
    url = parse_url(str(where)) if "://" in str(where) else DatabaseUrl("sqlite", str(where))
    if url.backend == "postgresql":
        # Imported here: a bot on SQLite never loads asyncpg.
        from bot.storage.postgres import PostgresStorage

        return await PostgresStorage.open(url.target)
    return await SQLiteStorage.open(url.target)
