"""What only the PostgreSQL backend has: its migrations, URLs, outages, and `storage copy`."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest
from pgserver import PostgresServer

from bot.storage import SQLiteStorage, StorageError, StorageUnavailable, open_storage, parse_url
from bot.storage.migrations import MIGRATIONS, POSTGRES_MIGRATIONS, TABLES, Migration
from bot.storage.postgres import PostgresStorage

NOW = datetime(2025, 6, 15, 12, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[1]


async def _tables(url: str) -> set[str]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    finally:
        await conn.close()
    return {row[0] for row in rows}


def test_both_backends_have_the_same_migrations_and_tables() -> None:
    assert [m.version for m in MIGRATIONS] == [m.version for m in POSTGRES_MIGRATIONS]
    assert [m.description for m in MIGRATIONS] == [m.description for m in POSTGRES_MIGRATIONS]
    for migration in POSTGRES_MIGRATIONS:
        created = {
            s.split()[2] for s in migration.statements if s.split()[:2] == ["CREATE", "TABLE"]
        }
        assert created <= set(TABLES)


async def test_opens_at_the_latest_schema_with_every_table(postgres: PostgresServer) -> None:
    url = await postgres.new_database()
    storage = await open_storage(url)
    try:
        assert isinstance(storage, PostgresStorage)
        assert await storage.schema_version() == max(m.version for m in POSTGRES_MIGRATIONS)
    finally:
        await storage.close()
    assert set(TABLES) | {"schema_version"} == await _tables(url)


async def test_migrations_apply_in_order_once_and_a_failing_one_leaves_the_previous(
    postgres: PostgresServer,
) -> None:
    url = await postgres.new_database()
    v1 = Migration(1, "one", ("CREATE TABLE a (x INTEGER)",))
    v2 = Migration(2, "two", ("ALTER TABLE a ADD COLUMN y TEXT",))
    bad = Migration(3, "bad", ("CREATE TABLE c (x INTEGER)", "THIS IS NOT SQL"))
    await (await PostgresStorage.open(url, migrations=[v1])).close()
    storage = await PostgresStorage.open(url, migrations=[v2, v1])
    assert await storage.schema_version() == 2
    await storage.close()
    with pytest.raises(StorageError, match="syntax error"):
        await PostgresStorage.open(url, migrations=[v1, v2, bad])
    storage = await PostgresStorage.open(url, migrations=[v1, v2])
    assert await storage.schema_version() == 2
    await storage.close()
    assert "c" not in await _tables(url)


async def test_replicas_starting_together_migrate_once(postgres: PostgresServer) -> None:
    url = await postgres.new_database()
    storages = await asyncio.gather(*(PostgresStorage.open(url) for _ in range(4)))
    try:
        conn = await asyncpg.connect(url)
        try:
            assert await conn.fetchval("SELECT COUNT(*) FROM schema_version") == 1
        finally:
            await conn.close()
    finally:
        for storage in storages:
            await storage.close()


async def test_refuses_a_database_newer_than_the_code(postgres: PostgresServer) -> None:
    url = await postgres.new_database()
    await (await PostgresStorage.open(url)).close()
    conn = await asyncpg.connect(url)
    await conn.execute("UPDATE schema_version SET version = 99")
    await conn.close()
    with pytest.raises(StorageError, match="newer"):
        await PostgresStorage.open(url)


async def test_an_unreachable_server_is_a_storage_error_after_the_patience() -> None:
    with pytest.raises(StorageError, match="cannot open") as raised:
        await PostgresStorage.open("postgresql://bot:hunter2@127.0.0.1:9/bot", patience=1.0)
    assert "hunter2" not in str(raised.value)  # the password never reaches a message


@pytest.mark.parametrize(
    ("url", "backend", "target"),
    [
        ("sqlite:///data/bot.sqlite3", "sqlite", "data/bot.sqlite3"),
        ("sqlite:////var/lib/bot.db", "sqlite", "/var/lib/bot.db"),
        ("postgresql://bot:pw@db:5432/bot", "postgresql", "postgresql://bot:pw@db:5432/bot"),
        ("postgres://bot@db/bot", "postgresql", "postgresql://bot@db/bot"),
    ],
)
def test_database_urls(url: str, backend: str, target: str) -> None:
    parsed = parse_url(url)
    assert (parsed.backend, parsed.target) == (backend, target)


@pytest.mark.parametrize("url", ["mysql://x/y", "sqlite://relative", "postgresql://", "db.sqlite"])
def test_bad_database_urls(url: str) -> None:
    with pytest.raises(ValueError, match=r"sqlite|postgresql://user"):
        parse_url(url)


async def test_a_server_that_goes_away_is_an_outage_logged_once_and_it_recovers(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A server of its own, stopped and started again under the open storage."""
    server = PostgresServer().start()
    try:
        storage = await PostgresStorage.open(server.url())
        caplog.set_level(logging.INFO)
        await storage.touch_user(1, "en", now=NOW)
        server._run(str(server.bin / "pg_ctl"), "-D", str(server.data), "-m", "fast", "stop")
        for _ in range(3):
            with pytest.raises(StorageUnavailable):
                await storage.save_session(1, 1, {"a": 1}, None)
        async with storage.applying(1, 77) as fresh:  # answers go on without the database
            assert fresh
        errors = [
            r
            for r in caplog.records
            if r.name == "bot.storage.fault" and r.levelno >= logging.ERROR
        ]
        assert len(errors) == 1
        server.start_again()
        for _ in range(50):
            try:
                await storage.save_session(1, 1, {"a": 2}, None)
                break
            except StorageUnavailable:
                await asyncio.sleep(0.2)
        session = await storage.load_session(1, 1)
        assert session is not None and session.state == {"a": 2}
        assert any("recovered" in r.getMessage() for r in caplog.records)
        await storage.close()
    finally:
        server.stop()


async def _fill(storage: SQLiteStorage | PostgresStorage) -> None:
    await storage.touch_user(1, "en", now=NOW)
    await storage.touch_user(2, None, now=NOW)
    await storage.set_blocked(2, True)
    await storage.log_message(1, 1, "answer", "food_lookup", now=NOW)
    await storage.save_session(1, 1, {"step": 3, "answers": {"q": "yes"}}, 55, now=NOW)
    await storage.add_result(1, {"level": "possible"}, now=NOW)
    await storage.record_unanswered(1, "is coffee ok", 20.5, now=NOW)
    await storage.save_pending_question(1, 1, "tea?", 12.0, now=NOW)
    await storage.set_life_stage(1, "adult", now=NOW)
    await storage.save_last_meal(1, "2 eggs", now=NOW)
    await storage.save_dialogue(1, 1, {"last_intent": "food_lookup"}, now=NOW)
    async with storage.applying(1, 900):
        pass


async def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )


async def test_storage_copy_moves_every_row_from_sqlite_to_postgresql_and_back(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    source = tmp_path / "old.sqlite3"
    sqlite = await SQLiteStorage.open(source)
    await _fill(sqlite)
    before = {table: sorted(await sqlite.export_rows(table)) for table in TABLES}
    await sqlite.close()
    url = await postgres.new_database()
    command = ("storage", "copy", f"sqlite:///{source}", url)
    done = await _run(*command)
    assert done.returncode == 0, done.stderr
    assert "users: 2 rows" in done.stdout

    pg = await PostgresStorage.open(url)
    try:
        assert {t: sorted(await pg.export_rows(t)) for t in TABLES} == before
        session = await pg.load_session(1, 1)
        assert session is not None and session.state["answers"] == {"q": "yes"}
        new_id = await pg.add_result(1, {"level": "unlikely"}, now=NOW)  # counters moved on
        assert new_id > max(row[0] for row in before["check_results"])
        async with pg.applying(1, 900) as fresh:
            assert not fresh  # the processed updates came along too
    finally:
        await pg.close()

    again = await _run(*command)
    assert again.returncode == 1 and "not empty" in again.stderr  # never merges two bots

    back = tmp_path / "back.sqlite3"
    done = await _run("storage", "copy", url, str(back))
    assert done.returncode == 0, done.stderr
    sqlite = await SQLiteStorage.open(back)
    try:
        assert len(await sqlite.export_rows("check_results")) == 2
    finally:
        await sqlite.close()


def test_storage_copy_with_a_bad_url_is_a_one_line_error(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot", "storage", "copy", "mysql://x/y", str(tmp_path / "a.db")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stderr.strip().count("\n") == 0 and "storage copy failed" in done.stderr
