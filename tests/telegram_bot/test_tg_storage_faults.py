"""The database refuses writes while the bot runs: questions are still answered, a check
answer is refused with a clear message, the outage is logged once, and it heals by itself.

The bot runs against the fake Bot API server with a real SQLite file. The fault is SQLite's
own SQLITE_READONLY on the bot's connection (`PRAGMA query_only`): tests run as root, for
whom chmod cannot make a file read-only.
"""

from __future__ import annotations

import logging

import pytest
from botharness import RunningBot
from checkharness import Mirror, Person, data_of

from bot.core.check import CheckEngine, State
from bot.core.engine import Engine
from bot.storage import SQLiteStorage
from bot.telegram import texts


def storage_of(bot: RunningBot) -> SQLiteStorage:
    storage = bot.service.storage
    assert isinstance(storage, SQLiteStorage)
    return storage


def answers(bot: RunningBot, user_id: int) -> list[tuple[str, tuple[str, ...]]]:
    [(raw,)] = bot.rows("SELECT state FROM check_sessions WHERE user_id = ?", (user_id,))
    state = State.from_json(raw)
    assert state is not None
    return [(a.q, a.o) for a in state.answers]


async def test_a_read_only_database_keeps_answers_going_and_recovers(
    bot: RunningBot, engine: Engine, check: CheckEngine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    ann, bob = Person(bot.fake, 7101), Person(bot.fake, 7102)
    mirror = Mirror(check)
    [message] = await ann.say("/check")
    check_id = message["message_id"]
    await ann.tap(check_id, "No")
    mirror.tap("No")
    saved = answers(bot, ann.id)
    assert len(saved) == 1

    await storage_of(bot).set_read_only(True)
    # Questions are answered: by a new user (whose user row cannot be written)…
    question = "why do I get cramps at night"
    [reply] = await bob.say(question)
    assert reply["html"] == engine.ask(question).text
    # …and by the user in the middle of the check (the reply comes without its button).
    await ann.say("/privacy")
    # A check answer cannot be saved: the user is told, and the check does not move on.
    edits = ann.edits()
    await ann.press(check_id, data_of(ann.message(check_id), "No"))
    sent = await ann.fake.wait_sent(ann.id, 3)
    assert sent[-1]["html"] == engine.message(texts.CANNOT_SAVE)
    assert ann.edits() == edits  # nothing acknowledged the answer as saved
    assert ann.message(check_id)["html"] == mirror.reply().text
    [reply] = (await bob.say("/privacy"))[-1:]
    assert reply["html"] == engine.message(texts.PRIVACY)
    assert answers(bot, ann.id) == saved

    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1, [r.getMessage() for r in errors]
    assert "readonly" in errors[0].getMessage()

    # The fault clears: the same tap now saves and moves the check on, with no restart.
    await storage_of(bot).set_read_only(False)
    await ann.tap(check_id, "No")
    mirror.tap("No")
    assert ann.message(check_id)["html"] == mirror.reply().text
    assert len(answers(bot, ann.id)) == 2
    assert len([r for r in caplog.records if r.levelno >= logging.ERROR]) == 1
    assert sum("database recovered" in r.getMessage() for r in caplog.records) == 1
    # Bookkeeping is written again too.
    await bob.say("/about")
    await bot.fake.wait_for(
        lambda: bot.rows("SELECT 1 FROM users WHERE user_id = ?", (bob.id,)), "bob's user row"
    )
