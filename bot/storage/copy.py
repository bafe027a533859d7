"""Copying a whole database to another backend: `python -m bot storage copy SRC DST`.

For moving an SQLite bot to PostgreSQL when it scales out (or back). Both ends are migrated
to the latest schema first, so a version means the same tables on either; the destination
must hold no rows, so a copy never merges two bots' data. Each table is copied in one
transaction; ids keep their values and PostgreSQL's id counters are moved past them.
Stop the bot first: rows written during the copy would be missed.
"""

from __future__ import annotations

import logging

from bot.storage import Storage, StorageError, open_storage
from bot.storage.migrations import TABLES

log = logging.getLogger(__name__)


async def copy_database(source: str, destination: str) -> dict[str, int]:
    """Copy every table of `source` into the empty `destination`; returns rows per table."""
    src: Storage = await open_storage(source)
    try:
        dst: Storage = await open_storage(destination)
        try:
            for table in TABLES:
                if await dst.export_rows(table):
                    raise StorageError(f"the destination is not empty: {table} has rows")
            copied = {}
            for table in TABLES:
                rows = await src.export_rows(table)
                await dst.import_rows(table, rows)
                copied[table] = len(rows)
                log.info("copied %d rows of %s", len(rows), table)
            return copied
        finally:
            await dst.close()
    finally:
        await src.close()
