"""Several webhook replicas behind a load balancer, for the scale-out test and benchmark.

- `Replica`: `python -m bot serve` in webhook mode as a real process (SIGKILL is real).
- `RoundRobinProxy`: a small HTTP proxy on 127.0.0.1 in front of the replicas, as nginx would
  be. A request naming a replica (`X-Replica: n`) goes there — so a test can send a chat's
  updates to different replicas on purpose — else to the next one in turn. A replica that
  cannot be reached (killed, restarting) is answered 502, as nginx does.
- `deliver_by_webhook`: makes the fake Bot API server push updates the way Telegram does: it
  POSTs each update to the webhook URL with the secret and, until it gets a 200, tries again
  (Telegram retries an update it thinks failed). Every 200 is recorded as acknowledged.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import signal
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from botharness import free_port
from fake_telegram import FakeTelegram

from bot.telegram.webhook import SECRET_HEADER

REPO = Path(__file__).resolve().parents[2]
SECRET = "replica_secret-42"  # noqa: S105 - made up
HOOK_PATH = "/telegram/hook"
_OURS = ("TELEGRAM_", "MODE", "WEBHOOK_", "DATABASE_", "ADMIN_IDS", "LOG_LEVEL")


def peak_memory_mb(pid: int) -> float:
    """A process's peak resident memory (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Replica:
    """One bot process serving the webhook on its own port, its output kept in a file."""

    def __init__(self, n: int, fake: FakeTelegram, database_url: str, proxy_url: str, root: Path):
        self.n, self.port = n, free_port()
        self.folder = root / f"replica{n}"
        self.folder.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.upper().startswith(_OURS)}
        env.update(
            PYTHONUNBUFFERED="1",
            PYTHONPATH=str(REPO),
            TELEGRAM_BOT_TOKEN=fake.token,
            TELEGRAM_API_BASE_URL=fake.base_url,
            TELEGRAM_MAX_RATE="0",
            MODE="webhook",
            WEBHOOK_URL=proxy_url + HOOK_PATH,
            WEBHOOK_SECRET=SECRET,
            WEBHOOK_LISTEN="127.0.0.1",
            WEBHOOK_PORT=str(self.port),
            DATABASE_URL=database_url,
            DATABASE_PATH=str(self.folder / "bot.sqlite3"),  # its heartbeat file's folder
            LOG_LEVEL="INFO",
        )
        self.env = env
        self.proc: asyncio.subprocess.Process | None = None
        self.log = self.folder / "bot.log"
        self.starts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, patience: float = 60.0) -> Replica:
        self.starts += 1
        with self.log.open("ab") as log:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "serve", env=self.env, cwd=self.folder,
                stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=asyncio.subprocess.STDOUT,
            )  # fmt: skip
        await self.wait_ready(patience)
        return self

    async def wait_ready(self, patience: float) -> None:
        deadline = time.monotonic() + patience
        async with aiohttp.ClientSession() as session:
            while True:
                assert self.proc is not None
                if self.proc.returncode is not None:
                    raise AssertionError(f"replica {self.n} exited: {self.output()[-3000:]}")
                with contextlib.suppress(aiohttp.ClientError):
                    async with session.get(self.url + "/readyz") as response:
                        if response.status == 200:
                            return
                if time.monotonic() > deadline:
                    raise AssertionError(f"replica {self.n} not ready: {self.output()[-3000:]}")
                await asyncio.sleep(0.1)

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    async def kill(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()

    async def terminate(self, patience: float = 30.0) -> int | None:
        if self.proc is None:
            return None
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), patience)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        return self.proc.returncode

    def peak_memory_mb(self) -> float:
        assert self.proc is not None
        return peak_memory_mb(self.proc.pid)


class RoundRobinProxy:
    def __init__(self, backends: list[str]) -> None:
        self.backends = backends
        self._turn = itertools.count()
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self.port = 0
        self.forwarded: dict[int, int] = defaultdict(int)  # backend → requests answered 200
        self.failed = 0  # requests answered 502 (backend unreachable)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> RoundRobinProxy:
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0),
            timeout=aiohttp.ClientTimeout(total=120),
        )
        app = web.Application(client_max_size=2**20)
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        assert site._server is not None
        self.port = site._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    async def _forward(self, request: web.Request) -> web.Response:
        assert self._session is not None
        wanted = request.headers.get("X-Replica")
        n = int(wanted) if wanted is not None else next(self._turn)
        n %= len(self.backends)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_HEADERS}
        try:
            async with self._session.request(
                request.method,
                self.backends[n] + request.path_qs,
                data=await request.read(),
                headers=headers,
            ) as response:
                body = await response.read()
                if response.status == 200:
                    self.forwarded[n] += 1
                return web.Response(status=response.status, body=body)
        except (aiohttp.ClientError, OSError):
            self.failed += 1
            return web.Response(status=502, text="bad gateway")


_HOP_HEADERS = frozenset({"host", "content-length", "connection", "x-replica"})


@dataclass
class Delivery:
    """What Telegram's side saw: acknowledged updates and the attempts it took."""

    acknowledged: list[int] = field(default_factory=list)
    attempts: int = 0
    retries: int = 0
    statuses: dict[int, int] = field(default_factory=lambda: defaultdict(int))


def deliver_by_webhook(
    fake: FakeTelegram, url: str, *, spread: int = 0, patience: float = 120.0
) -> Delivery:
    """From now on `fake.enqueue` POSTs each update to `url` until it is answered 200.
    `spread` > 0: a chat's successive updates (and retries) go to replicas 0, 1, 2, … in turn
    (`X-Replica`), so each chat is served by every replica."""
    delivery = Delivery()
    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=0), timeout=aiohttp.ClientTimeout(total=120)
    )
    next_replica: dict[int, itertools.count[int]] = {}

    async def deliver(update: dict[str, Any]) -> None:
        chat = _chat_of(update)
        turn = next_replica.setdefault(chat, itertools.count(chat))
        deadline = time.monotonic() + patience
        while True:
            headers = {SECRET_HEADER: SECRET}
            if spread:
                headers["X-Replica"] = str(next(turn) % spread)
            delivery.attempts += 1
            try:
                async with session.post(url, json=update, headers=headers) as response:
                    delivery.statuses[response.status] += 1
                    if response.status == 200:
                        delivery.acknowledged.append(update["update_id"])
                        return
            except (aiohttp.ClientError, OSError):
                delivery.statuses[0] += 1
            if time.monotonic() > deadline:
                raise AssertionError(f"update {update['update_id']} never acknowledged")
            delivery.retries += 1
            await asyncio.sleep(0.05)

    fake.deliver = deliver
    fake.closers.append(session.close)
    return delivery


def _chat_of(update: dict[str, Any]) -> int:
    if "message" in update:
        return int(update["message"]["chat"]["id"])
    if "callback_query" in update:
        return int(update["callback_query"]["from"]["id"])
    return 0
