"""Both backends through the `Storage` interface: schema, migrations, every repository method.

`store` runs each test on a real SQLite file and on a real PostgreSQL server started for the
test session (tests/pgserver.py); `sqlite_store` is for what only SQLite has (its file, WAL,
read-only files and full disks).
"""

from __future__ import annotations

import ast
import asyncio
import logging
import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fsfaults import ReadOnly
from pgserver import PostgresServer

from bot.storage import (
    MEAL_RETENTION,
    RETENTION,
    SQLiteStorage,
    Storage,
    StorageError,
    StorageUnavailable,
    open_storage,
)
from bot.storage.migrations import MIGRATIONS, Migration

NOW = datetime(2025, 6, 15, 12, 0, tzinfo=UTC)
STORAGE_DIR = Path(__file__).resolve().parents[1] / "bot" / "storage"


@pytest.fixture
async def sqlite_store(tmp_path: Path) -> SQLiteStorage:
    storage = await SQLiteStorage.open(tmp_path / "sub" / "bot.sqlite3")
    yield storage
    await storage.close()


@pytest.fixture(params=["sqlite", "postgresql"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    if request.param == "sqlite":
        storage: Storage = await SQLiteStorage.open(tmp_path / "sub" / "bot.sqlite3")
    else:
        server: PostgresServer = request.getfixturevalue("postgres")
        storage = await open_storage(await server.new_database())
    yield storage
    await storage.close()


async def test_opens_in_wal_mode_at_the_latest_schema(
    sqlite_store: SQLiteStorage, tmp_path: Path
) -> None:
    assert await sqlite_store.journal_mode() == "wal"
    assert await sqlite_store.schema_version() == max(m.version for m in MIGRATIONS)
    with closing(sqlite3.connect(tmp_path / "sub" / "bot.sqlite3")) as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {
        "users",
        "message_log",
        "check_sessions",
        "check_results",
        "unanswered_questions",
        "pending_questions",
    } <= tables


async def test_satisfies_the_storage_protocol(store: Storage) -> None:
    assert isinstance(store, Storage)


async def test_open_storage_is_the_configured_backend(tmp_path: Path) -> None:
    storage = await open_storage(tmp_path / "x.sqlite3")
    try:
        assert isinstance(storage, SQLiteStorage)
    finally:
        await storage.close()


async def test_migrations_apply_in_order_once_and_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "m.sqlite3"
    v1 = Migration(1, "one", ("CREATE TABLE a (x INTEGER)",))
    v2 = Migration(2, "two", ("ALTER TABLE a ADD COLUMN y TEXT", "CREATE TABLE b (z INTEGER)"))
    storage = await SQLiteStorage.open(path, migrations=[v1])
    await storage.close()
    storage = await SQLiteStorage.open(path, migrations=[v2, v1])  # order given does not matter
    assert await storage.schema_version() == 2
    await storage.close()
    storage = await SQLiteStorage.open(path, migrations=[v1, v2])  # nothing to do: no error
    await storage.close()
    with closing(sqlite3.connect(path)) as db:
        assert [r[1] for r in db.execute("PRAGMA table_info(a)")] == ["x", "y"]


async def test_a_failing_migration_leaves_the_previous_version(tmp_path: Path) -> None:
    path = tmp_path / "m.sqlite3"
    v1 = Migration(1, "one", ("CREATE TABLE a (x INTEGER)",))
    bad = Migration(2, "bad", ("CREATE TABLE c (x INTEGER)", "THIS IS NOT SQL"))
    await (await SQLiteStorage.open(path, migrations=[v1])).close()
    with pytest.raises(StorageError, match="syntax error"):
        await SQLiteStorage.open(path, migrations=[v1, bad])
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("PRAGMA user_version").fetchone() == (1,)
        assert db.execute("SELECT name FROM sqlite_master WHERE name = 'c'").fetchall() == []


async def test_refuses_a_database_newer_than_the_code(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite3"
    with closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA user_version = 99")
    with pytest.raises(StorageError, match="newer"):
        await SQLiteStorage.open(path)


async def test_users_first_and_last_seen_language_and_blocked(store: Storage) -> None:
    assert await store.get_user(1) is None
    await store.touch_user(1, "en", now=NOW)
    await store.touch_user(1, None, now=NOW + timedelta(hours=2))
    user = await store.get_user(1)
    assert user is not None
    assert (user.first_seen, user.last_seen) == (NOW, NOW + timedelta(hours=2))
    assert user.language_code == "en"  # an update without a language keeps the known one
    assert not user.blocked
    await store.set_blocked(1, True)
    assert (await store.get_user(1)).blocked  # type: ignore[union-attr]
    await store.touch_user(1, "de", now=NOW + timedelta(days=1))  # they wrote again
    user = await store.get_user(1)
    assert user is not None and not user.blocked and user.language_code == "de"


async def test_pending_questions_are_taken_once_and_only_by_their_chat(
    store: Storage,
) -> None:
    pending_id = await store.save_pending_question(7, 70, "is coffee bad <b>?", 42.5, now=NOW)
    assert pending_id > 0
    assert await store.take_pending_question(pending_id, 71) is None  # another chat
    taken = await store.take_pending_question(pending_id, 70)
    assert taken is not None
    assert (taken.user_id, taken.chat_id, taken.text, taken.best_score) == (
        7,
        70,
        "is coffee bad <b>?",
        42.5,
    )
    assert taken.created_at == NOW
    assert await store.take_pending_question(pending_id, 70) is None  # only once


async def test_sql_injection_is_just_text(store: Storage) -> None:
    evil = "x'); DROP TABLE users; --"
    await store.record_unanswered(1, evil, 10.0, now=NOW)
    await store.touch_user(1, evil, now=NOW)
    assert [text for text, _, _ in await store.unanswered()] == [evil]
    assert (await store.get_user(1)).language_code == evil  # type: ignore[union-attr]


async def test_purge_removes_questions_older_than_90_days(store: Storage) -> None:
    old = NOW - RETENTION - timedelta(minutes=1)
    await store.record_unanswered(1, "old", 10.0, now=old)
    await store.record_unanswered(1, "new", 10.0, now=NOW - timedelta(days=89))
    await store.save_pending_question(1, 1, "old pending", 10.0, now=old)
    await store.log_message(1, 1, "answer", "x", now=old)
    assert await store.purge(now=NOW) == 3
    assert [text for text, _, _ in await store.unanswered()] == ["new"]
    assert await store.purge(now=NOW) == 0


async def test_stats(store: Storage) -> None:
    yesterday, last_week = NOW - timedelta(days=1), NOW - timedelta(days=8)
    await store.touch_user(1, "en", now=NOW)
    await store.touch_user(2, "en", now=NOW)
    await store.set_blocked(2, True)
    for kind, when in [
        ("answer", NOW),
        ("food", NOW),
        ("fallback", NOW),
        ("command", NOW),
        ("urgent", yesterday),
        ("fallback", yesterday),
        ("answer", last_week),  # outside the 7 days
    ]:
        await store.log_message(1, 1, kind, now=when)
    for text in ["Is coffee OK?", "is coffee ok? ", "what about tea", "Is coffee OK?"]:
        await store.record_unanswered(1, text, 20.0, now=NOW)
    stats = await store.stats(now=NOW)
    assert (stats.users, stats.blocked_users) == (2, 1)
    assert (stats.messages_today, stats.messages_7d) == (4, 6)
    assert (stats.questions_7d, stats.answered_7d) == (5, 3)
    assert stats.answered_share == pytest.approx(0.6)
    assert stats.top_unanswered[0][1] == 3
    assert stats.top_unanswered[0][0].lower().startswith("is coffee ok")
    assert stats.top_unanswered[1] == ("what about tea", 1)


async def test_stats_top_is_limited(store: Storage) -> None:
    for n in range(15):
        await store.record_unanswered(1, f"question {n}", 1.0, now=NOW)
    assert len((await store.stats(now=NOW)).top_unanswered) == 10
    assert (await store.stats(now=NOW)).answered_share is None


async def test_questionnaire_sessions_and_results(store: Storage) -> None:
    assert await store.load_session(1, 10) is None
    await store.save_session(1, 10, {"step": 1, "answers": {"q1": "yes"}}, 555, now=NOW)
    await store.save_session(1, 10, {"step": 2, "answers": {"q1": "yes", "q2": "no"}}, 555)
    session = await store.load_session(1, 10)
    assert session is not None
    assert session.state == {"step": 2, "answers": {"q1": "yes", "q2": "no"}}
    assert session.message_id == 555
    assert await store.load_session(1, 11) is None  # per chat
    assert await store.delete_session(1, 10) is True
    assert await store.delete_session(1, 10) is False

    assert await store.latest_result(1) is None
    await store.add_result(1, {"level": "possible"}, now=NOW - timedelta(days=1))
    await store.add_result(1, {"level": "worth_checking"}, now=NOW)
    result = await store.latest_result(1)
    assert result is not None and result.result == {"level": "worth_checking"}


async def test_forget_user_deletes_only_that_user(store: Storage) -> None:
    for user in (1, 2):
        await store.touch_user(user, "en", now=NOW)
        await store.log_message(user, user, "answer", now=NOW)
        await store.record_unanswered(user, f"q{user}", 1.0, now=NOW)
        await store.save_pending_question(user, user, f"p{user}", 1.0, now=NOW)
        await store.save_session(user, user, {"s": user}, None, now=NOW)
        await store.add_result(user, {"r": user}, now=NOW)
    await store.forget_user(1)
    assert await store.get_user(1) is None
    assert await store.load_session(1, 1) is None
    assert await store.latest_result(1) is None
    assert [t for t, _, _ in await store.unanswered()] == ["q2"]
    stats = await store.stats(now=NOW)
    assert (stats.users, stats.messages_today) == (1, 1)
    assert await store.get_user(2) is not None
    assert await store.latest_result(2) is not None


async def test_concurrent_writers_do_not_interleave_transactions(store: Storage) -> None:
    async def user(n: int) -> None:
        await store.touch_user(n, "en", now=NOW)
        await store.log_message(n, n, "answer", now=NOW)
        if n % 2:
            await store.forget_user(n)

    await asyncio.gather(*(user(n) for n in range(50)))
    assert (await store.stats(now=NOW)).users == 25


async def test_data_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    storage = await SQLiteStorage.open(path)
    await storage.touch_user(9, "en", now=NOW)
    await storage.close()
    storage = await SQLiteStorage.open(path)
    try:
        user = await storage.get_user(9)
        assert user is not None and user.first_seen == NOW
    finally:
        await storage.close()


async def test_an_unusable_path_is_a_storage_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(StorageError, match="cannot open"):
        await SQLiteStorage.open(blocker / "bot.sqlite3")
    (tmp_path / "junk.sqlite3").write_bytes(b"this is not a database" * 100)
    with pytest.raises(StorageError):
        await SQLiteStorage.open(tmp_path / "junk.sqlite3")


def test_storage_imports_nothing_else_from_bot() -> None:
    for path in STORAGE_DIR.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert not name.startswith("bot.") or name.startswith("bot.storage"), (
                    f"{path.name} imports {name}"
                )


def test_no_sql_outside_storage() -> None:
    """SQL lives in bot/storage only, so another backend can replace it."""
    root = STORAGE_DIR.parent
    keywords = ("SELECT ", "INSERT INTO", "DELETE FROM", "CREATE TABLE", "UPDATE users")
    for path in root.rglob("*.py"):
        if STORAGE_DIR in path.parents:
            continue
        text = path.read_text(encoding="utf-8")
        for keyword in keywords:
            assert keyword not in text, f"{path.relative_to(root)} contains {keyword!r}"


async def test_life_stage_is_remembered_per_user_and_forgotten(store: Storage) -> None:
    assert await store.get_life_stage(1) is None
    await store.set_life_stage(1, "pregnancy", now=NOW)
    await store.set_life_stage(2, "adult", now=NOW)
    await store.set_life_stage(1, "lactation", now=NOW)  # a new choice replaces the old one
    assert await store.get_life_stage(1) == "lactation"
    await store.forget_user(1)
    assert await store.get_life_stage(1) is None
    assert await store.get_life_stage(2) == "adult"


async def test_last_meal_is_short_lived_purged_and_forgotten(store: Storage) -> None:
    await store.save_last_meal(1, "2 eggs", now=NOW - timedelta(hours=2))
    await store.save_last_meal(1, "3 oz salmon", now=NOW)  # one per user: the latest
    await store.save_last_meal(2, "milk", now=NOW - MEAL_RETENTION - timedelta(minutes=1))
    assert await store.last_meal(1, now=NOW) == "3 oz salmon"
    assert await store.last_meal(2, now=NOW) is None  # too old to re-count
    assert await store.purge(now=NOW) == 1
    await store.forget_user(1)
    assert await store.last_meal(1, now=NOW) is None


# -- outages: read-only database, full disk ----------------------------------------------------


def _outage_logs(caplog: pytest.LogCaptureFixture) -> tuple[list[str], list[str]]:
    records = [r for r in caplog.records if r.name == "bot.storage.fault"]
    errors = [r.getMessage() for r in records if r.levelno >= logging.ERROR]
    recovered = [r.getMessage() for r in records if "recovered" in r.getMessage()]
    return errors, recovered


async def test_a_full_disk_is_an_outage_logged_once_and_it_recovers(
    sqlite_store: SQLiteStorage, caplog: pytest.LogCaptureFixture
) -> None:
    """SQLite's own SQLITE_FULL (max_page_count), not a mock: writes fail, reads go on."""
    caplog.set_level(logging.INFO)
    await sqlite_store.touch_user(1, "en", now=NOW)
    await sqlite_store.limit_pages(0)
    failures = 0
    for n in range(200):  # each row needs a fresh page; the first one cannot get it
        try:
            await sqlite_store.record_unanswered(1, f"{n} " + "x" * 5000, 0.1, now=NOW)
        except StorageUnavailable as error:
            assert "full" in str(error)
            failures += 1
    assert failures > 1
    with pytest.raises(StorageUnavailable):  # a transaction rolls back cleanly, too
        await sqlite_store.add_result(1, {"text": "y" * 20_000}, now=NOW)
    assert await sqlite_store.get_user(1) is not None  # reads still work
    errors, recovered = _outage_logs(caplog)
    assert len(errors) == 1 and "full" in errors[0]
    assert recovered == []

    await sqlite_store.limit_pages(None)
    await sqlite_store.record_unanswered(1, "after the disk was freed", 0.1, now=NOW)
    await sqlite_store.forget_user(2)  # a transaction works again
    errors, recovered = _outage_logs(caplog)
    assert len(errors) == 1 and len(recovered) == 1
    assert next(t for t, _, _ in await sqlite_store.unanswered()) == "after the disk was freed"


async def test_a_read_only_database_is_an_outage_and_a_bug_is_not(
    sqlite_store: SQLiteStorage, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    await sqlite_store.set_read_only(True)
    for _ in range(3):
        with pytest.raises(StorageUnavailable, match="readonly"):
            await sqlite_store.save_session(1, 1, {"a": 1}, None, now=NOW)
    with pytest.raises(StorageUnavailable):
        await sqlite_store.forget_user(1)
    with pytest.raises(StorageUnavailable):
        await sqlite_store.purge(now=NOW)
    assert await sqlite_store.load_session(1, 1) is None
    assert len(_outage_logs(caplog)[0]) == 1
    await sqlite_store.set_read_only(False)
    await sqlite_store.save_session(1, 1, {"a": 1}, None, now=NOW)
    assert (await sqlite_store.load_session(1, 1)) is not None
    assert len(_outage_logs(caplog)[1]) == 1
    # A wrong statement is a bug: it stays a plain sqlite3 error, not an outage.
    with pytest.raises(sqlite3.OperationalError) as raised:
        await sqlite_store._write("INSERT INTO no_such_table VALUES (1)")
    assert not isinstance(raised.value, StorageUnavailable)


# -- a database that already refuses writes when it is opened ----------------------------------


async def test_a_database_read_only_at_start_opens_and_recovers_when_writable(
    tmp_path: Path, read_only: ReadOnly, caplog: pytest.LogCaptureFixture
) -> None:
    """A read-only file (immutable for root, no write bits otherwise; not a mock): SQLite opens
    it read-only and keeps that connection read-only, so the storage must reopen it once the
    file can be written — with no restart."""
    caplog.set_level(logging.INFO)
    path = tmp_path / "bot.sqlite3"
    storage = await SQLiteStorage.open(path)
    await storage.touch_user(1, "en", now=NOW)
    await storage.record_unanswered(1, "old", 1.0, now=NOW - RETENTION - timedelta(days=1))
    await storage.close()

    read_only(path)
    storage = await SQLiteStorage.open(path)  # the schema is current: it opens
    try:
        assert await storage.get_user(1) is not None  # reads work
        for _ in range(3):
            with pytest.raises(StorageUnavailable, match="readonly"):
                await storage.touch_user(2, "en", now=NOW)
        with pytest.raises(StorageUnavailable):
            await storage.purge(now=NOW)
        with pytest.raises(StorageUnavailable):
            await storage.forget_user(1)
        errors, recovered = _outage_logs(caplog)
        assert len(errors) == 1 and "readonly" in errors[0]
        assert recovered == []

        read_only.clear()  # the fault clears: the next write reopens and works
        await storage.touch_user(2, "en", now=NOW)
        assert await storage.purge(now=NOW) == 1
        await storage.forget_user(1)
        errors, recovered = _outage_logs(caplog)
        assert len(errors) == 1 and len(recovered) == 1
        assert sum("reopened" in r.getMessage() for r in caplog.records) == 1
        assert await storage.journal_mode() == "wal"
    finally:
        await storage.close()
    with closing(sqlite3.connect(path)) as db:  # really in the file, not just in a cache
        assert db.execute("SELECT user_id FROM users").fetchall() == [(2,)]
        assert db.execute("SELECT COUNT(*) FROM unanswered_questions").fetchone() == (0,)


async def test_a_database_not_in_wal_mode_and_read_only_at_start_still_opens(
    tmp_path: Path, read_only: ReadOnly
) -> None:
    """Switching to WAL is itself a write: refused on a read-only file, it must not stop the
    start (a copy restored in rollback-journal mode); the reopened connection switches."""
    path = tmp_path / "bot.sqlite3"
    await (await SQLiteStorage.open(path)).close()
    with closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA journal_mode=DELETE")
    read_only(path)
    storage = await SQLiteStorage.open(path)
    try:
        assert await storage.journal_mode() == "delete"
        with pytest.raises(StorageUnavailable):
            await storage.touch_user(1, "en", now=NOW)
        read_only.clear()
        await storage.touch_user(1, "en", now=NOW)
        assert await storage.journal_mode() == "wal"
    finally:
        await storage.close()


async def test_a_read_only_database_that_needs_migrating_is_refused(
    tmp_path: Path, read_only: ReadOnly
) -> None:
    path = tmp_path / "old.sqlite3"
    v1 = Migration(1, "one", ("CREATE TABLE a (x INTEGER)",))
    v2 = Migration(2, "two", ("CREATE TABLE b (y INTEGER)",))
    await (await SQLiteStorage.open(path, migrations=[v1])).close()
    read_only(path)
    with pytest.raises(StorageError, match=r"cannot migrate .* from schema version 1 to 2") as e:
        await SQLiteStorage.open(path, migrations=[v1, v2])
    assert isinstance(e.value, StorageUnavailable)
    assert "refuses writes" in str(e.value)
    read_only.clear()
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("PRAGMA user_version").fetchone() == (1,)


async def test_a_read_only_folder_without_the_wal_index_is_a_storage_error(
    tmp_path: Path, read_only: ReadOnly
) -> None:
    """A whole read-only volume: SQLite cannot even read a WAL database whose -shm it cannot
    create, so the database cannot be used at all (the bot exits 1)."""
    folder = tmp_path / "data"
    await (await SQLiteStorage.open(folder / "bot.sqlite3")).close()
    read_only(folder / "bot.sqlite3", folder)
    with pytest.raises(StorageError, match="cannot prepare"):
        await SQLiteStorage.open(folder / "bot.sqlite3")
