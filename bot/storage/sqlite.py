"""The SQLite implementation of `Storage`, on aiosqlite.

One connection in WAL mode (readers never wait for the writer, and a crash loses at most the
transaction in progress). aiosqlite runs statements on one worker thread; an asyncio lock
around each method keeps a multi-statement transaction from interleaving with another task's
statements. Every statement is parameterised.

A database that refuses writes (read-only, disk full, cannot be opened) raises
`StorageUnavailable` instead of the raw sqlite3 error, and the outage is logged once by a
`FaultLatch`; nothing here needs resetting when the fault clears — the next write just works.

That includes a database that already refused writes when it was opened (a read-only file or
mount): if its schema is current it opens anyway, reads work and writes are an outage. SQLite
then holds a read-only connection, which stays read-only after the file becomes writable, so
every write first checks whether the OS would now let us write the file and, if so, reopens
the connection. A database that needs migrating but refuses writes cannot be used at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import logging
import os
import sqlite3
import stat
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiosqlite

from bot.storage.base import (
    ANSWERED_KINDS,
    MEAL_RETENTION,
    QUESTION_KINDS,
    RETENTION,
    UPDATE_RETENTION,
    PendingQuestion,
    Result,
    Session,
    Stats,
    StorageError,
    User,
)
from bot.storage.fault import FaultLatch, StorageUnavailable, is_outage
from bot.storage.migrations import MIGRATIONS, TABLES, USER_TABLES, Migration

log = logging.getLogger(__name__)

_MARK = "INSERT OR IGNORE INTO processed_updates (update_id, chat_id, created_at) VALUES (?, ?, ?)"


def _ts(now: datetime | None) -> int:
    return int((now or datetime.now(UTC)).timestamp())


def _dt(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _file_writable(path: str) -> bool:
    """Whether the OS lets this process write the file at `path` — the question SQLite's own
    open answers before it falls back to a read-only connection (a read-only or immutable
    file, a read-only mount). Asked with access(2), never by opening the file: closing a
    descriptor of the database would drop the POSIX locks SQLite holds on it."""
    return path == ":memory:" or os.access(path, os.W_OK)


def _align_companions(path: str) -> None:
    """Give the WAL files (-wal, -shm) the database file's permissions again once it can be
    written. SQLite creates them with the database file's mode, so a connection opened while
    the file was read-only (0444) leaves them read-only; every later connection, even after a
    restart, would then open the WAL read-only and refuse writes although the database file
    takes them. Only files this process may chmod (its own) are touched; the others stay an
    outage for the operator to fix."""
    if path == ":memory:" or not os.access(path, os.W_OK):
        return
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return
    for companion in (f"{path}-wal", f"{path}-shm"):
        if os.path.exists(companion) and not os.access(companion, os.W_OK):
            try:
                os.chmod(companion, mode)
            except OSError as error:
                log.debug("cannot make %s writable: %s", companion, error)
            else:
                log.info("made %s writable again, like its database file", companion)


async def _connect(path: str) -> aiosqlite.Connection:
    await asyncio.to_thread(_align_companions, path)
    return await aiosqlite.connect(path, isolation_level=None)


class SQLiteStorage:
    """`Storage` on a local SQLite file. Create it with `await SQLiteStorage.open(path)`.

    Applying an update (`applying`): one process owns the file, and the Telegram layer
    already runs a chat's updates one after another, so no lock is taken here. An update is
    not one long transaction either — that would make every chat wait for each other's
    Telegram calls on the one connection. Instead every write of conversation state made
    while applying an update (the check, the dialogue, a life stage, a meal, /forget)
    commits the update's processed mark in its own transaction, and the mark is written at
    the end for an update that changed no state. A redelivered update whose state was saved
    is therefore skipped; a process killed between two state writes of one update keeps the
    first (the bookkeeping writes — the user record, the message log — carry no mark: they
    are harmless to repeat, and marking the update before its state was saved would lose
    the state on redelivery)."""

    def __init__(self, db: aiosqlite.Connection, path: str = ":memory:") -> None:
        self._db = db
        self._path = path
        self._lock = asyncio.Lock()
        self._latch = FaultLatch()
        # The connection was opened while the OS refused writes to the file, so SQLite made it
        # read-only for good: reopen it as soon as the file can be written (see `_writing`).
        self._reopen_when_writable = not _file_writable(path)
        # Faults injected by tests (`set_read_only`, `limit_pages`): a reopened connection
        # keeps them, as a reopened file would keep being read-only or full.
        self._injected: dict[str, int] = {}
        # The update this task is applying, as (chat_id, update_id): see `applying`.
        self._update: contextvars.ContextVar[tuple[int, int] | None] = contextvars.ContextVar(
            f"sqlite-update-{id(self)}", default=None
        )
        self._once_lock = asyncio.Lock()

    @classmethod
    async def open(
        cls, path: Path | str, *, migrations: Sequence[Migration] = MIGRATIONS
    ) -> SQLiteStorage:
        """Open (creating if needed) the database and bring its schema up to date.

        A database that refuses writes still opens when its schema is current (reads work,
        writes raise `StorageUnavailable` until it takes them again): a bot started on a
        read-only volume or a full disk answers what needs no saving and recovers by itself.
        One that needs migrating then raises `StorageUnavailable` (a `StorageError`): running
        old-schema data with new code is not an option. A file that cannot be opened or read
        at all raises `StorageError`."""
        try:
            if str(path) != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            db = await _connect(str(path))
        except (OSError, sqlite3.Error) as error:
            raise StorageError(f"cannot open {path}: {error}") from error
        try:
            storage = cls(db, str(path))
            await storage._configure(db)
            await storage._migrate(migrations)
        except sqlite3.Error as error:
            await db.close()
            raise StorageError(f"cannot prepare {path}: {error}") from error
        except BaseException:
            await db.close()
            raise
        return storage

    async def close(self) -> None:
        async with self._lock:
            await self._db.close()

    async def __aenter__(self) -> SQLiteStorage:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # schema ---------------------------------------------------------------------------------

    async def schema_version(self) -> int:
        rows = await self._db.execute_fetchall("PRAGMA user_version")
        return int(next(iter(rows))[0])

    async def journal_mode(self) -> str:
        rows = await self._db.execute_fetchall("PRAGMA journal_mode")
        return str(next(iter(rows))[0])

    async def _configure(self, db: aiosqlite.Connection) -> None:
        """Per-connection settings. Switching to WAL is a write (a no-op on a database already
        in WAL mode): on a database that refuses writes it is reported as the outage it is
        and skipped, and a reopened connection switches once the file can be written."""
        await db.execute("PRAGMA busy_timeout=5000")
        with contextlib.suppress(StorageUnavailable), self._guard(write=False):
            await db.execute("PRAGMA journal_mode=WAL")
        await db.execute("PRAGMA synchronous=NORMAL")
        await db.execute("PRAGMA foreign_keys=ON")
        for pragma, value in self._injected.items():
            # PRAGMA takes no parameters; names and ints come from the methods below.
            await db.execute(f"PRAGMA {pragma} = {int(value)}")

    async def _migrate(self, migrations: Sequence[Migration]) -> None:
        current = await self.schema_version()
        latest = max((m.version for m in migrations), default=0)
        if current > latest:
            raise StorageError(
                f"database schema version {current} is newer than this code knows ({latest})"
            )
        for migration in sorted(migrations, key=lambda m: m.version):
            if migration.version <= current:
                continue
            log.info("applying migration %d: %s", migration.version, migration.description)
            try:
                statements = [(statement, ()) for statement in migration.statements]
                # PRAGMA takes no parameters; the version is an int from our own code.
                statements.append((f"PRAGMA user_version = {int(migration.version)}", ()))
                await self._atomically(statements)
            except sqlite3.Error as error:
                if not is_outage(error):
                    raise
                raise StorageUnavailable(
                    f"cannot migrate {self._path} from schema version {current} to "
                    f"{migration.version}: the database refuses writes ({error})"
                ) from error
            current = migration.version

    @contextlib.contextmanager
    def _guard(self, *, write: bool) -> Iterator[None]:
        """Turn an outage into `StorageUnavailable` (logged once per outage); a write that
        works ends the outage. Reads do not end it: a full disk still serves reads."""
        try:
            yield
        except sqlite3.Error as error:
            if not is_outage(error):
                raise
            self._latch.failed(error)
            raise StorageUnavailable(str(error)) from error
        if write:
            self._latch.succeeded()

    @contextlib.asynccontextmanager
    async def _writing(self) -> AsyncIterator[None]:
        """Hold the lock for a write: first reopen a read-only connection whose file can be
        written now, then turn an outage into `StorageUnavailable` (see `_guard`)."""
        async with self._lock:
            await self._reopen_if_writable()
            with self._guard(write=True):
                yield

    async def _reopen_if_writable(self) -> None:
        """Replace a connection SQLite opened read-only once the OS lets us write the file
        (the read-only mount was remounted, the file's mode or owner fixed). Cheap while the
        file stays read-only: one access(2) per write. Called under the lock, so nothing
        uses the connection meanwhile.

        The old connection is closed *before* the new one opens: connections of one process
        share the WAL index (-shm) of a file, and one opened read-only would keep the new
        connection read-only too. Should the new one fail to open (out of file descriptors,
        say), the write is refused as an outage and the next write tries again."""
        if not self._reopen_when_writable:
            return
        if not await asyncio.to_thread(_file_writable, self._path):
            return
        with contextlib.suppress(sqlite3.Error):
            await self._db.close()
        try:
            self._db = await _connect(self._path)
        except sqlite3.Error as error:
            self._latch.failed(error)
            raise StorageUnavailable(f"cannot reopen the database: {error}") from error
        self._reopen_when_writable = not _file_writable(self._path)
        await self._configure(self._db)
        log.info("the database file can be written again: reopened it")

    async def _rollback(self) -> None:
        """Undo an open transaction. SQLite may already have rolled back on its own (for
        example on SQLITE_FULL); a second ROLLBACK would then hide the real error."""
        if self._db.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                await self._db.execute("ROLLBACK")

    async def _write(
        self, sql: str, params: Sequence[Any] = (), *, mark: bool = True
    ) -> aiosqlite.Cursor:
        """One statement; with the update's processed mark in the same transaction when this
        task is applying an update and `mark` (a write of conversation state)."""
        async with self._writing():
            marking = self._marking() if mark else None
            if marking is None:
                return await self._db.execute(sql, params)
            await self._db.execute("BEGIN IMMEDIATE")
            try:
                cursor = await self._db.execute(sql, params)
                await self._db.execute(*marking)
                await self._db.execute("COMMIT")
            except BaseException:
                await self._rollback()
                raise
            return cursor

    def _marking(self) -> tuple[str, tuple[int, int, int]] | None:
        """The statement that marks the update this task applies as processed, if any."""
        current = self._update.get()
        if current is None:
            return None
        chat_id, update_id = current
        return _MARK, (update_id, chat_id, _ts(None))

    async def _fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        async with self._lock:
            with self._guard(write=False):
                return list(await self._db.execute_fetchall(sql, params))

    async def _fetchone(self, sql: str, params: Sequence[Any] = ()) -> Any | None:
        rows = await self._fetchall(sql, params)
        return rows[0] if rows else None

    async def _transaction(self, statements: Sequence[tuple[str, Sequence[Any]]]) -> None:
        async with self._writing():
            marking = self._marking()
            await self._atomically([*statements, marking] if marking else statements)

    # applying updates, start-up tasks, readiness ------------------------------------------------

    async def ping(self) -> None:
        await self._fetchall("SELECT 1")

    @contextlib.asynccontextmanager
    async def applying(self, chat_id: int, update_id: int) -> AsyncIterator[bool]:
        """See `Storage.applying` and the class docstring."""
        try:
            seen = await self._fetchone(
                "SELECT 1 FROM processed_updates WHERE update_id = ?", (update_id,)
            )
        except StorageUnavailable:
            seen = None
        if seen is not None:
            log.info("update %d was applied before: skipped", update_id)
            yield False
            return
        token = self._update.set((chat_id, update_id))
        try:
            yield True
        finally:
            self._update.reset(token)
        with contextlib.suppress(StorageUnavailable):
            await self._write(_MARK, (update_id, chat_id, _ts(None)), mark=False)

    @contextlib.asynccontextmanager
    async def once(self, key: str, fingerprint: str) -> AsyncIterator[bool]:
        """See `Storage.once`: one process owns the file, so an asyncio lock is enough."""
        async with self._once_lock:
            row = await self._fetchone(
                "SELECT fingerprint FROM startup_tasks WHERE key = ?", (key,)
            )
            due = row is None or row[0] != fingerprint
            yield due
            if due:
                await self._write(
                    """
                    INSERT INTO startup_tasks (key, fingerprint, done_at) VALUES (?, ?, ?)
                    ON CONFLICT (key) DO UPDATE SET
                        fingerprint = excluded.fingerprint, done_at = excluded.done_at
                    """,
                    (key, fingerprint, _ts(None)),
                    mark=False,
                )

    # copying between databases ----------------------------------------------------------------

    async def export_rows(self, table: str) -> list[tuple[Any, ...]]:
        """Every row of `table` (one of `TABLES`), its columns in `TABLES` order."""
        columns = ", ".join(TABLES[table])
        return await self._fetchall(f"SELECT {columns} FROM {table}")  # noqa: S608  # nosec B608

    async def import_rows(self, table: str, rows: Sequence[Sequence[Any]]) -> None:
        """Add rows exported by `export_rows` (from either backend) to an empty `table`."""
        columns = TABLES[table]
        sql = (
            f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608  # nosec B608
            f"VALUES ({', '.join('?' * len(columns))})"
        )
        # SQLite's INTEGER PRIMARY KEY goes on after the largest id copied: nothing to move.
        async with self._writing():
            await self._atomically([(sql, tuple(row)) for row in rows])

    async def _atomically(self, statements: Sequence[tuple[str, Sequence[Any]]]) -> None:
        """All of `statements` or none (the caller holds the lock, or is still opening)."""
        await self._db.execute("BEGIN IMMEDIATE")
        try:
            for sql, params in statements:
                await self._db.execute(sql, params)
            await self._db.execute("COMMIT")
        except BaseException:
            await self._rollback()
            raise

    # fault injection, for tests ---------------------------------------------------------------

    async def set_read_only(self, read_only: bool) -> None:
        """For tests: make this connection refuse writes with SQLite's own "attempt to write
        a readonly database" (SQLITE_READONLY), as a file turned read-only would. (Tests run
        as root, which ignores file permissions, so chmod cannot do this.)"""
        async with self._lock:
            self._injected["query_only"] = 1 if read_only else 0
            await self._db.execute(f"PRAGMA query_only = {1 if read_only else 0}")

    async def limit_pages(self, extra: int | None) -> None:
        """For tests: let the file grow by at most `extra` pages (None: no limit), so that
        writes fail with SQLite's own "database or disk is full" (SQLITE_FULL)."""
        async with self._lock:
            if extra is None:
                limit = 4294967294  # SQLite's largest page count
            else:
                rows = list(await self._db.execute_fetchall("PRAGMA page_count"))
                limit = int(rows[0][0]) + int(extra)
            self._injected["max_page_count"] = int(limit)
            # PRAGMA takes no parameters; the limit is an int computed here.
            await self._db.execute(f"PRAGMA max_page_count = {int(limit)}")

    # users ----------------------------------------------------------------------------------

    async def touch_user(
        self, user_id: int, language_code: str | None, *, now: datetime | None = None
    ) -> None:
        ts = _ts(now)
        await self._write(
            """
            INSERT INTO users (user_id, first_seen, last_seen, language_code, blocked)
            VALUES (?, ?, ?, ?, 0)
            ON CONFLICT (user_id) DO UPDATE SET
                last_seen = excluded.last_seen,
                language_code = COALESCE(excluded.language_code, users.language_code),
                blocked = 0
            """,
            (user_id, ts, ts, language_code),
            mark=False,
        )

    async def set_blocked(self, user_id: int, blocked: bool) -> None:
        await self._write(
            "UPDATE users SET blocked = ? WHERE user_id = ?",
            (1 if blocked else 0, user_id),
            mark=False,
        )

    async def get_user(self, user_id: int) -> User | None:
        row = await self._fetchone(
            "SELECT user_id, first_seen, last_seen, language_code, blocked FROM users "
            "WHERE user_id = ?",
            (user_id,),
        )
        if row is None:
            return None
        return User(row[0], _dt(row[1]), _dt(row[2]), row[3], bool(row[4]))

    async def forget_user(self, user_id: int) -> None:
        await self._transaction(
            [
                *(
                    (f"DELETE FROM {table} WHERE user_id = ?", (user_id,))  # noqa: S608  # nosec B608
                    for table in USER_TABLES
                ),
                ("DELETE FROM processed_updates WHERE chat_id = ?", (user_id,)),
            ]
        )

    # message log ----------------------------------------------------------------------------

    async def log_message(
        self,
        user_id: int,
        chat_id: int,
        kind: str,
        intent: str | None = None,
        *,
        now: datetime | None = None,
    ) -> None:
        await self._write(
            "INSERT INTO message_log (user_id, chat_id, kind, intent, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (user_id, chat_id, kind, intent, _ts(now)),
            mark=False,
        )

    async def stats(self, *, now: datetime | None = None, top: int = 10) -> Stats:
        moment = now or datetime.now(UTC)
        midnight = _ts(moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0))
        week_ago = _ts(moment - timedelta(days=7))
        questions = sorted(QUESTION_KINDS)
        answered = sorted(ANSWERED_KINDS)
        q_marks = ",".join("?" * len(questions))
        a_marks = ",".join("?" * len(answered))
        row = await self._fetchone(
            f"""
            SELECT
                (SELECT COUNT(*) FROM users),
                (SELECT COUNT(*) FROM users WHERE blocked = 1),
                (SELECT COUNT(*) FROM message_log WHERE created_at >= ?),
                (SELECT COUNT(*) FROM message_log WHERE created_at >= ?),
                (SELECT COUNT(*) FROM message_log WHERE created_at >= ? AND kind IN ({q_marks})),
                (SELECT COUNT(*) FROM message_log WHERE created_at >= ? AND kind IN ({a_marks}))
            """,  # noqa: S608 - only placeholders are interpolated
            (midnight, week_ago, week_ago, *questions, week_ago, *answered),
        )
        assert row is not None  # noqa: S101 - a SELECT of aggregates always returns one row
        top_rows = await self._fetchall(
            """
            SELECT MIN(text), COUNT(*) AS n FROM unanswered_questions
            GROUP BY LOWER(TRIM(text))
            ORDER BY n DESC, MAX(created_at) DESC
            LIMIT ?
            """,
            (top,),
        )
        return Stats(
            users=row[0],
            blocked_users=row[1],
            messages_today=row[2],
            messages_7d=row[3],
            questions_7d=row[4],
            answered_7d=row[5],
            top_unanswered=tuple((text, n) for text, n in top_rows),
        )

    # unanswered questions -------------------------------------------------------------------

    async def save_pending_question(
        self,
        user_id: int,
        chat_id: int,
        text: str,
        best_score: float,
        *,
        now: datetime | None = None,
    ) -> int:
        cursor = await self._write(
            "INSERT INTO pending_questions (user_id, chat_id, text, best_score, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (user_id, chat_id, text, best_score, _ts(now)),
        )
        return int(cursor.lastrowid or 0)

    async def take_pending_question(self, pending_id: int, chat_id: int) -> PendingQuestion | None:
        sql = (
            "DELETE FROM pending_questions WHERE id = ? AND chat_id = ? "
            "RETURNING id, user_id, chat_id, text, best_score, created_at"
        )
        async with self._writing():
            marking = self._marking()
            await self._db.execute("BEGIN IMMEDIATE")
            try:
                rows = list(await self._db.execute_fetchall(sql, (pending_id, chat_id)))
                if marking is not None:
                    await self._db.execute(*marking)
                await self._db.execute("COMMIT")
            except BaseException:
                await self._rollback()
                raise
        if not rows:
            return None
        row = rows[0]
        return PendingQuestion(row[0], row[1], row[2], row[3], row[4], _dt(row[5]))

    async def record_unanswered(
        self, user_id: int | None, text: str, best_score: float, *, now: datetime | None = None
    ) -> None:
        await self._write(
            "INSERT INTO unanswered_questions (user_id, text, best_score, created_at) "
            "VALUES (?, ?, ?, ?)",
            (user_id, text, best_score, _ts(now)),
        )

    async def unanswered(self, *, limit: int = 100) -> list[tuple[str, float, datetime]]:
        """Newest first: what curators review."""
        rows = await self._fetchall(
            "SELECT text, best_score, created_at FROM unanswered_questions "
            "ORDER BY created_at DESC, id DESC LIMIT ?",
            (limit,),
        )
        return [(text, score, _dt(ts)) for text, score, ts in rows]

    async def purge(self, *, now: datetime | None = None, keep: timedelta = RETENTION) -> int:
        cutoff = _ts((now or datetime.now(UTC)) - keep)
        async with self._writing():
            await self._db.execute("BEGIN IMMEDIATE")
            try:
                total = 0
                for table in ("unanswered_questions", "pending_questions", "message_log"):
                    cursor = await self._db.execute(
                        f"DELETE FROM {table} WHERE created_at < ?",  # noqa: S608 - fixed names
                        (cutoff,),
                    )
                    total += max(cursor.rowcount, 0)
                moment = now or datetime.now(UTC)
                for stale, age in (
                    ("DELETE FROM last_meals WHERE created_at < ?", MEAL_RETENTION),
                    ("DELETE FROM dialogues WHERE updated_at < ?", MEAL_RETENTION),
                    ("DELETE FROM processed_updates WHERE created_at < ?", UPDATE_RETENTION),
                ):
                    cursor = await self._db.execute(stale, (_ts(moment - age),))
                    total += max(cursor.rowcount, 0)
                await self._db.execute("COMMIT")
            except BaseException:
                await self._rollback()
                raise
        if total:
            log.info("purged %d rows older than %d days", total, keep.days)
        return total

    # questionnaire --------------------------------------------------------------------------

    async def save_session(
        self,
        user_id: int,
        chat_id: int,
        state: Mapping[str, Any],
        message_id: int | None,
        *,
        now: datetime | None = None,
    ) -> None:
        await self._write(
            """
            INSERT INTO check_sessions (user_id, chat_id, state, message_id, updated_at)
            VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (user_id, chat_id) DO UPDATE SET
                state = excluded.state,
                message_id = excluded.message_id,
                updated_at = excluded.updated_at
            """,
            (user_id, chat_id, json.dumps(dict(state)), message_id, _ts(now)),
        )

    async def load_session(self, user_id: int, chat_id: int) -> Session | None:
        row = await self._fetchone(
            "SELECT user_id, chat_id, state, message_id, updated_at FROM check_sessions "
            "WHERE user_id = ? AND chat_id = ?",
            (user_id, chat_id),
        )
        if row is None:
            return None
        return Session(row[0], row[1], json.loads(row[2]), row[3], _dt(row[4]))

    async def delete_session(self, user_id: int, chat_id: int) -> bool:
        cursor = await self._write(
            "DELETE FROM check_sessions WHERE user_id = ? AND chat_id = ?", (user_id, chat_id)
        )
        return cursor.rowcount > 0

    async def save_dialogue(
        self, user_id: int, chat_id: int, state: Mapping[str, Any], *, now: datetime | None = None
    ) -> None:
        await self._write(
            """
            INSERT INTO dialogues (user_id, chat_id, state, updated_at) VALUES (?, ?, ?, ?)
            ON CONFLICT (user_id, chat_id) DO UPDATE SET
                state = excluded.state, updated_at = excluded.updated_at
            """,
            (user_id, chat_id, json.dumps(dict(state)), _ts(now)),
        )

    async def load_dialogue(self, user_id: int, chat_id: int) -> dict[str, Any] | None:
        row = await self._fetchone(
            "SELECT state FROM dialogues WHERE user_id = ? AND chat_id = ?", (user_id, chat_id)
        )
        if row is None:
            return None
        try:
            state = json.loads(row[0])
        except ValueError:
            return None
        return state if isinstance(state, dict) else None

    async def add_result(
        self, user_id: int, result: Mapping[str, Any], *, now: datetime | None = None
    ) -> int:
        cursor = await self._write(
            "INSERT INTO check_results (user_id, result, created_at) VALUES (?, ?, ?)",
            (user_id, json.dumps(dict(result)), _ts(now)),
        )
        return int(cursor.lastrowid or 0)

    async def latest_result(self, user_id: int) -> Result | None:
        row = await self._fetchone(
            "SELECT id, user_id, result, created_at FROM check_results WHERE user_id = ? "
            "ORDER BY created_at DESC, id DESC LIMIT 1",
            (user_id,),
        )
        if row is None:
            return None
        return Result(row[0], row[1], json.loads(row[2]), _dt(row[3]))

    # personal tools -------------------------------------------------------------------------

    async def set_life_stage(
        self, user_id: int, life_stage: str | None, *, now: datetime | None = None
    ) -> None:
        await self._write(
            """
            INSERT INTO user_profiles (user_id, life_stage, updated_at) VALUES (?, ?, ?)
            ON CONFLICT (user_id) DO UPDATE SET
                life_stage = excluded.life_stage,
                updated_at = excluded.updated_at
            """,
            (user_id, life_stage, _ts(now)),
        )

    async def get_life_stage(self, user_id: int) -> str | None:
        row = await self._fetchone(
            "SELECT life_stage FROM user_profiles WHERE user_id = ?", (user_id,)
        )
        return None if row is None else row[0]

    async def save_last_meal(self, user_id: int, text: str, *, now: datetime | None = None) -> None:
        await self._write(
            """
            INSERT INTO last_meals (user_id, text, created_at) VALUES (?, ?, ?)
            ON CONFLICT (user_id) DO UPDATE SET
                text = excluded.text,
                created_at = excluded.created_at
            """,
            (user_id, text, _ts(now)),
        )

    async def last_meal(
        self, user_id: int, *, now: datetime | None = None, keep: timedelta = MEAL_RETENTION
    ) -> str | None:
        row = await self._fetchone(
            "SELECT text FROM last_meals WHERE user_id = ? AND created_at >= ?",
            (user_id, _ts((now or datetime.now(UTC)) - keep)),
        )
        return None if row is None else str(row[0])
