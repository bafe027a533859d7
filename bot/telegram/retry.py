"""Retrying outgoing Bot API calls while Telegram is down, so no reply is lost to an outage.

python-telegram-bot turns a 5xx answer, a time-out or a dropped connection into a
NetworkError and raises it to the handler; without this module the reply was logged as an
error and gone. `RetryingRateLimiter` wraps the rate limiter every call already goes through
(AIORateLimiter, which itself waits out a few RetryAfter), so every method — sendMessage,
editMessageText, answerCallbackQuery, … — is covered without touching a handler:

- Retried: NetworkError (TimedOut, 5xx, connection refused or dropped) and RetryAfter left
  over after the inner limiter's own retries. Never BadRequest (a NetworkError subclass in
  python-telegram-bot), Forbidden, InvalidToken, Conflict, ChatMigrated: retrying cannot
  change their answer.
- Backoff: 0.5 s, doubling, at most 30 s a wait; a RetryAfter waits what Telegram asked.
  A call gives up `give_up_after` seconds (10 min) after its first attempt — long enough to
  ride out a real outage — and the last error reaches errors.py as before. Answers to
  callback and inline queries (and chat actions) give up after 10 s: Telegram no longer
  accepts them much later, and a press must not wait minutes for its toast.
- Not retried here: getUpdates (never passes a rate limiter; the Updater retries polling)
  and the start-up calls (getMe, setMyCommands, deleteWebhook, setWebhook, …), which the
  service retries itself while watching for SIGTERM.
- Stopping: once `stop_when()`'s predicate is true (app.py: the application is not running,
  i.e. it is stopping on SIGTERM), a waiting call gives up within `_STOP_POLL` seconds with its
  last error and a failing call is not retried, so a shutdown during an outage takes seconds,
  not ten minutes; the replies still failing at that moment are lost, as before this module.
  (Before the application starts only start-up calls are made, and those are not retried.)

Retrying makes delivery at-least-once: a sendMessage that timed out may have reached
Telegram, and sending it again then shows the user the reply twice. A rare duplicate during
an outage beats a reply that silently never comes.

Logging stays quiet during an outage: one WARNING when calls start failing, one INFO when none
is failing any more (with how many were retried and delivered), one WARNING per call that
gives up; each failed attempt only at DEBUG. Nothing logged here contains the token or the
message text (and the log filter in redact.py masks tokens anyway).
"""

from __future__ import annotations

import asyncio
import logging
import time
import warnings
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError
from telegram.ext import BaseRateLimiter

log = logging.getLogger(__name__)

#: First wait after a failure; each further wait doubles, up to `_MAX_DELAY`.
_FIRST_DELAY = 0.5
_MAX_DELAY = 30.0
#: A call is given up this long after its first attempt (a real outage lasts minutes).
_GIVE_UP_AFTER = 600.0
#: The same for answers Telegram stops accepting after some seconds.
_SHORT_GIVE_UP_AFTER = 10.0
#: How often a waiting call checks whether the bot is stopping.
_STOP_POLL = 0.1

#: Methods whose answer is worthless (or refused by Telegram) after a few seconds.
SHORT_LIVED = frozenset({"answerCallbackQuery", "answerInlineQuery", "sendChatAction"})
#: Methods the service retries itself at start-up (or that must fail fast): passed through.
NOT_RETRIED = frozenset(
    {
        "getUpdates",
        "getMe",
        "setMyCommands",
        "deleteWebhook",
        "setWebhook",
        "getWebhookInfo",
        "logOut",
        "close",
    }
)

_Result = bool | dict[str, Any] | list[dict[str, Any]]


@dataclass(frozen=True)
class RetryPolicy:
    """How long to wait between attempts, and when to give up (seconds)."""

    first_delay: float = _FIRST_DELAY
    max_delay: float = _MAX_DELAY
    give_up_after: float = _GIVE_UP_AFTER
    short_give_up_after: float = _SHORT_GIVE_UP_AFTER

    def delay(self, failures: int) -> float:
        """The wait after the `failures`-th failure in a row (1, 2, …)."""
        return min(self.max_delay, self.first_delay * 2 ** min(failures - 1, 32))

    def bound(self, endpoint: str) -> float:
        return self.short_give_up_after if endpoint in SHORT_LIVED else self.give_up_after


def is_transient(error: BaseException) -> bool:
    """An error a later attempt may not get: network trouble, 5xx, or flood control."""
    if isinstance(error, RetryAfter):
        return True
    return isinstance(error, NetworkError) and not isinstance(error, BadRequest)


def retry_after_seconds(error: RetryAfter) -> float:
    """RetryAfter's wait in seconds (an int or a timedelta, depending on PTB_TIMEDELTA)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the int form is deprecated in PTB 22
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class RetryingRateLimiter(BaseRateLimiter[int]):
    """`inner` (the rate limiter proper), with calls retried on transient failures."""

    def __init__(self, inner: BaseRateLimiter[int], policy: RetryPolicy | None = None) -> None:
        self.inner = inner
        self.policy = policy or RetryPolicy()
        self._stopping: Callable[[], bool] = lambda: False
        self._failing = 0  # calls between their first failure and their outcome
        self._retried = 0  # calls that failed since the outage began …
        self._delivered = 0  # … and of those, calls that got through in the end

    def stop_when(self, stopping: Callable[[], bool]) -> None:
        """Stop retrying (and waiting) once `stopping()` is true: the bot is shutting down."""
        self._stopping = stopping

    async def initialize(self) -> None:
        await self.inner.initialize()

    async def shutdown(self) -> None:
        await self.inner.shutdown()

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, _Result]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> _Result:
        async def attempt() -> _Result:
            return await self.inner.process_request(
                callback, args, kwargs, endpoint, data, rate_limit_args
            )

        if endpoint in NOT_RETRIED:
            return await attempt()
        started = time.monotonic()
        failures = 0
        delivered = False
        try:
            while True:
                try:
                    result = await attempt()
                except TelegramError as error:
                    if not is_transient(error):
                        raise
                    failures += 1
                    if failures == 1:
                        self._begin_failing(endpoint, error)
                    wait = self._wait_for(error, failures)
                    spent = time.monotonic() - started
                    stopping = self._stopping()
                    if stopping or spent + wait > self.policy.bound(endpoint):
                        self._give_up(endpoint, failures, spent, error, stopping=stopping)
                        raise
                    log.debug(
                        "%s failed (attempt %d): %s; retrying in %.1f s",
                        endpoint,
                        failures,
                        error,
                        wait,
                    )
                    if not await self._sleep(wait):
                        spent = time.monotonic() - started
                        self._give_up(endpoint, failures, spent, error, stopping=True)
                        raise
                else:
                    delivered = True
                    if failures:
                        log.debug("%s succeeded at attempt %d", endpoint, failures + 1)
                    return result
        finally:
            if failures:
                self._end_failing(delivered=delivered)

    def _wait_for(self, error: TelegramError, failures: int) -> float:
        if isinstance(error, RetryAfter):
            # The inner limiter already waited out a few of these: do as Telegram asks.
            return max(retry_after_seconds(error), self.policy.first_delay)
        return self.policy.delay(failures)

    async def _sleep(self, seconds: float) -> bool:
        """Wait `seconds`; False (at once) if the bot starts stopping meanwhile."""
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            if self._stopping():
                return False
            await asyncio.sleep(min(remaining, _STOP_POLL))
        return not self._stopping()

    def _give_up(
        self, endpoint: str, failures: int, spent: float, error: TelegramError, *, stopping: bool
    ) -> None:
        log.warning(
            "%s: giving up after %d attempt(s) in %.0f s%s: %s",
            endpoint,
            failures,
            spent,
            " (the bot is stopping)" if stopping else "",
            error,
        )

    def _begin_failing(self, endpoint: str, error: TelegramError) -> None:
        """The first failure of a call; the first of an outage is logged."""
        if self._failing == 0:
            log.warning(
                "Bot API calls are failing (%s: %s); retrying each for up to %.0f s "
                "(%.0f s for answers to button presses and inline queries)",
                endpoint,
                error,
                self.policy.give_up_after,
                self.policy.short_give_up_after,
            )
            self._retried = self._delivered = 0
        self._failing += 1
        self._retried += 1

    def _end_failing(self, *, delivered: bool) -> None:
        """A call that had failed is done; when it was the last one, the outage is over."""
        self._failing -= 1
        self._delivered += delivered
        if self._failing == 0:
            log.info(
                "no Bot API call is waiting for a retry any more: %d retried, %d delivered",
                self._retried,
                self._delivered,
            )
