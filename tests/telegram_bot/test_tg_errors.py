"""End to end: how the bot survives Telegram's errors and its own."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from botharness import RunningBot, make_settings, start_bot
from fake_telegram import FakeTelegram
from pydantic import SecretStr

from bot.core.engine import Engine
from bot.telegram import texts
from bot.telegram.send import send_html
from bot.telegram.service import Service
from bot.telegram.split import utf16_len

QUESTION = "why do I get cramps at night"


async def test_a_user_who_blocked_the_bot_is_marked_blocked(bot: RunningBot) -> None:
    fake = bot.fake
    ann = fake.user(2001)
    fake.fail("sendMessage", 403, "Forbidden: bot was blocked by the user", chat_id=2001)
    await fake.send_text(ann, QUESTION)
    await fake.wait_for(
        lambda: bot.rows("SELECT blocked FROM users WHERE user_id = 2001") == [(1,)],
        "user 2001 marked blocked",
    )
    # Writing again means they unblocked us.
    await fake.send_text(ann, QUESTION)
    await fake.wait_sent(2001, 1)
    assert bot.rows("SELECT blocked FROM users WHERE user_id = 2001") == [(0,)]


async def test_block_and_unblock_via_chat_member_updates(bot: RunningBot) -> None:
    fake = bot.fake
    ann = fake.user(2002)
    await fake.send_text(ann, QUESTION)
    await fake.wait_sent(2002, 1)
    await fake.set_member_status(ann, "kicked")
    await fake.wait_for(
        lambda: bot.rows("SELECT blocked FROM users WHERE user_id = 2002") == [(1,)],
        "blocked",
    )
    await fake.set_member_status(ann, "member")
    await fake.wait_for(
        lambda: bot.rows("SELECT blocked FROM users WHERE user_id = 2002") == [(0,)],
        "unblocked",
    )
    assert len(fake.sent(2002)) == 1  # nothing is sent for these updates


async def test_an_unexpected_error_tells_the_user_and_is_logged_once(
    bot: RunningBot, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    fake = bot.fake
    fake.fail("sendMessage", 400, "Bad Request: can't parse entities: boom", chat_id=2003)
    caplog.set_level(logging.INFO)
    await fake.send_text(fake.user(2003), QUESTION)
    [reply] = await fake.wait_sent(2003, 1)
    assert reply["html"] == engine.message(texts.SOMETHING_WRONG)
    update_id = fake.calls_to("getUpdates")[-1].params["offset"] - 1
    failures = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(failures) == 1
    assert f"update {update_id} failed" in failures[0].getMessage()
    # The next message is answered normally.
    await fake.send_text(fake.user(2003), QUESTION)
    sent = await fake.wait_sent(2003, 2)
    assert sent[-1]["html"] == engine.ask(QUESTION).text


async def test_network_errors_while_polling_are_survived(bot: RunningBot, engine: Engine) -> None:
    fake = bot.fake
    fake.fail("getUpdates", 502, "Bad Gateway", times=2)
    await fake.send_text(fake.user(2004), QUESTION)
    [reply] = await fake.wait_sent(2004, 1)
    assert reply["html"] == engine.ask(QUESTION).text
    assert len(fake.calls_to("getUpdates", ok=False)) == 2


async def test_retry_after_is_respected_and_the_message_delivered(
    bot: RunningBot, engine: Engine
) -> None:
    fake = bot.fake
    fake.fail("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1, chat_id=2005)
    await fake.send_text(fake.user(2005), QUESTION)
    [reply] = await fake.wait_sent(2005, 1)
    assert reply["html"] == engine.ask(QUESTION).text
    assert len(fake.calls_to("sendMessage", ok=False)) == 1


async def test_long_html_is_sent_in_parts_telegram_accepts(fake: FakeTelegram) -> None:
    """send_html through python-telegram-bot's real Bot against the fake, which refuses
    messages over 4096 characters and HTML it cannot parse."""
    from telegram.constants import ParseMode
    from telegram.ext import Defaults, ExtBot

    ann = fake.user(2006)
    fake.private_chat(ann)
    paragraph = (
        "<b>Night cramps</b> are common &amp; usually harmless. "
        + "<i>Stretch</i> the calf, <a href='https://example.org/x'>read more</a>. " * 12
    )
    long_html = (
        "\n\n".join([paragraph] * 40) + "\n\n<blockquote>" + "word " * 3000 + "</blockquote>"
    )
    assert utf16_len(long_html) > 3 * 4096
    defaults = Defaults(parse_mode=ParseMode.HTML)
    async with ExtBot(fake.token, base_url=fake.base_url, defaults=defaults) as bot:
        await send_html(bot, 2006, long_html)
    assert not fake.calls_to("sendMessage", ok=False)
    assert {c.params["parse_mode"] for c in fake.calls_to("sendMessage")} == {"HTML"}
    parts = fake.sent(2006)
    assert len(parts) >= 4
    assert all(utf16_len(p["html"]) <= 4096 for p in parts)
    shown = " ".join(p["text"] for p in parts).split()
    assert shown == fake_visible_words(long_html)


def fake_visible_words(html: str) -> list[str]:
    from fake_telegram import visible_text

    return visible_text(html).split()


async def test_a_token_telegram_rejects_exits_with_code_2(
    engine: Engine, fake: FakeTelegram, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(fake, tmp_path / "bot.sqlite3")
    settings.telegram_bot_token = SecretStr("987654321:SOMEONE-ELSES-token-000000000000")
    assert await Service(settings, engine).run() == 2
    assert "rejected TELEGRAM_BOT_TOKEN" in caplog.text


async def test_telegram_unreachable_at_start_up_is_retried(
    engine: Engine, fake: FakeTelegram, tmp_path: Path
) -> None:
    fake.fail("getMe", 502, "Bad Gateway", times=2)
    fake.fail("deleteWebhook", 502, "Bad Gateway")
    running = await start_bot(engine, make_settings(fake, tmp_path / "bot.sqlite3"), fake)
    try:
        await fake.send_text(fake.user(2007), QUESTION)
        [reply] = await fake.wait_sent(2007, 1)
        assert reply["html"] == engine.ask(QUESTION).text
        assert len(fake.calls_to("getMe", ok=False)) == 2
    finally:
        assert await running.stop() == 0


async def test_an_unusable_database_exits_with_code_1(
    engine: Engine, fake: FakeTelegram, tmp_path: Path
) -> None:
    (tmp_path / "file").write_text("not a folder")
    settings = make_settings(fake, tmp_path / "file" / "bot.sqlite3")
    assert await Service(settings, engine).run() == 1
    assert not fake.calls  # it stopped before talking to Telegram
