"""The harness the Telegram end-to-end tests share: settings for a bot that talks to the fake
Bot API server, and a bot running in this process (`Service`, the same object
`python -m bot serve` runs). Fixtures live in conftest.py; helpers here, so test modules
import them by a name no other conftest.py can shadow.
"""

from __future__ import annotations

import asyncio
import re
import socket
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from fake_telegram import FakeTelegram

from bot.core.engine import Engine
from bot.settings import Settings, load_settings
from bot.telegram.service import Service

ADMIN_ID = 4242
#: `pytestmark = BOTH_BACKENDS`: every test of the module that uses the `bot` fixture runs
#: on SQLite and on PostgreSQL.
BOTH_BACKENDS = pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bot_env(fake: FakeTelegram, db: Path, **extra: str) -> dict[str, str]:
    """Environment variables for a bot that talks to `fake` (as strings, as in a shell)."""
    return {
        "TELEGRAM_BOT_TOKEN": fake.token,
        "TELEGRAM_API_BASE_URL": fake.base_url,
        "DATABASE_PATH": str(db),
        "ADMIN_IDS": str(ADMIN_ID),
        "LOG_LEVEL": "INFO",
        "MODE": "polling",
        **extra,
    }


def make_settings(fake: FakeTelegram, db: Path, **extra: str) -> Settings:
    fields = {k.lower(): v for k, v in bot_env(fake, db, **extra).items()}
    return load_settings(_env_file=None, **fields)


@dataclass
class RunningBot:
    service: Service
    task: asyncio.Task[int]
    db: Path
    fake: FakeTelegram

    def rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Read the bot's database the way an operator would: a separate connection (to the
        SQLite file, or to the PostgreSQL database when the bot runs on one)."""
        url = self.service.settings.database_url
        if url is not None:
            return postgres_rows(url.get_secret_value(), sql, params)
        with closing(sqlite3.connect(self.db)) as db:
            return list(db.execute(sql, params))

    async def stop(self) -> int:
        self.service.stop()
        return await asyncio.wait_for(self.task, 30)

    async def settled(self, patience: float = 2.0) -> None:
        """Wait (a little, at most) until no update is being applied: on PostgreSQL an
        update's state commits when its handlers are done, just after its reply was sent.
        Bounded, because a test may be holding one of the bot's calls on purpose."""
        application = self.service.application
        if application is None:
            return
        processor = application.update_processor
        deadline = time.monotonic() + patience
        while time.monotonic() < deadline:
            busy = getattr(processor, "active_chats", 0)
            if not busy and application.update_queue.empty():
                return
            await asyncio.sleep(0.005)


def postgres_rows(url: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """`rows` on PostgreSQL: SQLite's ? placeholders become $1, $2, …; run on a thread of its
    own, since the caller's event loop is busy running the bot."""
    numbered = iter(range(1, 1000))
    query = re.sub(r"\?", lambda _: f"${next(numbered)}", sql)

    async def fetch() -> list[tuple[Any, ...]]:
        conn = await asyncpg.connect(url)
        try:
            return [tuple(row) for row in await conn.fetch(query, *params)]
        finally:
            await conn.close()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, fetch()).result(timeout=30)


async def start_bot(engine: Engine, settings: Settings, fake: FakeTelegram) -> RunningBot:
    service = Service(settings, engine)
    task = asyncio.create_task(service.run())
    ready = asyncio.create_task(service.ready.wait())
    done, _ = await asyncio.wait({task, ready}, timeout=30, return_when=asyncio.FIRST_COMPLETED)
    if ready not in done:
        ready.cancel()
        if task.done():
            raise AssertionError(f"bot exited during start-up with {task.result()}")
        raise AssertionError("bot did not start")
    running = RunningBot(service, task, settings.database_path, fake)
    if settings.database_url is not None:
        fake.settle = running.settled
    return running


# Messages of which at least one gets a fallback with did-you-mean suggestions; the engine is
# tuned on the evaluation file, so tests pick the first that does rather than pin one.
FALLBACK_WITH_SUGGESTIONS = [
    "cramps b12 tiredness",
    "b12 cramps maybe",
    "leg",
    "what is the capital of france",
    "tell me about the weather tomorrow",
    "vitamin stuff and legs",
    "muscles",
    "sore muscles after sleeping",
]
