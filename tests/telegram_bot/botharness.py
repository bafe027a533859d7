"""The harness the Telegram end-to-end tests share: settings for a bot that talks to the fake
Bot API server, and a bot running in this process (`Service`, the same object
`python -m bot serve` runs). Fixtures live in conftest.py; helpers here, so test modules
import them by a name no other conftest.py can shadow.
"""

from __future__ import annotations

import asyncio
import socket
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fake_telegram import FakeTelegram

from bot.core.engine import Engine
from bot.settings import Settings, load_settings
from bot.telegram.service import Service

ADMIN_ID = 4242


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
        """Read the bot's database the way an operator would: a separate connection."""
        with closing(sqlite3.connect(self.db)) as db:
            return list(db.execute(sql, params))

    async def stop(self) -> int:
        self.service.stop()
        return await asyncio.wait_for(self.task, 30)


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
    return RunningBot(service, task, settings.database_path, fake)


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
