"""The webhook server: Telegram POSTs updates to us instead of us polling for them.

Served by the bot itself on aiohttp (python-telegram-bot's built-in server needs tornado).
A POST is accepted only with the secret Telegram was given in setWebhook, compared in
constant time; anything else gets 403 and is never parsed, let alone processed.

An accepted update is applied *before* it is answered — through the same per-chat update
processor as polled ones (bot/telegram/serial.py), but awaited here — so a 200 means the
update's state is saved. A replica killed mid-update never answered, and Telegram (or the load
balancer) delivers the update again, to this replica or another; one whose state could not be
saved gets 500 for the same reason. That is what lets several replicas share one PostgreSQL
database without losing or doubling an answer.

`GET /healthz` answers 200 while the application runs (liveness: restart me if not);
`GET /readyz` answers 200 only when the database answers too (readiness: send me updates),
for load balancers and the container health check.

An update python-telegram-bot cannot parse (a message without `date`, a field of the wrong
type) is answered 200 and skipped, logged once with its update_id only (bot/telegram/
updates.py): any other answer makes Telegram deliver it again and again, holding back the
updates behind it. A body that is not an update at all (not JSON, no update_id) gets 400.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from telegram.ext import Application

from bot.storage import StorageUnavailable
from bot.telegram.updates import SkipLog, parse_update

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105  # nosec B105  # a header name
MAX_BODY = 1024 * 1024  # Telegram updates are a few KB; refuse anything absurd


class WebhookServer:
    def __init__(
        self,
        application: Application,  # type: ignore[type-arg]
        *,
        path: str,
        secret: str,
        listen: str,
        port: int,
        ready: Callable[[], Awaitable[str | None]] | None = None,
    ) -> None:
        self._application = application
        self._ready = ready
        self._secret = secret.encode("utf-8")
        self._listen = listen
        self._port = port
        self.app = web.Application(client_max_size=MAX_BODY)
        self.app.router.add_post(path, self._receive)
        self.app.router.add_get("/healthz", self._health)
        self.app.router.add_get("/readyz", self._readiness)
        self._runner: web.AppRunner | None = None
        self._skips = SkipLog()

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=30)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._listen, self._port)
        await site.start()
        log.info("webhook server listening on %s:%d", self._listen, self._port)

    async def stop(self) -> None:
        """Stop accepting requests; requests already accepted finish first."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def _authorised(self, request: web.Request) -> bool:
        given = request.headers.get(SECRET_HEADER, "").encode("utf-8")
        return hmac.compare_digest(given, self._secret)

    async def _receive(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            log.warning("webhook request with a wrong or missing secret from %s", request.remote)
            return web.Response(status=403, text="forbidden")
        if not self._application.running:
            return web.Response(status=503, text="stopping")
        try:
            update = parse_update(
                json.loads(await request.read()), self._application.bot, self._skips
            )
        except ValueError as error:  # not JSON, or no update_id: not an update at all
            log.warning("webhook request that is not an update (%s)", type(error).__name__)
            return web.Response(status=400, text="invalid update")
        if update is None:  # Telegram's, but unparsable: confirm it so it is not redelivered
            return web.Response(text="skipped")
        application = self._application
        try:
            await application.update_processor.process_update(
                update, application.process_update(update)
            )
        except StorageUnavailable as error:
            log.warning("update %d not saved (%s): asking for it again", update.update_id, error)
            return web.Response(status=500, text="not saved")
        return web.Response(text="ok")

    async def _health(self, request: web.Request) -> web.Response:
        running = self._application.running
        return web.json_response(
            {"status": "ok" if running else "stopping"}, status=200 if running else 503
        )

    async def _readiness(self, request: web.Request) -> web.Response:
        """Ready: running, content loaded (it is, before the server starts) and the
        database answering. Never names more than the kind of problem."""
        if not self._application.running:
            return web.json_response({"status": "stopping"}, status=503)
        problem = await self._ready() if self._ready is not None else None
        if problem is not None:
            return web.json_response({"status": "not ready", "problem": problem}, status=503)
        return web.json_response({"status": "ready"})
