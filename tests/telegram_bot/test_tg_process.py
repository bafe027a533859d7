"""The bot as a real process: `python -m bot serve`, killed, restarted, stopped by SIGTERM.

Each test starts the entry point exactly as `make run` and the Docker image do, against the
fake Bot API server, and reads the SQLite file the process leaves behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sqlite3
import sys
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from botharness import FALLBACK_WITH_SUGGESTIONS, bot_env
from checkharness import PROFILE, Mirror, choose, data_of
from fake_telegram import FakeTelegram

from bot.core.check import CheckEngine, State
from bot.core.engine import Engine
from bot.settings import Settings
from bot.telegram import texts

REPO = Path(__file__).resolve().parents[2]
_OURS = frozenset(name.upper() for name in Settings.model_fields)  # the bot's own variables


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k.upper() not in _OURS}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


class BotProcess:
    """`python -m bot serve` in a subprocess, its combined output collected line by line."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.env, self.cwd = env, cwd
        self.lines: list[str] = []
        self._new_line = asyncio.Event()
        self.proc: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> BotProcess:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "serve",
            env=self.env,
            cwd=self.cwd,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        self._reader = asyncio.create_task(self._read())
        return self

    async def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        async for raw in self.proc.stdout:
            self.lines.append(raw.decode("utf-8", "replace").rstrip("\n"))
            self._new_line.set()
        self._new_line.set()

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    async def wait_log(self, text: str, patience: float = 30.0) -> None:
        """Wait for a log line containing `text` (the timeout only guards against hangs)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + patience
        while not any(text in line for line in self.lines):
            assert self.proc is not None
            if self.proc.returncode is not None and self._reader and self._reader.done():
                raise AssertionError(f"bot exited ({self.proc.returncode}):\n{self.output}")
            self._new_line.clear()
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(f"no log line with {text!r}:\n{self.output}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_line.wait(), min(remaining, 0.5))

    async def wait(self, patience: float = 30.0) -> int:
        assert self.proc is not None
        code = await asyncio.wait_for(self.proc.wait(), patience)
        if self._reader is not None:
            await asyncio.wait_for(self._reader, patience)
        return code

    async def terminate(self) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return await self.wait()

    async def kill(self) -> None:
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.kill()
            await self.wait()


@pytest.fixture
async def processes() -> Any:
    started: list[BotProcess] = []

    async def launch(env: dict[str, str], cwd: Path) -> BotProcess:
        process = await BotProcess(env, cwd).start()
        started.append(process)
        return process

    yield launch
    for process in started:
        await process.kill()


def wal_size(db: Path) -> int:
    wal = Path(f"{db}-wal")
    return wal.stat().st_size if wal.exists() else 0


def rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(db)) as connection:
        return list(connection.execute(sql))


def saved_answers(db: Path, user_id: int) -> list[tuple[str, tuple[str, ...]]]:
    """The check answers stored for `user_id`, as (question, options)."""
    [(raw,)] = rows(db, f"SELECT state FROM check_sessions WHERE user_id = {int(user_id)}")  # noqa: S608
    state = State.from_json(raw)
    assert state is not None
    return [(a.q, a.o) for a in state.answers]


def keyboard(message: dict[str, Any]) -> list[tuple[str, str]]:
    rows_ = message.get("reply_markup", {}).get("inline_keyboard", [])
    return [(b["text"], b["callback_data"]) for row in rows_ for b in row]


async def test_restart_between_two_messages_loses_nothing(
    fake: FakeTelegram, engine: Engine, tmp_path: Path, processes: Any
) -> None:
    db = tmp_path / "data" / "bot.sqlite3"
    env = clean_env(**bot_env(fake, db))
    ann = fake.user(5001)
    text = next(t for t in FALLBACK_WITH_SUGGESTIONS if engine.ask(t).suggestions)

    first = await processes(env, tmp_path)
    await first.wait_log("is up")
    await fake.send_text(ann, text)
    [fallback] = await fake.wait_sent(5001, 1)
    assert fallback["html"] == engine.ask(text).text
    await fake.wait_confirmed(fake.last_update_id)
    first_seen = rows(db, "SELECT first_seen FROM users WHERE user_id = 5001")
    assert first_seen

    await first.kill()  # SIGKILL: no chance to clean up
    assert first.proc is not None and first.proc.returncode == -signal.SIGKILL

    second = await processes(env, tmp_path)
    await second.wait_log("is up")
    # The "None of these" button of the killed process still works: its question is in SQLite.
    none_data = keyboard(fallback)[-1][1]
    query = await fake.press(ann, fallback, none_data)
    await fake.wait_answered(query)
    sent = await fake.wait_sent(5001, 2)
    assert sent[-1]["html"] == engine.message(texts.NONE_RECORDED)
    question = "why do I get cramps at night"
    await fake.send_text(ann, question)
    sent = await fake.wait_sent(5001, 3)
    assert sent[-1]["html"] == engine.ask(question).text
    assert len(fake.sent(5001)) == 3  # the first message was not answered twice

    assert await second.terminate() == 0
    assert rows(db, "SELECT text FROM unanswered_questions") == [(text,)]
    assert rows(db, "SELECT first_seen FROM users WHERE user_id = 5001") == first_seen
    assert rows(db, "SELECT kind FROM message_log ORDER BY id") == [("fallback",), ("answer",)]


async def test_a_typed_check_answer_redelivered_after_a_kill_is_not_applied_twice(
    fake: FakeTelegram, check: CheckEngine, tmp_path: Path, processes: Any
) -> None:
    """The bot is SIGKILLed after it saved a typed answer but before Telegram heard it was
    received; Telegram delivers the message again to the restarted bot. Without the processed
    update ids, the old "nope" would answer the *next* question too."""
    db = tmp_path / "data" / "bot.sqlite3"
    env = clean_env(**bot_env(fake, db))
    ann = fake.user(5014)

    def edits() -> int:
        return len(fake.calls_to("editMessageText", ok=None))

    def saved() -> list[tuple[str, tuple[str, ...]]]:
        return saved_answers(db, 5014)

    first = await processes(env, tmp_path)
    await first.wait_log("is up")
    await fake.send_text(ann, "/check")
    [message] = await fake.wait_sent(5014, 1)
    key = (5014, message["message_id"])
    before = edits()
    await fake.press(ann, fake.messages[key], data_of(fake.messages[key], "No"))
    await fake.wait_for(lambda: edits() > before, "the edit after the tap")
    before = edits()
    await fake.send_text(ann, "nope")
    typed = fake.last_update_id
    await fake.wait_for(lambda: edits() > before, "the edit after the typed answer")
    await fake.wait_for(lambda: len(saved()) == 2, "the typed answer saved")
    await first.kill()

    second = await processes(env, tmp_path)
    await second.wait_log("is up")
    await fake.redeliver(typed)
    await fake.send_text(ann, "/privacy")  # a chat's updates apply in order: this one after
    await fake.wait_sent(5014, 2)
    assert await second.terminate() == 0
    assert saved() == [("rf_leg", ("no",)), ("rf_chest", ("no",))]
    assert f"update {typed} was applied before: skipped" in second.output


async def test_a_check_killed_after_an_answer_continues_after_restart(
    fake: FakeTelegram, check: CheckEngine, tmp_path: Path, processes: Any
) -> None:
    db = tmp_path / "data" / "bot.sqlite3"
    env = clean_env(**bot_env(fake, db))
    ann = fake.user(5004)
    mirror = Mirror(check)

    def edits() -> int:
        return len(fake.calls_to("editMessageText", ok=None))

    async def tap(label: str) -> str:
        before, data = edits(), data_of(fake.messages[key], label)
        await fake.press(ann, fake.messages[key], data)
        await fake.wait_for(lambda: edits() > before, f"the edit after {label!r}")
        mirror.tap(label)
        assert fake.messages[key]["html"] == mirror.reply().text
        return data

    async def type_(text: str) -> None:
        before = edits()
        await fake.send_text(ann, text)
        await fake.wait_for(lambda: edits() > before, f"the edit after {text!r}")
        mirror.type(text)
        assert fake.messages[key]["html"] == mirror.reply().text

    def saved() -> list[tuple[str, tuple[str, ...]]]:
        return saved_answers(db, 5004)

    first = await processes(env, tmp_path)
    await first.wait_log("is up")
    await fake.send_text(ann, "/check")
    [message] = await fake.wait_sent(5004, 1)
    key = (5004, message["message_id"])
    await tap("No")
    await type_("nope")
    old_press = await tap("No")
    # Telegram has been told the updates arrived (as the bot does as soon as it polls again),
    # so it does not redeliver them; then the process dies without any chance to clean up.
    await fake.wait_confirmed(fake.last_update_id)
    await first.kill()
    assert first.proc is not None and first.proc.returncode == -signal.SIGKILL
    assert saved() == [("rf_leg", ("no",)), ("rf_chest", ("no",)), ("rf_one_side", ("no",))]
    assert "Question 4 of " in fake.messages[key]["text"]

    second = await processes(env, tmp_path)
    await second.wait_log("is up")
    await tap("Not sure")  # the next tap continues at the next question…
    await type_("no")  # …and so does the next typed answer
    assert "Question 6 of " in fake.messages[key]["text"]
    # A press of an answered question (as a redelivered update would be) changes nothing.
    query = await fake.press(ann, fake.messages[key], old_press)
    await fake.wait_answered(query)
    assert await second.terminate() == 0
    assert saved() == [
        ("rf_leg", ("no",)),
        ("rf_chest", ("no",)),
        ("rf_one_side", ("no",)),
        ("rf_dark_urine", ("unsure",)),
        ("rf_heat", ("no",)),
    ]
    assert fake.messages[key]["html"] == mirror.reply().text
    assert len(fake.sent(5004)) == 1  # still the one check message


async def test_sigterm_finishes_the_update_in_flight_then_exits_0(
    fake: FakeTelegram, engine: Engine, tmp_path: Path, processes: Any
) -> None:
    db = tmp_path / "bot.sqlite3"
    process = await processes(clean_env(**bot_env(fake, db)), tmp_path)
    await process.wait_log("is up")
    hold = fake.hold("sendMessage")
    question = "why do I get cramps at night"
    await fake.send_text(fake.user(5002), question)
    await asyncio.wait_for(hold.arrived.wait(), 30)  # the reply is being sent…
    assert process.proc is not None
    process.proc.send_signal(signal.SIGTERM)  # …when the bot is told to stop
    await process.wait_log("stopping")
    hold.release.set()
    assert await process.wait() == 0
    [reply] = fake.sent(5002)
    assert reply["html"] == engine.ask(question).text
    assert fake.confirmed_offset > fake.calls_to("getUpdates")[0].params.get("offset", 0)
    assert any(line.endswith(": stopped") for line in process.lines)
    # The database was closed cleanly: its WAL was checkpointed away.
    assert wal_size(db) == 0


async def test_the_token_never_appears_in_the_logs(
    fake: FakeTelegram, tmp_path: Path, processes: Any
) -> None:
    env = clean_env(**bot_env(fake, tmp_path / "bot.sqlite3", LOG_LEVEL="DEBUG"))
    process = await processes(env, tmp_path)
    await process.wait_log("is up")
    fake.fail("sendMessage", 400, "Bad Request: can't parse entities", chat_id=5003)
    await fake.send_text(fake.user(5003), "why do I get cramps at night")
    await fake.wait_sent(5003, 1)  # "something went wrong", after a logged traceback
    fake.fail("getUpdates", 502, "Bad Gateway")
    await fake.send_text(fake.user(5003), "/privacy")
    await fake.wait_sent(5003, 2)
    assert await process.terminate() == 0
    output = process.output
    secret_part = fake.token.split(":", 1)[1]
    assert "HTTP Request: POST" in output  # httpx did log its URLs…
    assert "[REDACTED]" in output  # …with the token masked
    assert "failed" in output
    assert fake.token not in output
    assert secret_part not in output


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({}, "TELEGRAM_BOT_TOKEN"),
        ({"TELEGRAM_BOT_TOKEN": "12345:not-a-valid-token"}, "TELEGRAM_BOT_TOKEN"),
        ({"WEBHOOK_PORT": "99999"}, "WEBHOOK_PORT"),
        ({"MODE": "carrier-pigeon"}, "MODE"),
        ({"MODE": "webhook"}, "WEBHOOK_URL"),
        ({"MODE": "webhook", "WEBHOOK_URL": "https://example.org/hook"}, "WEBHOOK_SECRET"),
        ({"WEBHOOK_SECRET": "has spaces in it"}, "WEBHOOK_SECRET"),
        ({"ADMIN_IDS": "12,bob"}, "ADMIN_IDS"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
        ({"TELEGRAM_API_BASE_URL": "ftp://example.org"}, "TELEGRAM_API_BASE_URL"),
    ],
)
async def test_invalid_settings_give_one_line_and_exit_code_2(
    tmp_path: Path, processes: Any, env: dict[str, str], named: str
) -> None:
    settings = {"TELEGRAM_BOT_TOKEN": "123456789:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", **env}
    if not env:
        settings = {}
    process = await processes(clean_env(**settings), tmp_path)
    assert await process.wait() == 2
    assert len(process.lines) == 1, process.output
    assert named in process.lines[0]
    assert "not-a-valid-token" not in process.lines[0]


async def test_health_check_follows_the_process(
    fake: FakeTelegram, tmp_path: Path, processes: Any
) -> None:
    env = clean_env(**bot_env(fake, tmp_path / "bot.sqlite3"))

    async def healthy() -> int:
        check = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.telegram.health",
            env=env,
            cwd=tmp_path,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        return await check.wait()

    assert await healthy() == 1
    process = await processes(env, tmp_path)
    await process.wait_log("is up")
    assert await healthy() == 0
    assert await process.terminate() == 0
    assert await healthy() == 1


async def test_sigkill_mid_burst_keeps_every_acknowledged_answer(
    fake: FakeTelegram, check: CheckEngine, tmp_path: Path, processes: Any
) -> None:
    """24 users tap through their checks at once; the process is SIGKILLed mid-burst. An
    answer is acknowledged once the fake server received the edit showing the next question
    (the bot saves before it edits): each of those must be in SQLite after a restart."""
    db = tmp_path / "data" / "bot.sqlite3"
    env = clean_env(**bot_env(fake, db))
    users = range(6001, 6025)
    first = await processes(env, tmp_path)
    await first.wait_log("is up")
    messages: dict[int, tuple[int, int]] = {}
    for user_id in users:
        await fake.send_text(fake.user(user_id), "/check")
    for user_id in users:
        [message] = await fake.wait_sent(user_id, 1)
        messages[user_id] = (user_id, message["message_id"])
    mirrors = {user_id: Mirror(check) for user_id in users}
    # (html the bot shows after a tap, answers then): what an edit acknowledges.
    history: dict[int, list[tuple[str, list[tuple[str, tuple[str, ...]]]]]] = {
        user_id: [] for user_id in users
    }

    async def tap_through(user_id: int) -> None:
        mirror, key = mirrors[user_id], messages[user_id]
        while mirror.active:
            view = mirror.view()
            assert view is not None
            for label in mirror.taps_for(choose(view, PROFILE)):
                data = data_of(fake.messages[key], label)
                mirror.tap(label)
                history[user_id].append(
                    (mirror.reply().text, [(a.q, a.o) for a in mirror.state.answers])
                )
                before = fake.messages[key]["html"]
                await fake.press(fake.user(user_id), fake.messages[key], data)
                await fake.wait_for(
                    lambda before=before: fake.messages[key]["html"] != before, "an edit"
                )
                await asyncio.sleep(0.55)  # under the flood limit of 20 updates in 10 s

    def acknowledged(user_id: int) -> list[tuple[str, tuple[str, ...]]]:
        shown = fake.messages[messages[user_id]]["html"]
        found = [answers for html_, answers in history[user_id] if html_ == shown]
        return found[-1] if found else []

    tasks = [asyncio.create_task(tap_through(user_id)) for user_id in users]
    await fake.wait_for(
        lambda: sum(len(acknowledged(u)) for u in users) >= 3 * len(users), "a burst under way"
    )
    await first.kill()  # SIGKILL, with presses still in flight
    assert first.proc is not None and first.proc.returncode == -signal.SIGKILL
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    acked = {user_id: acknowledged(user_id) for user_id in users}
    assert sum(len(a) for a in acked.values()) >= 3 * len(users)

    second = await processes(env, tmp_path)  # it also gets the updates never confirmed
    await second.wait_log("is up")
    await fake.wait_confirmed(fake.last_update_id)
    assert await second.terminate() == 0
    stored = {
        user_id: State.from_json(raw)
        for user_id, raw in rows(db, "SELECT user_id, state FROM check_sessions")
    }
    for user_id in users:
        state = stored[user_id]
        assert state is not None
        saved = [(a.q, a.o) for a in state.answers]
        assert saved[: len(acked[user_id])] == acked[user_id], user_id
