"""deploy/docker-compose.yml and its Caddyfile, read next to the code they run (Docker
cannot run here): three replicas of the one image in webhook mode on one PostgreSQL, each
with settings the bot accepts, behind a proxy that serves exactly the webhook path and asks
/readyz, and given longer to stop than the bot takes to finish its updates in flight."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from bot.settings import load_settings
from bot.storage import parse_url

REPO = Path(__file__).resolve().parents[1]
DEPLOY = REPO / "deploy"
EXAMPLE = {
    "TELEGRAM_BOT_TOKEN": "123456:" + "A" * 35,
    "BOT_DOMAIN": "bot.example.org",
    "WEBHOOK_SECRET": "s3cret",
    "POSTGRES_PASSWORD": "pw",
}


def _fill(value: str) -> str:
    """Compose's ${NAME:?msg} / ${NAME:-default} substitution, with EXAMPLE's values."""

    def one(match: re.Match[str]) -> str:
        name, _, rest = match.group(1).partition(":")
        return EXAMPLE.get(name, rest[1:] if rest.startswith("-") else "")

    return re.sub(r"\$\{([^}]+)\}", one, value)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text(encoding="utf-8"))


def _bots(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: s for name, s in compose["services"].items() if name.startswith("bot")}


def test_three_replicas_of_the_one_image_on_postgresql(compose: dict[str, Any]) -> None:
    bots = _bots(compose)
    assert sorted(bots) == ["bot1", "bot2", "bot3"]
    assert compose["services"]["db"]["image"] == "postgres:15"
    for bot in bots.values():
        assert (DEPLOY / bot["build"]["context"] / bot["build"]["dockerfile"]).is_file()
        assert bot["depends_on"]["db"]["condition"] == "service_healthy"
        env = {k: _fill(str(v)) for k, v in bot["environment"].items()}
        settings = load_settings(_env_file=None, **{k.lower(): v for k, v in env.items()})
        assert settings.mode == "webhook"
        url = parse_url(settings.database)
        assert url.backend == "postgresql" and urlsplit(url.target).hostname == "db"
        assert urlsplit(url.target).port == 5432
        assert str(settings.webhook_port) in {p.split(":")[-1] for p in bot["expose"]}


def test_the_proxy_serves_the_webhook_path_to_every_replica(compose: dict[str, Any]) -> None:
    caddy = (DEPLOY / "Caddyfile").read_text(encoding="utf-8")
    bot = next(iter(_bots(compose).values()))
    path = urlsplit(_fill(bot["environment"]["WEBHOOK_URL"])).path
    assert f"handle {path} {{" in caddy
    upstreams = re.search(r"reverse_proxy ([^{]+)\{", caddy)
    assert upstreams is not None
    port = bot["environment"]["WEBHOOK_PORT"]
    assert upstreams.group(1).split() == [f"{name}:{port}" for name in sorted(_bots(compose))]
    assert "health_uri /readyz" in caddy
    assert "respond 404" in caddy  # /healthz, /readyz and the rest stay inside
    mounted = compose["services"]["proxy"]["volumes"][0].split(":")[0]
    assert (DEPLOY / mounted).resolve() == DEPLOY / "Caddyfile"


def test_replicas_get_longer_to_stop_than_updates_in_flight_take(
    compose: dict[str, Any],
) -> None:
    from bot.telegram import webhook

    source = Path(webhook.__file__).read_text(encoding="utf-8")
    shutdown = int(re.search(r"shutdown_timeout=(\d+)", source).group(1))  # type: ignore[union-attr]
    for bot in _bots(compose).values():
        assert int(str(bot["stop_grace_period"]).rstrip("s")) > shutdown


def test_the_example_env_names_every_variable_compose_requires(compose: dict[str, Any]) -> None:
    text = (DEPLOY / "docker-compose.yml").read_text(encoding="utf-8")
    required = set(re.findall(r"\$\{(\w+):\?", text))
    example = (DEPLOY / ".env.example").read_text(encoding="utf-8")
    named = set(re.findall(r"^(\w+)=", example, flags=re.MULTILINE))
    assert required <= named
