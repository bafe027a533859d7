"""The webhook server: Telegram POSTs updates to us instead of us polling for them.

Served by the bot itself on aiohttp (python-telegram-bot's built-in server needs tornado).
A POST is accepted only with the secret Telegram was given in setWebhook, compared in
constant time; anything else gets 403 and is never parsed, let alone processed. Accepted
updates go onto the application's queue, exactly like polled ones. `GET /healthz` answers
200 while the application runs, for load balancers and the container health check.

An update python-telegram-bot cannot parse (a message without `date`, a field of the wrong
type) is answered 200 and skipped, logged once with its update_id only (bot/telegram/
updates.py): any other answer makes Telegram deliver it again and again, holding back the
updates behind it. A body that is not an update at all (not JSON, no update_id) gets 400.
"""

from __future__ import annotations

import hmac
import json
import logging

from aiohttp import web
from telegram.ext import Application

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
    ) -> None:
        self._application = application
        self._secret = secret.encode("utf-8")
        self._listen = listen
        self._port = port
        self.app = web.Application(client_max_size=MAX_BODY)
        self.app.router.add_post(path, self._receive)
        self.app.router.add_get("/healthz", self._health)
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
        await self._application.update_queue.put(update)
        return web.Response(text="ok")

    async def _health(self, request: web.Request) -> web.Response:
        running = self._application.running
        return web.json_response(
            {"status": "ok" if running else "stopping"}, status=200 if running else 503
        )
