"""The PostgreSQL implementation of `Storage`, on asyncpg: the backend for several replicas.

A pool of connections serves every method. Applying an update (`applying`) takes one
connection for the whole update: a transaction that first waits for a transaction-scoped
advisory lock on the chat id — so two updates of one chat reaching two replicas apply one
after the other — and records the update id in `processed_updates`, which a redelivered
update then finds (it is skipped). Every storage call the update's handlers make runs on that
connection, each in a savepoint, so a failed best-effort write does not abort the update's
state; the state and the processed mark commit together or not at all.

Outages (the server unreachable, shutting down, out of disk, read-only) become
`StorageUnavailable`, logged once by a `FaultLatch`, as on SQLite. The schema version lives in
a one-row table; replicas starting together migrate one at a time under an advisory lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

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
from bot.storage.fault import FaultLatch, StorageUnavailable
from bot.storage.migrations import (
    IDENTITY_TABLES,
    POSTGRES_MIGRATIONS,
    TABLES,
    USER_TABLES,
    Migration,
)

log = logging.getLogger(__name__)

#: Keys of the two-number advisory locks (a separate key space from the chat ids' one-number
#: locks): schema migrations, and start-up tasks (`once`).
_LOCKS = 0xB12
_MIGRATING, _ONCE = 1, 2
#: SQLSTATE classes that mean "the database cannot be used now": connection exceptions,
#: insufficient resources (disk full), operator intervention (shutting down), and
#: read-only transactions (a hot standby).
_OUTAGE_CLASSES = ("08", "53", "57")
_OUTAGE_STATES = frozenset({"25006"})
POOL_SIZE = 70  # the Telegram layer handles 64 updates at once, each holding one connection
CONNECT_PATIENCE = 30.0  # seconds start-up waits for a server that is still starting


def is_outage(error: BaseException) -> bool:
    """Whether `error` is an environmental fault that may clear by itself."""
    if isinstance(error, OSError | TimeoutError | asyncpg.exceptions.ConnectionDoesNotExistError):
        return True
    if isinstance(error, asyncpg.exceptions.InterfaceError):
        return "closed" in str(error)  # the pool or its connection went away
    state = getattr(error, "sqlstate", None)
    return isinstance(state, str) and (state[:2] in _OUTAGE_CLASSES or state in _OUTAGE_STATES)


def _ts(now: datetime | None) -> int:
    return int((now or datetime.now(UTC)).timestamp())


def _dt(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


class PostgresStorage:
    """`Storage` on a PostgreSQL server. Create it with `await PostgresStorage.open(url)`."""

    def __init__(self, pool: asyncpg.Pool, url: str) -> None:
        self._pool = pool
        self._where = _without_password(url)
        self._latch = FaultLatch()
        # The connection of the update this task is applying (see `applying`).
        self._pinned: contextvars.ContextVar[asyncpg.Connection | None] = contextvars.ContextVar(
            f"postgres-update-{id(self)}", default=None
        )

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        migrations: Sequence[Migration] = POSTGRES_MIGRATIONS,
        patience: float = CONNECT_PATIENCE,
        pool_size: int = POOL_SIZE,
    ) -> PostgresStorage:
        """Connect (waiting up to `patience` seconds for a server that is starting) and bring
        the schema up to date. An unreachable server, refused credentials or a failed
        migration raise `StorageError`."""
        deadline = asyncio.get_running_loop().time() + patience
        while True:
            try:
                pool = await asyncpg.create_pool(
                    url, min_size=1, max_size=pool_size, command_timeout=30
                )
                break
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
                if not is_outage(error) or asyncio.get_running_loop().time() >= deadline:
                    raise StorageError(f"cannot open {_without_password(url)}: {error}") from error
                log.warning("database not reachable yet (%s); retrying", error)
                await asyncio.sleep(1.0)
        storage = cls(pool, url)
        try:
            await storage._migrate(migrations)
        except BaseException:
            await pool.close()
            raise
        return storage

    async def close(self) -> None:
        await self._pool.close()

    async def __aenter__(self) -> PostgresStorage:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # schema ---------------------------------------------------------------------------------

    async def schema_version(self) -> int:
        async with self._pool.acquire() as conn:
            return await _version(conn)

    async def _migrate(self, migrations: Sequence[Migration]) -> None:
        latest = max((m.version for m in migrations), default=0)
        try:
            async with self._pool.acquire() as conn, conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock($1, $2)", _LOCKS, _MIGRATING)
                await conn.execute(
                    "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"
                )
                current = await _version(conn)
                if current > latest:
                    raise StorageError(
                        f"database schema version {current} is newer than this code knows "
                        f"({latest})"
                    )
                for migration in sorted(migrations, key=lambda m: m.version):
                    if migration.version <= current:
                        continue
                    log.info("applying migration %d: %s", migration.version, migration.description)
                    async with conn.transaction():  # a savepoint: each migration whole or not
                        for statement in migration.statements:
                            await conn.execute(statement)
                        await conn.execute("DELETE FROM schema_version")
                        await conn.execute(
                            "INSERT INTO schema_version (version) VALUES ($1)", migration.version
                        )
                    current = migration.version
        except asyncpg.PostgresError as error:
            raise StorageError(f"cannot migrate {self._where}: {error}") from error

    # connections ----------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def _conn(self, *, write: bool = True) -> AsyncIterator[asyncpg.Connection]:
        """A connection for one call: the applied update's own (in a savepoint, so a failure
        undoes only this call), else one from the pool. Outages become `StorageUnavailable`;
        a write that works ends one."""
        try:
            pinned = self._pinned.get()
            if pinned is not None:
                async with pinned.transaction():
                    yield pinned
            else:
                async with self._pool.acquire() as conn:
                    yield conn
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            if not is_outage(error):
                raise
            self._latch.failed(error)
            raise StorageUnavailable(str(error)) from error
        if write:
            self._latch.succeeded()

    async def _execute(self, sql: str, *args: Any) -> str:
        async with self._conn() as conn:
            return str(await conn.execute(sql, *args))

    async def _fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        async with self._conn(write=False) as conn:
            return list(await conn.fetch(sql, *args))

    async def _fetchrow(self, sql: str, *args: Any) -> asyncpg.Record | None:
        async with self._conn(write=False) as conn:
            return await conn.fetchrow(sql, *args)

    # applying updates, start-up tasks, readiness ----------------------------------------------

    async def ping(self) -> None:
        await self._fetch("SELECT 1")

    @contextlib.asynccontextmanager
    async def applying(self, chat_id: int, update_id: int) -> AsyncIterator[bool]:
        """See `Storage.applying` and the module docstring."""
        conn = transaction = None
        try:
            conn = await self._pool.acquire()
            transaction = conn.transaction()
            await transaction.start()
            await conn.execute("SELECT pg_advisory_xact_lock($1)", chat_id)
            fresh = await conn.fetchval(
                "INSERT INTO processed_updates (update_id, chat_id, created_at) "
                "VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING update_id",
                update_id,
                chat_id,
                _ts(None),
            )
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            if conn is not None:
                await self._release(conn)
            if not is_outage(error):
                raise
            self._latch.failed(error)
            conn = None
        if conn is None or transaction is None:  # the database is down: answer anyway
            yield True
            return
        try:
            if fresh is None:
                log.info("update %d was applied before: skipped", update_id)
                await transaction.rollback()
                yield False
                return
            token = self._pinned.set(conn)
            try:
                yield True
            except BaseException:
                await transaction.rollback()
                raise
            finally:
                self._pinned.reset(token)
            try:
                await transaction.commit()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
                if not is_outage(error):
                    raise
                self._latch.failed(error)
                raise StorageUnavailable(f"update {update_id} not saved: {error}") from error
        finally:
            await self._release(conn)

    async def _release(self, conn: asyncpg.Connection) -> None:
        """Give a connection back; one broken by an outage is closed by the pool."""
        with contextlib.suppress(OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            await self._pool.release(conn)

    @contextlib.asynccontextmanager
    async def once(self, key: str, fingerprint: str) -> AsyncIterator[bool]:
        """See `Storage.once`: a session advisory lock held on one connection for the block,
        so replicas starting together take turns, and the ones after the first find it done."""
        async with self._conn() as conn:
            await conn.execute("SELECT pg_advisory_lock($1, $2)", _LOCKS, _ONCE)
            try:
                done = await conn.fetchval(
                    "SELECT fingerprint FROM startup_tasks WHERE key = $1", key
                )
                due = done != fingerprint
                yield due
                if due:
                    await conn.execute(
                        """
                        INSERT INTO startup_tasks (key, fingerprint, done_at) VALUES ($1, $2, $3)
                        ON CONFLICT (key) DO UPDATE SET
                            fingerprint = excluded.fingerprint, done_at = excluded.done_at
                        """,
                        key,
                        fingerprint,
                        _ts(None),
                    )
            finally:
                await conn.execute("SELECT pg_advisory_unlock($1, $2)", _LOCKS, _ONCE)

    # copying between databases ----------------------------------------------------------------

    async def export_rows(self, table: str) -> list[tuple[Any, ...]]:
        columns = ", ".join(TABLES[table])
        rows = await self._fetch(f"SELECT {columns} FROM {table}")  # noqa: S608  # nosec B608
        return [tuple(row) for row in rows]

    async def import_rows(self, table: str, rows: Sequence[Sequence[Any]]) -> None:
        """Add rows exported by `export_rows` (from either backend) to an empty `table`, then
        move its id counter past the largest id copied."""
        columns = TABLES[table]
        async with self._conn() as conn, conn.transaction():
            await conn.copy_records_to_table(
                table, records=[tuple(row) for row in rows], columns=list(columns)
            )
            if table in IDENTITY_TABLES:
                await conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608  # nosec B608
                    f"COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
                )

    # users ----------------------------------------------------------------------------------

    async def touch_user(
        self, user_id: int, language_code: str | None, *, now: datetime | None = None
    ) -> None:
        ts = _ts(now)
        await self._execute(
            """
            INSERT INTO users (user_id, first_seen, last_seen, language_code, blocked)
            VALUES ($1, $2, $2, $3, 0)
            ON CONFLICT (user_id) DO UPDATE SET
                last_seen = excluded.last_seen,
                language_code = COALESCE(excluded.language_code, users.language_code),
                blocked = 0
            """,
            user_id,
            ts,
            language_code,
        )

    async def set_blocked(self, user_id: int, blocked: bool) -> None:
        await self._execute(
            "UPDATE users SET blocked = $1 WHERE user_id = $2", 1 if blocked else 0, user_id
        )

    async def get_user(self, user_id: int) -> User | None:
        row = await self._fetchrow(
            "SELECT user_id, first_seen, last_seen, language_code, blocked FROM users "
            "WHERE user_id = $1",
            user_id,
        )
        if row is None:
            return None
        return User(row[0], _dt(row[1]), _dt(row[2]), row[3], bool(row[4]))

    async def forget_user(self, user_id: int) -> None:
        async with self._conn() as conn, conn.transaction():
            for table in USER_TABLES:
                await conn.execute(
                    f"DELETE FROM {table} WHERE user_id = $1",  # noqa: S608  # nosec B608
                    user_id,
                )
            await conn.execute("DELETE FROM processed_updates WHERE chat_id = $1", user_id)

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
        await self._execute(
            "INSERT INTO message_log (user_id, chat_id, kind, intent, created_at) "
            "VALUES ($1, $2, $3, $4, $5)",
            user_id,
            chat_id,
            kind,
            intent,
            _ts(now),
        )

    async def stats(self, *, now: datetime | None = None, top: int = 10) -> Stats:
        moment = now or datetime.now(UTC)
        midnight = _ts(moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0))
        week_ago = _ts(moment - timedelta(days=7))
        row = await self._fetchrow(
            """
            SELECT
                (SELECT COUNT(*) FROM users),
                (SELECT COUNT(*) FROM users WHERE blocked = 1),
                (SELECT COUNT(*) FROM message_log WHERE created_at >= $1),
                (SELECT COUNT(*) FROM message_log WHERE created_at >= $2),
                (SELECT COUNT(*) FROM message_log WHERE created_at >= $2 AND kind = ANY($3)),
                (SELECT COUNT(*) FROM message_log WHERE created_at >= $2 AND kind = ANY($4))
            """,
            midnight,
            week_ago,
            sorted(QUESTION_KINDS),
            sorted(ANSWERED_KINDS),
        )
        assert row is not None  # noqa: S101 - a SELECT of aggregates always returns one row
        top_rows = await self._fetch(
            """
            SELECT MIN(text), COUNT(*) AS n FROM unanswered_questions
            GROUP BY LOWER(TRIM(text))
            ORDER BY n DESC, MAX(created_at) DESC
            LIMIT $1
            """,
            top,
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
        async with self._conn() as conn:
            return int(
                await conn.fetchval(
                    "INSERT INTO pending_questions (user_id, chat_id, text, best_score, "
                    "created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
                    user_id,
                    chat_id,
                    text,
                    best_score,
                    _ts(now),
                )
            )

    async def take_pending_question(self, pending_id: int, chat_id: int) -> PendingQuestion | None:
        async with self._conn() as conn:
            row = await conn.fetchrow(
                "DELETE FROM pending_questions WHERE id = $1 AND chat_id = $2 "
                "RETURNING id, user_id, chat_id, text, best_score, created_at",
                pending_id,
                chat_id,
            )
        if row is None:
            return None
        return PendingQuestion(row[0], row[1], row[2], row[3], row[4], _dt(row[5]))

    async def record_unanswered(
        self, user_id: int | None, text: str, best_score: float, *, now: datetime | None = None
    ) -> None:
        await self._execute(
            "INSERT INTO unanswered_questions (user_id, text, best_score, created_at) "
            "VALUES ($1, $2, $3, $4)",
            user_id,
            text,
            best_score,
            _ts(now),
        )

    async def unanswered(self, *, limit: int = 100) -> list[tuple[str, float, datetime]]:
        """Newest first: what curators review."""
        rows = await self._fetch(
            "SELECT text, best_score, created_at FROM unanswered_questions "
            "ORDER BY created_at DESC, id DESC LIMIT $1",
            limit,
        )
        return [(text, score, _dt(ts)) for text, score, ts in rows]

    async def purge(self, *, now: datetime | None = None, keep: timedelta = RETENTION) -> int:
        moment = now or datetime.now(UTC)
        statements = [
            (f"DELETE FROM {table} WHERE created_at < $1", keep)  # noqa: S608  # nosec B608
            for table in ("unanswered_questions", "pending_questions", "message_log")
        ] + [
            ("DELETE FROM last_meals WHERE created_at < $1", MEAL_RETENTION),
            ("DELETE FROM dialogues WHERE updated_at < $1", MEAL_RETENTION),
            ("DELETE FROM processed_updates WHERE created_at < $1", UPDATE_RETENTION),
        ]
        total = 0
        async with self._conn() as conn, conn.transaction():
            for sql, age in statements:
                status = await conn.execute(sql, _ts(moment - age))
                total += int(status.split()[-1])  # "DELETE <count>"
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
        await self._execute(
            """
            INSERT INTO check_sessions (user_id, chat_id, state, message_id, updated_at)
            VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT (user_id, chat_id) DO UPDATE SET
                state = excluded.state,
                message_id = excluded.message_id,
                updated_at = excluded.updated_at
            """,
            user_id,
            chat_id,
            json.dumps(dict(state)),
            message_id,
            _ts(now),
        )

    async def load_session(self, user_id: int, chat_id: int) -> Session | None:
        row = await self._fetchrow(
            "SELECT user_id, chat_id, state, message_id, updated_at FROM check_sessions "
            "WHERE user_id = $1 AND chat_id = $2",
            user_id,
            chat_id,
        )
        if row is None:
            return None
        return Session(row[0], row[1], json.loads(row[2]), row[3], _dt(row[4]))

    async def delete_session(self, user_id: int, chat_id: int) -> bool:
        status = await self._execute(
            "DELETE FROM check_sessions WHERE user_id = $1 AND chat_id = $2", user_id, chat_id
        )
        return status != "DELETE 0"

    async def save_dialogue(
        self, user_id: int, chat_id: int, state: Mapping[str, Any], *, now: datetime | None = None
    ) -> None:
        await self._execute(
            """
            INSERT INTO dialogues (user_id, chat_id, state, updated_at) VALUES ($1, $2, $3, $4)
            ON CONFLICT (user_id, chat_id) DO UPDATE SET
                state = excluded.state, updated_at = excluded.updated_at
            """,
            user_id,
            chat_id,
            json.dumps(dict(state)),
            _ts(now),
        )

    async def load_dialogue(self, user_id: int, chat_id: int) -> dict[str, Any] | None:
        row = await self._fetchrow(
            "SELECT state FROM dialogues WHERE user_id = $1 AND chat_id = $2", user_id, chat_id
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
        async with self._conn() as conn:
            return int(
                await conn.fetchval(
                    "INSERT INTO check_results (user_id, result, created_at) "
                    "VALUES ($1, $2, $3) RETURNING id",
                    user_id,
                    json.dumps(dict(result)),
                    _ts(now),
                )
            )

    async def latest_result(self, user_id: int) -> Result | None:
        row = await self._fetchrow(
            "SELECT id, user_id, result, created_at FROM check_results WHERE user_id = $1 "
            "ORDER BY created_at DESC, id DESC LIMIT 1",
            user_id,
        )
        if row is None:
            return None
        return Result(row[0], row[1], json.loads(row[2]), _dt(row[3]))

    # personal tools -------------------------------------------------------------------------

    async def set_life_stage(
        self, user_id: int, life_stage: str | None, *, now: datetime | None = None
    ) -> None:
        await self._execute(
            """
            INSERT INTO user_profiles (user_id, life_stage, updated_at) VALUES ($1, $2, $3)
            ON CONFLICT (user_id) DO UPDATE SET
                life_stage = excluded.life_stage,
                updated_at = excluded.updated_at
            """,
            user_id,
            life_stage,
            _ts(now),
        )

    async def get_life_stage(self, user_id: int) -> str | None:
        row = await self._fetchrow(
            "SELECT life_stage FROM user_profiles WHERE user_id = $1", user_id
        )
        return None if row is None else row[0]

    async def save_last_meal(self, user_id: int, text: str, *, now: datetime | None = None) -> None:
        await self._execute(
            """
            INSERT INTO last_meals (user_id, text, created_at) VALUES ($1, $2, $3)
            ON CONFLICT (user_id) DO UPDATE SET
                text = excluded.text,
                created_at = excluded.created_at
            """,
            user_id,
            text,
            _ts(now),
        )

    async def last_meal(
        self, user_id: int, *, now: datetime | None = None, keep: timedelta = MEAL_RETENTION
    ) -> str | None:
        row = await self._fetchrow(
            "SELECT text FROM last_meals WHERE user_id = $1 AND created_at >= $2",
            user_id,
            _ts((now or datetime.now(UTC)) - keep),
        )
        return None if row is None else str(row[0])


async def _version(conn: asyncpg.Connection) -> int:
    exists = await conn.fetchval("SELECT to_regclass('schema_version') IS NOT NULL")
    if not exists:
        return 0
    return int(await conn.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_version"))


def _without_password(url: str) -> str:
    """The URL for messages and logs: a password in it is replaced by ***."""
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not at or ":" not in credentials:
        return url
    user = credentials.split(":", 1)[0]
    return f"{scheme}{sep}{user}:***@{host}"
