"""Settings: read from the environment and .env; invalid values name their variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import SettingsError, load_settings

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"  # noqa: S105 - made up
VARIABLES = (
    "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_API_BASE_URL",
    "TELEGRAM_API_BASE_FILE_URL",
    "MODE",
    "WEBHOOK_URL",
    "WEBHOOK_SECRET",
    "WEBHOOK_LISTEN",
    "WEBHOOK_PORT",
    "DATABASE_PATH",
    "DATABASE_URL",
    "ADMIN_IDS",
    "LOG_LEVEL",
    "TELEGRAM_MAX_RATE",
)
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def clean(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no developer .env


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    settings = load_settings()
    assert settings.token == TOKEN
    assert settings.mode == "polling"
    assert settings.database_path == Path("data/bot.sqlite3")
    assert settings.admin_ids == frozenset()
    assert settings.log_level == "INFO"
    assert settings.telegram_max_rate == 30
    assert settings.telegram_api_base_url is None
    assert TOKEN not in repr(settings)


def test_everything_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": "http://127.0.0.1:8081/bot",
        "TELEGRAM_API_BASE_FILE_URL": "http://127.0.0.1:8081/file/bot",
        "MODE": "Webhook",
        "WEBHOOK_URL": "https://bot.example.org/tg/hook",
        "WEBHOOK_SECRET": "abc_DEF-123",
        "WEBHOOK_LISTEN": "127.0.0.1",
        "WEBHOOK_PORT": "8443",
        "DATABASE_PATH": "/var/lib/bot/db.sqlite3",
        "ADMIN_IDS": "11, 22 33",
        "LOG_LEVEL": "debug",
        "TELEGRAM_MAX_RATE": "0",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    s = load_settings()
    assert s.telegram_api_base_url == "http://127.0.0.1:8081/bot"
    assert s.telegram_api_base_file_url == "http://127.0.0.1:8081/file/bot"
    assert s.mode == "webhook"
    assert s.webhook_path == "/tg/hook"
    assert s.webhook_secret is not None and s.webhook_secret.get_secret_value() == "abc_DEF-123"
    assert (s.webhook_listen, s.webhook_port) == ("127.0.0.1", 8443)
    assert s.database_path == Path("/var/lib/bot/db.sqlite3")
    assert s.admin_ids == {11, 22, 33}
    assert s.log_level == "DEBUG"
    assert s.telegram_max_rate == 0


def test_dot_env_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(f"TELEGRAM_BOT_TOKEN={TOKEN}\nADMIN_IDS=5\n", "utf-8")
    settings = load_settings()
    assert settings.token == TOKEN
    assert settings.admin_ids == {5}


def test_the_environment_wins_over_dot_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text(f"TELEGRAM_BOT_TOKEN={TOKEN}\nLOG_LEVEL=ERROR\n", "utf-8")
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    assert load_settings().log_level == "WARNING"


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({}, "TELEGRAM_BOT_TOKEN"),
        ({"TELEGRAM_BOT_TOKEN": "nope"}, "TELEGRAM_BOT_TOKEN"),
        ({"WEBHOOK_PORT": "0"}, "WEBHOOK_PORT"),
        ({"WEBHOOK_PORT": "http"}, "WEBHOOK_PORT"),
        ({"MODE": "push"}, "MODE"),
        ({"MODE": "webhook", "WEBHOOK_SECRET": "s"}, "WEBHOOK_URL"),
        ({"MODE": "webhook", "WEBHOOK_URL": "https://x.org/h"}, "WEBHOOK_SECRET"),
        ({"WEBHOOK_URL": "bot.example.org/hook"}, "WEBHOOK_URL"),
        ({"WEBHOOK_SECRET": "ü" * 3}, "WEBHOOK_SECRET"),
        ({"ADMIN_IDS": "1;x"}, "ADMIN_IDS"),
        ({"LOG_LEVEL": "verbose"}, "LOG_LEVEL"),
        ({"TELEGRAM_MAX_RATE": "-1"}, "TELEGRAM_MAX_RATE"),
        ({"TELEGRAM_MAX_RATE": "fast"}, "TELEGRAM_MAX_RATE"),
    ],
)
def test_invalid_settings_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], named: str
) -> None:
    if env:
        monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as error:
        load_settings()
    message = str(error.value)
    assert named in message
    assert "\n" not in message
    assert TOKEN not in message


def test_env_example_documents_every_setting() -> None:
    example = (REPO / ".env.example").read_text("utf-8")
    documented = {
        line.lstrip("# ").split("=", 1)[0]
        for line in example.splitlines()
        if "=" in line and line.lstrip("# ").split("=", 1)[0].isupper()
    }
    assert set(VARIABLES) <= documented
    from bot.settings import Settings

    assert {name.upper() for name in Settings.model_fields} == set(VARIABLES)


def test_env_example_as_is_is_valid_apart_from_the_token(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text((REPO / ".env.example").read_text("utf-8"), "utf-8")
    settings = load_settings(require_token=False)
    assert settings.mode == "polling"
    with pytest.raises(SettingsError, match="TELEGRAM_BOT_TOKEN"):
        load_settings()


def test_database_url_wins_over_the_path_and_is_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_PATH", "data/x.sqlite3")
    assert load_settings(require_token=False).database == "data/x.sqlite3"
    url = "postgresql://bot:hunter2@db:5432/bot"
    monkeypatch.setenv("DATABASE_URL", url)
    settings = load_settings(require_token=False)
    assert settings.database == url
    assert "hunter2" not in repr(settings)


@pytest.mark.parametrize("url", ["mysql://db/bot", "sqlite://no-slash", "postgres://"])
def test_a_bad_database_url_names_the_variable_not_the_value(
    monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    with pytest.raises(SettingsError, match="DATABASE_URL") as raised:
        load_settings(require_token=False)
    assert url not in str(raised.value)
