"""Running the bot as a service: start-up, polling or webhook, maintenance, clean shutdown.

Start-up opens and migrates the database, purges old questions, reaches Telegram (retrying
while the network is down), fills the command menu and starts taking updates. A database that
refuses writes (read-only, disk full) but is at the current schema does not stop it: the
refused purge is logged with the outage and left to the next daily purge, questions are
answered, and saving resumes by itself once the database takes writes again. A database that
cannot be opened, or needs migrating and refuses writes, exits 1. SIGTERM (or
SIGINT) stops taking updates, lets the updates in flight finish, closes the database and
exits 0 — so a deploy or `docker stop` never cuts an answer in half.

In webhook mode several replicas may start at once on one PostgreSQL database: setting the
command menu and the webhook is a start-up task that one replica does while the others wait
(`Storage.once`, an advisory lock), after which they find it done — unless what it sends
changed (a new URL, secret or menu text), or Telegram no longer has our webhook URL.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, TelegramError
from telegram.ext import Application

from bot.content import ContentError, report
from bot.content.questionnaire import check_questionnaire, load_questionnaire
from bot.core.check import CheckEngine
from bot.core.engine import Engine
from bot.settings import Settings, SettingsError, load_settings
from bot.storage import Storage, StorageError, StorageUnavailable, open_storage
from bot.telegram import health
from bot.telegram.app import (
    ALLOWED_UPDATES,
    build_application,
    commands_fingerprint,
    register_commands,
    startup_problems,
    webhook_fingerprint,
)
from bot.telegram.deps import Deps
from bot.telegram.errors import on_polling_error
from bot.telegram.redact import setup_logging

if TYPE_CHECKING:
    from bot.telegram.webhook import WebhookServer

log = logging.getLogger(__name__)

PURGE_EVERY = 24 * 3600.0
_RETRY_DELAYS = (1.0, 2.0, 5.0, 10.0, 30.0)


class _Stopping(Exception):
    """Asked to stop before a start-up task was done: it must not be recorded as done."""


def content_dir() -> Path:
    """content/ next to the `bot` package (a checkout or the image's /app), else in the cwd."""
    beside = Path(__file__).resolve().parents[2] / "content"
    return beside if beside.is_dir() else Path.cwd() / "content"


class Service:
    """One bot process. `run()` returns the exit code; `stop()` may be called at any time."""

    def __init__(
        self, settings: Settings, engine: Engine, check: CheckEngine | None = None
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.check = check or CheckEngine(load_questionnaire(content_dir()))
        self.ready = asyncio.Event()
        self._stop = asyncio.Event()
        self.application: Application | None = None  # type: ignore[type-arg]
        self.storage: Storage | None = None

    def stop(self) -> None:
        self._stop.set()

    async def run(self) -> int:
        try:
            storage = await open_storage(self.settings.database)
        except StorageError as error:
            log.error("database unusable: %s", error)
            return 1
        self.storage = storage
        try:
            await self._purge_at_start(storage)
            return await self._run(storage)
        except TelegramError as error:  # e.g. Telegram refused our command menu
            log.error("start-up failed: %s", error)
            return 1
        except StorageError as error:  # the database went away during start-up
            log.error("start-up failed: the database: %s", error)
            return 1
        finally:
            await storage.close()
            with contextlib.suppress(OSError):
                health.heartbeat_path(self.settings).unlink()
            log.info("stopped")

    async def _purge_at_start(self, storage: Storage) -> None:
        """Purge old questions, unless the database refuses writes right now: that is an
        outage (already logged once by the storage), not a reason to stay down, and the daily
        purge tries again."""
        try:
            await storage.purge()
        except StorageUnavailable:
            log.warning(
                "old questions not purged at start-up: the database refuses writes; starting "
                "anyway, the daily purge will try again"
            )

    async def _run(self, storage: Storage) -> int:
        settings = self.settings
        polling = settings.mode == "polling"
        deps = Deps(self.engine, storage, self.check, settings.admin_ids)
        application = build_application(settings, deps, polling=polling)
        self.application = application
        try:
            if not await self._retrying(application.initialize, "connecting to Telegram"):
                return 0  # asked to stop before Telegram could be reached
        except InvalidToken:
            log.error("Telegram rejected TELEGRAM_BOT_TOKEN")
            return 2
        server: WebhookServer | None = None
        maintenance: asyncio.Task[None] | None = None
        try:
            if polling:
                await self._retrying(
                    lambda: register_commands(application, deps, settings.admin_ids),
                    "setting the command menu",
                )
            else:
                await self._once(
                    storage,
                    "telegram:commands",
                    commands_fingerprint(deps, settings.admin_ids),
                    lambda: register_commands(application, deps, settings.admin_ids),
                    "setting the command menu",
                )
            await application.start()
            if polling:
                updater = application.updater
                assert updater is not None  # noqa: S101 - built with one
                await self._retrying(
                    lambda: updater.start_polling(
                        allowed_updates=ALLOWED_UPDATES, error_callback=on_polling_error
                    ),
                    "starting to poll",
                )
            else:
                # Imported here: aiohttp costs ~8 MB that a polling bot never needs.
                from bot.telegram.webhook import WebhookServer

                assert settings.webhook_url and settings.webhook_secret  # noqa: S101 - validated
                secret = settings.webhook_secret.get_secret_value()
                server = WebhookServer(
                    application,
                    path=settings.webhook_path,
                    secret=secret,
                    listen=settings.webhook_listen,
                    port=settings.webhook_port,
                    ready=lambda: _database_problem(storage),
                )
                await server.start()
                url = settings.webhook_url

                async def set_webhook() -> None:
                    await application.bot.set_webhook(
                        url, secret_token=secret, allowed_updates=ALLOWED_UPDATES
                    )

                await self._once(
                    storage,
                    "telegram:webhook",
                    webhook_fingerprint(url, secret),
                    set_webhook,
                    "registering the webhook",
                    done=lambda: _webhook_is(application, url),
                )
            health.beat(health.heartbeat_path(settings))
            maintenance = asyncio.create_task(self._maintain(storage), name="maintenance")
            log.info("bot @%s is up (%s)", application.bot.username, settings.mode)
            self.ready.set()
            await self._stop.wait()
            log.info("stopping: no new updates; finishing the ones in flight")
        except _Stopping:
            log.info("stopped during start-up")
        finally:
            if polling and application.updater is not None and application.updater.running:
                await application.updater.stop()
            if server is not None:
                await server.stop()
            if application.running:
                await application.stop()
            if maintenance is not None:
                maintenance.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await maintenance
            await application.shutdown()
        return 0

    async def _once(
        self,
        storage: Storage,
        key: str,
        fingerprint: str,
        action: Callable[[], Awaitable[object]],
        what: str,
        *,
        done: Callable[[], Awaitable[bool]] | None = None,
    ) -> None:
        """Do a start-up task unless another replica did it with the same `fingerprint`
        (and, if given, `done()` confirms Telegram still has it)."""
        async with storage.once(key, fingerprint) as due:
            if not due and (done is None or await self._confirmed(done, what)):
                log.info("%s: already done by a replica", what)
                return
            if not await self._retrying(action, what):
                raise _Stopping

    async def _confirmed(self, done: Callable[[], Awaitable[bool]], what: str) -> bool:
        result = False

        async def ask() -> None:
            nonlocal result
            result = await done()

        if not await self._retrying(ask, f"checking {what}"):
            raise _Stopping
        return result

    async def _retrying(self, action: Callable[[], Awaitable[object]], what: str) -> bool:
        """Run `action`, retrying network errors until it works or we are asked to stop."""
        attempt = 0
        while not self._stop.is_set():
            try:
                await action()
                return True
            except (InvalidToken, BadRequest, Forbidden):
                raise
            except (NetworkError, TelegramError) as error:
                delay = _RETRY_DELAYS[min(attempt, len(_RETRY_DELAYS) - 1)]
                log.warning("%s failed (%s); retrying in %.0f s", what, error, delay)
                attempt += 1
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), delay)
        return False

    async def _maintain(self, storage: Storage) -> None:
        """Heartbeat for the health check; daily purge of questions older than 90 days."""
        last_purge = time.monotonic()
        beat_path = health.heartbeat_path(self.settings)
        while True:
            try:
                health.beat(beat_path)
                if time.monotonic() - last_purge >= PURGE_EVERY:
                    last_purge = time.monotonic()
                    await storage.purge()
            except StorageUnavailable:  # the outage is logged by the storage, once
                log.info("daily purge skipped: the database refuses writes")
            except Exception:
                log.exception("maintenance failed; will try again")
            await asyncio.sleep(health.HEARTBEAT_EVERY)


async def _database_problem(storage: Storage) -> str | None:
    """For /readyz: None when the database answers."""
    try:
        await storage.ping()
    except StorageError:
        return "database unavailable"
    return None


async def _webhook_is(application: Application, url: str) -> bool:  # type: ignore[type-arg]
    """Whether Telegram still delivers to `url` (someone may have deleted the webhook)."""
    info = await application.bot.get_webhook_info()
    return info.url == url


async def _serve(settings: Settings, engine: Engine, check: CheckEngine) -> int:
    service = Service(settings, engine, check)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, service.stop)
    return await service.run()


def _password(settings: Settings) -> str | None:
    """The password in DATABASE_URL, if any, so no log line ever shows it."""
    if settings.database_url is None:
        return None
    return urlsplit(settings.database_url.get_secret_value()).password


def serve(content: Path | None = None) -> int:
    """`python -m bot serve`: run the Telegram bot until SIGTERM; return the exit code.
    Invalid content (answers or the B12 check) stops it before it talks to Telegram."""
    try:
        settings = load_settings()
    except SettingsError as error:
        print(error, file=sys.stderr)
        return 2
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
    setup_logging(settings.log_level, secrets=[settings.token, secret, _password(settings)])
    directory = content or content_dir()
    try:
        engine = Engine.load(directory)
    except ContentError as error:
        print(error, file=sys.stderr)
        return 1
    questionnaire, found = check_questionnaire(directory)
    if questionnaire is None or found:
        print(report(found), file=sys.stderr)
        return 1
    problems = startup_problems(engine)
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    return asyncio.run(_serve(settings, engine, CheckEngine(questionnaire)))
