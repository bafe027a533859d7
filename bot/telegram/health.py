"""Liveness for the container's HEALTHCHECK: `python -m bot.telegram.health`.

The running bot touches a heartbeat file next to its database every few seconds from its
event loop, so a fresh file means the process is alive and not wedged; in webhook mode the
check also asks the bot's own `GET /healthz`. Exit 0 when healthy, 1 otherwise — in both
modes, without needing a port in polling mode.
"""

from __future__ import annotations

import sys
import time
import urllib.request
from pathlib import Path

from bot.settings import Settings, SettingsError, load_settings

HEARTBEAT_EVERY = 15.0  # seconds between touches
STALE_AFTER = 90.0  # a heartbeat older than this means the bot is not alive


def heartbeat_path(settings: Settings) -> Path:
    return settings.database_path.parent / "heartbeat"


def beat(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{time.time():.0f}\n", encoding="utf-8")


def fresh(path: Path, *, now: float | None = None) -> bool:
    try:
        age = (now if now is not None else time.time()) - path.stat().st_mtime
    except OSError:
        return False
    return age <= STALE_AFTER


def check(settings: Settings) -> str | None:
    """None when healthy, else the reason."""
    if not fresh(heartbeat_path(settings)):
        return f"no recent heartbeat at {heartbeat_path(settings)}"
    if settings.mode == "webhook":
        url = f"http://127.0.0.1:{settings.webhook_port}/healthz"
        try:
            # Bandit B310 accepted: the URL is built above: always http://127.0.0.1, never user input
            with urllib.request.urlopen(url, timeout=5) as response:  # nosec B310
                if response.status != 200:
                    return f"{url} answered {response.status}"
        except OSError as error:
            return f"{url}: {error}"
    return None


def main() -> int:
    try:
        settings = load_settings(require_token=False)
    except SettingsError as error:
        print(error, file=sys.stderr)
        return 1
    problem = check(settings)
    if problem:
        print(f"unhealthy: {problem}", file=sys.stderr)
        return 1
    print("healthy")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
