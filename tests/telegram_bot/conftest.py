"""Fixtures for the Telegram end-to-end tests: a fake Bot API server and the real bot.

The bot runs either in this process or as a real subprocess; in both cases it reaches the
fake over HTTP on 127.0.0.1 through python-telegram-bot's own HTTP stack, with a real
SQLite file in tmp_path — or, in modules marked `BOTH_BACKENDS`, once on SQLite and once on
a database of the test session's real PostgreSQL server.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from botharness import RunningBot, make_settings, start_bot
from fake_telegram import FakeTelegram

from bot.content.questionnaire import load_questionnaire
from bot.core.check import CheckEngine
from bot.core.engine import Engine
from bot.telegram.service import content_dir


@pytest.fixture(scope="session")
def engine() -> Engine:
    return Engine.load(content_dir())


@pytest.fixture(scope="session")
def check() -> CheckEngine:
    """The B12 check's state machine, loaded from the same content as the bot's."""
    return CheckEngine(load_questionnaire(content_dir()))


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    server = await FakeTelegram().start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """ "sqlite" unless a module asks for both (`pytestmark = BOTH_BACKENDS`)."""
    return str(getattr(request, "param", "sqlite"))


@pytest.fixture
async def bot(
    engine: Engine,
    fake: FakeTelegram,
    tmp_path: Path,
    backend: str,
    request: pytest.FixtureRequest,
) -> AsyncIterator[RunningBot]:
    extra = {}
    if backend == "postgresql":
        extra["DATABASE_URL"] = await request.getfixturevalue("postgres").new_database()
    settings = make_settings(fake, tmp_path / "bot.sqlite3", **extra)
    running = await start_bot(engine, settings, fake)
    try:
        yield running
    finally:
        if not running.task.done():
            assert await running.stop() == 0
