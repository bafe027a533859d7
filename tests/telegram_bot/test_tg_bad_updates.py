"""Updates python-telegram-bot cannot parse must not stop the bot from getting the others.

PTB 22.8 parses a getUpdates batch as a whole: one update it cannot parse (a message without
`date`, a field of the wrong type) makes every poll fail on the same batch, forever, and no
later update is ever seen. bot/telegram/updates.py parses each update on its own and replaces
a broken one by its bare update_id, so the offset moves past it. These tests run the real
bot against the fake Bot API server; without the fix they time out (bounded waits).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botharness import RunningBot, make_settings, start_bot
from fake_telegram import FakeTelegram

from bot.core.engine import Engine
from bot.telegram import texts
from bot.telegram.updates import SkipLog, sanitise_batch

QUESTION = "why do I get cramps at night"
PRIVATE_WORDS = "my private words 7741"  # in every broken update: must never be logged
PATIENCE = 15.0  # bounded: without the fix the bot never gets past the broken update


def broken_message(fake: FakeTelegram, user_id: int) -> dict[str, Any]:
    return fake.text_message(fake.user(user_id), PRIVATE_WORDS)


def no_date(fake: FakeTelegram) -> dict[str, Any]:
    message = broken_message(fake, 8101)
    del message["date"]
    return {"message": message}


def date_of_wrong_type(fake: FakeTelegram) -> dict[str, Any]:
    return {"message": {**broken_message(fake, 8102), "date": "yesterday"}}


def chat_of_wrong_type(fake: FakeTelegram) -> dict[str, Any]:
    return {"message": {**broken_message(fake, 8103), "chat": PRIVATE_WORDS}}


def callback_query_without_id(fake: FakeTelegram) -> dict[str, Any]:
    message = fake.text_message(fake.user(8104), "/start")
    query = {"from": fake.user(8104), "chat_instance": "ci", "message": message}
    return {"callback_query": {**query, "data": PRIVATE_WORDS}}


BROKEN: list[Callable[[FakeTelegram], dict[str, Any]]] = [
    no_date,
    date_of_wrong_type,
    chat_of_wrong_type,
    callback_query_without_id,
]


def skip_warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "bot.telegram.updates"]


def assert_nothing_logged_of_the_content(caplog: pytest.LogCaptureFixture) -> None:
    for record in caplog.records:
        assert PRIVATE_WORDS not in record.getMessage()
        assert record.exc_info is None or PRIVATE_WORDS not in str(record.exc_info[1])
    assert not [r for r in caplog.records if r.levelno >= logging.CRITICAL]


@pytest.mark.parametrize("broken", BROKEN, ids=lambda f: f.__name__)
async def test_an_unparsable_update_between_two_good_ones_is_skipped(
    bot: RunningBot,
    engine: Engine,
    caplog: pytest.LogCaptureFixture,
    broken: Callable[[FakeTelegram], dict[str, Any]],
) -> None:
    caplog.set_level(logging.INFO)
    fake = bot.fake
    await fake.send_text(fake.user(8001), QUESTION)
    bad = await fake.enqueue(broken(fake))
    await fake.send_text(fake.user(8002), "/privacy")
    good = fake.last_update_id

    [first] = await fake.wait_sent(8001, 1, patience=PATIENCE)
    [second] = await fake.wait_sent(8002, 1, patience=PATIENCE)
    assert first["html"] == engine.ask(QUESTION).text
    assert second["html"] == engine.message(texts.PRIVACY)
    await fake.wait_confirmed(good, patience=PATIENCE)  # the offset moved past both
    assert fake.confirmed_offset > bad

    [warning] = skip_warnings(caplog)
    assert warning.levelno == logging.WARNING
    assert f"update {bad} skipped" in warning.getMessage()
    assert_nothing_logged_of_the_content(caplog)
    assert not fake.calls_to("sendMessage", ok=False)
    assert {m["chat"]["id"] for m in fake.sent()} == {8001, 8002}  # none for the broken one


async def test_a_batch_ending_in_unparsable_updates_is_confirmed(
    engine: Engine, fake: FakeTelegram, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """All in the first getUpdates batch (queued before the bot starts), the last ones broken:
    their bare update ids carry the offset past them."""
    caplog.set_level(logging.INFO)
    await fake.send_text(fake.user(8011), QUESTION)
    bad = [await fake.enqueue(make(fake)) for make in BROKEN]
    running = await start_bot(engine, make_settings(fake, tmp_path / "bot.sqlite3"), fake)
    try:
        await fake.wait_confirmed(bad[-1], patience=PATIENCE)
        [reply] = await fake.wait_sent(8011, 1, patience=PATIENCE)
        assert reply["html"] == engine.ask(QUESTION).text
        first_poll = fake.calls_to("getUpdates")[0]
        assert [u["update_id"] for u in first_poll.result] == [1, *bad]  # one batch
        await fake.send_text(fake.user(8012), QUESTION)  # and the bot goes on answering
        await fake.wait_sent(8012, 1, patience=PATIENCE)
    finally:
        assert await running.stop() == 0
    warnings = [r.getMessage() for r in skip_warnings(caplog)]
    assert len(warnings) == len(bad)
    for update_id, message in zip(bad, warnings, strict=True):
        assert f"update {update_id} skipped" in message
    assert_nothing_logged_of_the_content(caplog)


def test_sanitise_batch_keeps_good_updates_and_logs_each_broken_one_once(
    fake: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    good = {"update_id": 5, "message": fake.text_message(fake.user(1), "hi")}
    bad = {"update_id": 6, **no_date(fake)}
    batch = [good, bad, {"no": "update_id"}, {"update_id": "7"}, "junk", {"update_id": 8}]
    skips = SkipLog()
    caplog.set_level(logging.INFO)
    for _ in range(3):  # the same batch fetched again (not yet confirmed): logged once
        cleaned = sanitise_batch(batch, skips)
        assert cleaned == [good, {"update_id": 6}, {"update_id": 8}]
        assert cleaned[0] is good
    messages = [r.getMessage() for r in skip_warnings(caplog)]
    assert messages == [
        "update 6 skipped: python-telegram-bot cannot parse it (KeyError)",
        "an update without an integer update_id was left out",
    ]


def test_the_fake_still_sends_parsable_messages(fake: FakeTelegram) -> None:
    """Guard for the tests above: the good updates really parse, the broken ones really not."""
    from telegram import Update

    Update.de_json({"update_id": 1, "message": fake.text_message(fake.user(1), "x")}, None)
    for make in BROKEN:
        with pytest.raises(Exception):  # noqa: B017 - PTB raises whatever the data provokes
            Update.de_json({"update_id": 2, **make(fake)}, None)
