"""Start-up on a database that refuses writes: the bot starts if the schema is current,
answers questions, tells a user their check answer cannot be saved, logs the outage once and
recovers by itself when the file becomes writable — no restart. A database it cannot use
(one that needs migrating but refuses writes, or cannot be read at all) stops it with exit
code 1 before it talks to Telegram.

The fault is real (tests/fsfaults.py): the SQLite file is made immutable (root) or loses its
write bits (any other user), so SQLite itself opens it read-only, as on a read-only volume.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from botharness import bot_env, make_settings, start_bot
from checkharness import Mirror, Person, data_of
from fake_telegram import FakeTelegram
from fsfaults import ReadOnly
from test_tg_process import BotProcess, clean_env, rows

from bot.core.check import CheckEngine, State
from bot.core.engine import Engine
from bot.storage import RETENTION, SQLiteStorage
from bot.storage.migrations import MIGRATIONS
from bot.telegram import texts
from bot.telegram.service import Service

QUESTION = "why do I get cramps at night"


def errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_bot_started_on_a_read_only_database_answers_and_recovers(
    engine: Engine,
    check: CheckEngine,
    fake: FakeTelegram,
    tmp_path: Path,
    read_only: ReadOnly,
    caplog: pytest.LogCaptureFixture,
) -> None:
    db = tmp_path / "bot.sqlite3"
    settings = make_settings(fake, db)
    ann, bob = Person(fake, 7301), Person(fake, 7302)
    mirror = Mirror(check)

    def answers() -> list[tuple[str, tuple[str, ...]]]:
        [(raw,)] = first.rows("SELECT state FROM check_sessions WHERE user_id = ?", (ann.id,))
        state = State.from_json(raw)
        assert state is not None
        return [(a.q, a.o) for a in state.answers]

    # A first run: Ann starts a check and answers one question; then the bot is stopped.
    first = await start_bot(engine, settings, fake)
    [message] = await ann.say("/check")
    check_id = message["message_id"]
    await ann.tap(check_id, "No")
    mirror.tap("No")
    assert await first.stop() == 0
    storage = await SQLiteStorage.open(db)  # and a question due for the start-up purge
    old = datetime.now(UTC) - RETENTION - timedelta(days=1)
    await storage.record_unanswered(None, "an old question", 1.0, now=old)
    await storage.close()
    saved = answers()
    assert len(saved) == 1

    # The volume turns read-only; the bot is started again on it.
    read_only(db)
    caplog.clear()
    caplog.set_level(logging.INFO)
    second = await start_bot(engine, settings, fake)
    try:
        [error] = errors(caplog)  # the refused purge: the outage, logged once
        assert "readonly" in error
        assert any("not purged at start-up" in r.getMessage() for r in caplog.records)

        [reply] = await bob.say(QUESTION)  # a question is answered
        assert reply["html"] == engine.ask(QUESTION).text
        edits = ann.edits()
        await ann.press(check_id, data_of(ann.message(check_id), "No"))  # a check answer is not
        sent = await fake.wait_sent(ann.id, 2)
        assert sent[-1]["html"] == engine.message(texts.CANNOT_SAVE)
        assert ann.edits() == edits  # nothing pretended the answer was saved
        assert ann.message(check_id)["html"] == mirror.reply().text
        [reply] = (await bob.say("/privacy"))[-1:]
        assert reply["html"] == engine.message(texts.PRIVACY)
        assert answers() == saved
        assert len(errors(caplog)) == 1

        # The fault clears: the same tap is saved and moves the check on, with no restart.
        read_only.clear()
        await ann.tap(check_id, "No")
        mirror.tap("No")
        assert ann.message(check_id)["html"] == mirror.reply().text
        assert len(answers()) == 2
        assert len(errors(caplog)) == 1
        assert sum("database recovered" in r.getMessage() for r in caplog.records) == 1
        await bob.say("/about")  # bookkeeping is written again too
        await fake.wait_for(
            lambda: second.rows("SELECT 1 FROM users WHERE user_id = ?", (bob.id,)), "bob's row"
        )
        # The old question waits for the next daily purge; nothing purged it behind our back.
        assert second.rows("SELECT text FROM unanswered_questions") == [("an old question",)]
    finally:
        assert await second.stop() == 0


async def test_serve_started_on_a_read_only_database_answers_and_recovers(
    engine: Engine, fake: FakeTelegram, tmp_path: Path, read_only: ReadOnly
) -> None:
    """The same as a real `python -m bot serve` process (its log is what an operator sees)."""
    db = tmp_path / "data" / "bot.sqlite3"
    await (await SQLiteStorage.open(db)).close()
    read_only(db)
    ann = Person(fake, 7311)
    process = await BotProcess(clean_env(**bot_env(fake, db)), tmp_path).start()
    try:
        await process.wait_log("is up")
        [reply] = await ann.say(QUESTION)
        assert reply["html"] == engine.ask(QUESTION).text
        [*_, reply] = await ann.say("/check")  # a check cannot start: it could not be saved
        assert reply["html"] == engine.message(texts.CANNOT_SAVE)

        read_only.clear()
        [*_, message] = await ann.say("/check")
        await ann.tap(message["message_id"], "No")
        assert await process.terminate() == 0
    finally:
        await process.kill()
    [(raw,)] = rows(db, "SELECT state FROM check_sessions WHERE user_id = 7311")
    state = State.from_json(raw)
    assert state is not None and len(state.answers) == 1
    logged = process.lines
    assert [line for line in logged if " ERROR " in line or " CRITICAL " in line] == [
        next(line for line in logged if "database cannot be written" in line)
    ]
    assert sum("database recovered" in line for line in logged) == 1


async def test_a_read_only_database_that_needs_migrating_exits_1(
    engine: Engine,
    fake: FakeTelegram,
    tmp_path: Path,
    read_only: ReadOnly,
    caplog: pytest.LogCaptureFixture,
) -> None:
    db = tmp_path / "bot.sqlite3"
    await (await SQLiteStorage.open(db, migrations=MIGRATIONS[:1])).close()
    read_only(db)
    caplog.set_level(logging.INFO)
    assert await Service(make_settings(fake, db), engine).run() == 1
    assert not fake.calls  # it stopped before talking to Telegram
    [error] = errors(caplog)
    assert error.startswith("database unusable: cannot migrate")
    assert "refuses writes" in error


async def test_a_database_that_cannot_be_read_exits_1(
    engine: Engine, fake: FakeTelegram, tmp_path: Path, read_only: ReadOnly
) -> None:
    """A whole read-only folder: SQLite cannot read a WAL database whose index (-shm) it
    cannot create, so there is nothing the bot could do but fail clearly."""
    db = tmp_path / "data" / "bot.sqlite3"
    await (await SQLiteStorage.open(db)).close()
    read_only(db, db.parent)
    assert await Service(make_settings(fake, db), engine).run() == 1
    assert not fake.calls
