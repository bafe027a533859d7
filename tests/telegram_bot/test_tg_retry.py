"""The retry policy of outgoing Bot API calls (bot/telegram/retry.py), call by call.

A real python-telegram-bot `ExtBot` talks to the fake Bot API server through the retrying
rate limiter, with waits and time-outs a hundred times shorter than in production so that
giving up, stopping and short-lived answers can be seen in well under a second each. The
end-to-end proof with the production numbers is test_tg_delivery.py.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable

import pytest
from fake_telegram import FakeTelegram
from telegram import CallbackQuery, User
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import AIORateLimiter, ExtBot
from telegram.request import HTTPXRequest

from bot.telegram.retry import RetryingRateLimiter, RetryPolicy, is_transient
from bot.telegram.send import acknowledge

CHAT = 6001
FAST = RetryPolicy(first_delay=0.05, max_delay=0.2, give_up_after=1.0, short_give_up_after=0.3)


def test_waits_double_up_to_the_cap_and_answers_give_up_sooner() -> None:
    policy = RetryPolicy()
    assert [policy.delay(n) for n in range(1, 10)] == [0.5, 1, 2, 4, 8, 16, 30, 30, 30]
    assert policy.delay(10_000) == 30  # no overflow after a very long outage
    assert policy.bound("sendMessage") == policy.bound("editMessageText") == 600
    assert policy.bound("answerCallbackQuery") == policy.bound("answerInlineQuery") == 10


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (NetworkError("Bad Gateway"), True),
        (NetworkError("Internal Server Error"), True),
        (TimedOut(), True),
        (RetryAfter(3), True),
        (BadRequest("Bad Request: message is too long"), False),
        (Forbidden("Forbidden: bot was blocked by the user"), False),
        (InvalidToken(), False),
        (Conflict("terminated by other getUpdates request"), False),
        (ChatMigrated(-100123), False),
        (TelegramError("Invalid server response"), False),
    ],
)
def test_only_transient_errors_are_retried(error: TelegramError, transient: bool) -> None:
    assert is_transient(error) is transient


class Stop:
    def __init__(self) -> None:
        self.stopping = False

    def __call__(self) -> bool:
        return self.stopping


@pytest.fixture
def stop() -> Stop:
    return Stop()


BotFactory = Callable[..., ExtBot]  # type: ignore[type-arg]


@pytest.fixture
async def make_bot(fake: FakeTelegram, stop: Stop) -> AsyncIterator[BotFactory]:
    """An ExtBot with the retrying limiter around AIORateLimiter, a 0.3 s read time-out."""
    fake.private_chat(fake.user(CHAT))
    bots: list[ExtBot] = []  # type: ignore[type-arg]

    def make(policy: RetryPolicy = FAST, inner_retries: int = 0) -> ExtBot:  # type: ignore[type-arg]
        limiter = RetryingRateLimiter(AIORateLimiter(max_retries=inner_retries), policy)
        limiter.stop_when(stop)
        bot = ExtBot(
            fake.token,
            base_url=fake.base_url,
            rate_limiter=limiter,
            request=HTTPXRequest(read_timeout=0.3),
        )
        bots.append(bot)
        return bot

    yield make
    for bot in bots:
        await bot.shutdown()


def attempts(fake: FakeTelegram, method: str = "sendMessage") -> list[bool]:
    return [c.ok for c in fake.calls_to(method, ok=None)]


@pytest.mark.parametrize("fault", ["502", "500", "timeout", "dropped"])
async def test_a_call_is_retried_until_telegram_answers(
    fake: FakeTelegram, make_bot: BotFactory, fault: str
) -> None:
    if fault == "timeout":
        fake.stall("sendMessage", times=2)
    elif fault == "dropped":
        fake.drop("sendMessage", times=2)
    else:
        fake.fail("sendMessage", int(fault), "Server error", times=2)
    async with make_bot() as bot:
        message = await bot.send_message(CHAT, "hello")
    assert message.text == "hello"
    assert attempts(fake) == [False, False, True]
    assert [m["text"] for m in fake.sent(CHAT)] == ["hello"]


async def test_a_call_gives_up_after_its_bound_and_says_so_twice(
    fake: FakeTelegram, make_bot: BotFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="bot.telegram.retry")
    fake.fail("sendMessage", 503, "Service Unavailable", times=1_000_000)
    async with make_bot() as bot:
        started = time.monotonic()
        with pytest.raises(NetworkError, match="Service Unavailable"):
            await bot.send_message(CHAT, "hello")
        spent = time.monotonic() - started
    assert 0.6 < spent < 1.5  # FAST.give_up_after is 1 s
    assert len(attempts(fake)) >= 5  # 0.05, 0.1, 0.2, 0.2, … apart
    ours = [r for r in caplog.records if r.name == "bot.telegram.retry"]
    warnings = [r.getMessage() for r in ours if r.levelno >= logging.WARNING]
    assert len(warnings) == 2
    assert "are failing" in warnings[0] and "giving up" in warnings[1]
    assert all(fake.token not in r.getMessage() and "hello" not in r.getMessage() for r in ours)


async def test_answers_to_presses_give_up_sooner(fake: FakeTelegram, make_bot: BotFactory) -> None:
    fake.fail("answerCallbackQuery", 502, "Bad Gateway", times=1_000_000)
    async with make_bot() as bot:
        started = time.monotonic()
        with pytest.raises(NetworkError):
            await bot.answer_callback_query("cq1")
    assert time.monotonic() - started < 0.6  # FAST.short_give_up_after is 0.3 s


@pytest.mark.parametrize("status", [400, 403])
async def test_a_refusal_fails_at_once(
    fake: FakeTelegram, make_bot: BotFactory, status: int
) -> None:
    fake.fail("sendMessage", status, "Bad Request: no" if status == 400 else "Forbidden: no")
    async with make_bot() as bot:
        with pytest.raises(BadRequest if status == 400 else Forbidden):
            await bot.send_message(CHAT, "hello")
        await asyncio.sleep(0.3)
    assert attempts(fake) == [False]


async def test_start_up_calls_are_left_to_the_service(
    fake: FakeTelegram, make_bot: BotFactory
) -> None:
    """getMe, setMyCommands, … are retried by the service, which also watches for SIGTERM."""
    fake.fail("setMyCommands", 502, "Bad Gateway")
    async with make_bot() as bot:
        with pytest.raises(NetworkError):
            await bot.set_my_commands([("start", "Start")])
    assert attempts(fake, "setMyCommands") == [False]


async def test_a_retry_after_beyond_the_bound_gives_up_at_once(
    fake: FakeTelegram, make_bot: BotFactory
) -> None:
    fake.fail("sendMessage", 429, "Too Many Requests", retry_after=30)
    async with make_bot() as bot:
        started = time.monotonic()
        with pytest.raises(RetryAfter):
            await bot.send_message(CHAT, "hello")
    assert time.monotonic() - started < 0.5
    assert attempts(fake) == [False]


async def test_a_retry_after_is_waited_out_in_full(
    fake: FakeTelegram, make_bot: BotFactory
) -> None:
    fake.fail("sendMessage", 429, "Too Many Requests", retry_after=1)
    async with make_bot(RetryPolicy(first_delay=0.05, give_up_after=5)) as bot:
        started = time.monotonic()
        await bot.send_message(CHAT, "hello")
    assert time.monotonic() - started >= 1.0
    assert attempts(fake) == [False, True]


async def test_stopping_ends_a_wait_at_once(
    fake: FakeTelegram, make_bot: BotFactory, stop: Stop
) -> None:
    fake.fail("sendMessage", 502, "Bad Gateway", times=1_000_000)
    async with make_bot(RetryPolicy(first_delay=30, give_up_after=600)) as bot:
        sending = asyncio.create_task(bot.send_message(CHAT, "hello"))
        await fake.wait_for(lambda: attempts(fake), "the first attempt")
        await asyncio.sleep(0.2)
        stop.stopping = True
        started = time.monotonic()
        with pytest.raises(NetworkError):
            await sending
    assert time.monotonic() - started < 0.5
    assert attempts(fake) == [False]
    # While stopping, a new failure is not retried either.
    fake.heal()
    fake.fail("sendMessage", 502, "Bad Gateway")
    async with make_bot() as bot:
        with pytest.raises(NetworkError):
            await bot.send_message(CHAT, "hello")
    assert attempts(fake) == [False, False]


async def test_a_press_is_acknowledged_or_given_up_on_without_raising(
    fake: FakeTelegram, make_bot: BotFactory
) -> None:
    """send.acknowledge: once its short retries are over, the handler goes on applying the
    press (the check answer is stored and shown) instead of failing the whole update."""
    fake.fail("answerCallbackQuery", 502, "Bad Gateway", times=1_000_000)
    async with make_bot() as bot:
        query = CallbackQuery("cq1", User(CHAT, "Ann", is_bot=False), chat_instance="ci")
        query.set_bot(bot)
        started = time.monotonic()
        await acknowledge(query, "noted")
    assert time.monotonic() - started < 0.6
    assert len(attempts(fake, "answerCallbackQuery")) >= 2
