"""End to end, webhook mode: the bot serves the webhook itself and checks the secret."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from botharness import RunningBot, free_port, make_settings, start_bot
from fake_telegram import FakeTelegram
from pgserver import PostgresServer

from bot.core.engine import Engine
from bot.telegram import health
from bot.telegram.webhook import SECRET_HEADER

SECRET = "s3cret_webhook-TOKEN"  # noqa: S105 - made up
QUESTION = "why do I get cramps at night"


@pytest.fixture
async def hooked(engine: Engine, fake: FakeTelegram, tmp_path: Path) -> AsyncIterator[RunningBot]:
    port = free_port()
    settings = make_settings(
        fake,
        tmp_path / "bot.sqlite3",
        MODE="webhook",
        WEBHOOK_URL=f"http://127.0.0.1:{port}/telegram/hook",
        WEBHOOK_SECRET=SECRET,
        WEBHOOK_LISTEN="127.0.0.1",
        WEBHOOK_PORT=str(port),
    )
    running = await start_bot(engine, settings, fake)
    try:
        yield running
    finally:
        assert await running.stop() == 0


def url(bot: RunningBot, path: str = "/telegram/hook") -> str:
    return f"http://127.0.0.1:{bot.service.settings.webhook_port}{path}"


async def post(bot: RunningBot, update: Any, secret: str | None) -> int:
    headers = {SECRET_HEADER: secret} if secret is not None else {}
    async with (
        aiohttp.ClientSession() as session,
        session.post(url(bot), json=update, headers=headers) as response,
    ):
        return response.status


def update(fake: FakeTelegram, update_id: int, user_id: int, text: str) -> dict[str, Any]:
    return {"update_id": update_id, "message": fake.text_message(fake.user(user_id), text)}


async def test_the_webhook_is_registered_with_the_secret(hooked: RunningBot) -> None:
    fake = hooked.fake
    assert fake.webhook["url"] == url(hooked)
    assert fake.webhook["secret_token"] == SECRET
    assert "message" in fake.webhook["allowed_updates"]
    assert not fake.calls_to("getUpdates", ok=None)


async def test_updates_with_the_right_secret_are_processed(
    hooked: RunningBot, engine: Engine
) -> None:
    fake = hooked.fake
    assert await post(hooked, update(fake, 1, 3001, QUESTION), SECRET) == 200
    [reply] = await fake.wait_sent(3001, 1)
    assert reply["html"] == engine.ask(QUESTION).text


@pytest.mark.parametrize("secret", [None, "", "wrong", SECRET[:-1], SECRET + "x", SECRET.upper()])
async def test_a_wrong_or_missing_secret_is_refused_and_nothing_processed(
    hooked: RunningBot, engine: Engine, secret: str | None
) -> None:
    fake = hooked.fake
    assert await post(hooked, update(fake, 10, 3002, QUESTION), secret) == 403
    # Barrier: a good update for another chat is processed; the refused one never was.
    assert await post(hooked, update(fake, 11, 3003, QUESTION), SECRET) == 200
    await fake.wait_sent(3003, 1)
    assert fake.sent(3002) == []
    assert hooked.rows("SELECT user_id FROM users") == [(3003,)]


async def test_garbage_with_the_right_secret_is_rejected(hooked: RunningBot) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.post(url(hooked), data=b"{not json", headers={SECRET_HEADER: SECRET}) as response,
    ):
        assert response.status == 400
    assert await post(hooked, ["not", "an", "update"], SECRET) == 400


async def test_other_paths_are_not_served(hooked: RunningBot) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.post(url(hooked, "/other"), json={}, headers={SECRET_HEADER: SECRET}) as r,
    ):
        assert r.status == 404


async def test_healthz_answers(hooked: RunningBot) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.get(url(hooked, "/healthz")) as response,
    ):
        assert response.status == 200
        assert await response.json() == {"status": "ok"}
    # The container health check agrees (heartbeat file and /healthz).
    assert await _health(hooked) is None


async def _health(bot: RunningBot) -> str | None:
    return await asyncio.to_thread(health.check, bot.service.settings)


async def test_an_unparsable_update_is_confirmed_and_skipped(
    hooked: RunningBot, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    """A message without `date` cannot be parsed by python-telegram-bot. Anything but a 2xx
    would make Telegram deliver it again and again, holding back the updates behind it: it is
    answered 200, logged once by its update_id (not its content) and not processed."""
    caplog.set_level(logging.INFO)
    fake = hooked.fake
    broken = update(fake, 30, 3010, "my private words 7741")
    del broken["message"]["date"]
    assert await post(hooked, broken, SECRET) == 200
    assert await post(hooked, broken, SECRET) == 200  # delivered again: still logged once
    assert await post(hooked, update(fake, 31, 3011, QUESTION), SECRET) == 200
    [reply] = await fake.wait_sent(3011, 1)
    assert reply["html"] == engine.ask(QUESTION).text
    assert fake.sent(3010) == []
    skipped = [r for r in caplog.records if r.name == "bot.telegram.updates"]
    assert [(r.levelno, r.getMessage()) for r in skipped] == [
        (logging.WARNING, "update 30 skipped: python-telegram-bot cannot parse it (KeyError)")
    ]
    assert not any("my private words" in r.getMessage() for r in caplog.records)


# -- replicas: answered once applied, redeliveries skipped, readiness, start-up once -----------


async def test_a_post_is_answered_once_its_update_is_applied(hooked: RunningBot) -> None:
    """200 means done: the reply was sent before the POST returned (no waiting here)."""
    fake = hooked.fake
    assert await post(hooked, update(fake, 40, 3020, QUESTION), SECRET) == 200
    assert len(fake.sent(3020)) == 1
    assert hooked.rows("SELECT COUNT(*) FROM message_log WHERE user_id = 3020") == [(1,)]


async def test_a_redelivered_update_is_confirmed_and_not_applied_again(
    hooked: RunningBot,
) -> None:
    fake = hooked.fake
    assert await post(hooked, update(fake, 41, 3021, QUESTION), SECRET) == 200
    again = {"update_id": 41, "message": fake.text_message(fake.user(3021), QUESTION)}
    assert await post(hooked, again, SECRET) == 200  # Telegram retried: confirm, skip
    assert len(fake.sent(3021)) == 1
    assert hooked.rows("SELECT COUNT(*) FROM message_log WHERE user_id = 3021") == [(1,)]


async def _get(bot: RunningBot, path: str) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as session, session.get(url(bot, path)) as response:
        return response.status, await response.json()


async def test_readyz_answers_while_the_database_does(hooked: RunningBot) -> None:
    assert await _get(hooked, "/readyz") == (200, {"status": "ready"})


async def _webhook_bot(
    engine: Engine, fake: FakeTelegram, tmp_path: Path, database_url: str
) -> RunningBot:
    port = free_port()
    settings = make_settings(
        fake,
        tmp_path / f"{port}" / "bot.sqlite3",
        MODE="webhook",
        WEBHOOK_URL="https://bot.example/telegram/hook",
        WEBHOOK_SECRET=SECRET,
        WEBHOOK_LISTEN="127.0.0.1",
        WEBHOOK_PORT=str(port),
        DATABASE_URL=database_url,
    )
    return await start_bot(engine, settings, fake)


async def test_replicas_set_the_webhook_and_the_menu_once(
    engine: Engine, fake: FakeTelegram, tmp_path: Path, postgres: PostgresServer
) -> None:
    database = await postgres.new_database()
    bots = await asyncio.gather(*(_webhook_bot(engine, fake, tmp_path, database) for _ in range(3)))
    try:
        assert len(fake.calls_to("setWebhook")) == 1
        assert len(fake.calls_to("setMyCommands", ok=None)) == 2  # public + the admin's
        # The same deploy restarting: nothing to do, but Telegram is asked whether the
        # webhook is still ours; someone deleted it meanwhile, so it is set again.
        fake.webhook = {}
        bots.append(await _webhook_bot(engine, fake, tmp_path, database))
        assert len(fake.calls_to("setWebhook")) == 2
        assert len(fake.calls_to("setMyCommands", ok=None)) == 2
    finally:
        for bot in bots:
            assert await bot.stop() == 0


async def test_readyz_fails_while_postgresql_is_down_and_healthz_does_not(
    engine: Engine, fake: FakeTelegram, tmp_path: Path
) -> None:
    server = PostgresServer().start()
    try:
        bot = await _webhook_bot(engine, fake, tmp_path, server.url())
        server._run(str(server.bin / "pg_ctl"), "-D", str(server.data), "-m", "fast", "stop")
        status, body = await _get(bot, "/readyz")
        assert (status, body) == (503, {"status": "not ready", "problem": "database unavailable"})
        assert (await _get(bot, "/healthz"))[0] == 200  # alive: no reason to restart it
        server.start_again()
        for _ in range(100):
            if (await _get(bot, "/readyz"))[0] == 200:
                break
            await asyncio.sleep(0.1)
        assert await _get(bot, "/readyz") == (200, {"status": "ready"})
        assert await bot.stop() == 0
    finally:
        server.stop()


async def test_sigterm_finishes_the_update_in_flight_and_takes_no_new_one(
    hooked: RunningBot, engine: Engine
) -> None:
    """Stopping (SIGTERM, as a rolling deploy does): the update being applied finishes and its
    POST is answered 200 — so Telegram does not deliver it again — while the server no longer
    accepts new requests, which the load balancer then sends to another replica."""
    fake = hooked.fake
    hold = fake.hold("sendMessage")
    in_flight = asyncio.create_task(post(hooked, update(fake, 50, 3030, QUESTION), SECRET))
    await asyncio.wait_for(hold.arrived.wait(), 20)
    hooked.service.stop()
    await asyncio.sleep(0.3)  # the server has begun to shut down
    with pytest.raises(aiohttp.ClientError):
        await post(hooked, update(fake, 51, 3031, QUESTION), SECRET)
    hold.release.set()
    assert await asyncio.wait_for(in_flight, 20) == 200
    assert [m["html"] for m in fake.sent(3030)] == [engine.ask(QUESTION).text]
    assert await asyncio.wait_for(hooked.task, 30) == 0
    assert fake.sent(3031) == []
