"""Service settings, read from the environment and `.env` (documented in `.env.example`).

Validation happens once, at start-up, so a typo in a deployment fails loudly with one line
naming the variable (exit code 2) instead of surfacing later as a confusing runtime error.
Secrets are `SecretStr` so they never end up in a repr or a log line by accident.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.storage.url import parse_url

__all__ = ["Settings", "SettingsError", "load_settings"]

# Telegram tokens look like "123456789:AAH…" (bot id, colon, 35 url-safe characters).
# Be a little lenient on the length of the secret part: test servers use shorter ones.
_TOKEN_RE = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{20,}$")
# Telegram's rule for the webhook secret token.
_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


class SettingsError(Exception):
    """Invalid settings; `str(e)` is the one line to show the operator."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
    )

    telegram_bot_token: SecretStr | None = None
    telegram_api_base_url: str | None = None
    telegram_api_base_file_url: str | None = None
    mode: Literal["polling", "webhook"] = "polling"
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    # Inside a container the server must listen on all interfaces to be reachable.
    webhook_listen: str = "0.0.0.0"  # noqa: S104  # nosec B104  # see the line above
    webhook_port: int = Field(default=8080, ge=1, le=65535)
    database_path: Path = Path("data/bot.sqlite3")
    # sqlite:///path or postgresql://user:password@host:port/db; wins over DATABASE_PATH.
    # A secret: the URL may carry a password.
    database_url: SecretStr | None = None
    admin_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    # Telegram's own overall limit; 0 turns the limiter off (a self-hosted Bot API server
    # with higher limits, or the load benchmark).
    telegram_max_rate: float = Field(default=30.0, ge=0)

    @field_validator("mode", "log_level", mode="before")
    @classmethod
    def _case_insensitive(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip()
            return value.upper() if value.lower() in _LOG_LEVELS else value.lower()
        return value

    @field_validator("telegram_bot_token", mode="before")
    @classmethod
    def _check_token(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip()
            if not value:
                return None
            if not _TOKEN_RE.match(value):
                # Never echo the value: it may be a real token with a typo in it.
                raise ValueError("does not look like a bot token (expected '<digits>:<secret>')")
        return value

    @field_validator("webhook_secret", mode="before")
    @classmethod
    def _check_secret(cls, value: object) -> object:
        if isinstance(value, str):
            if not value:
                return None
            if not _SECRET_RE.match(value):
                raise ValueError("must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
        return value

    @field_validator("telegram_api_base_url", "telegram_api_base_file_url", "webhook_url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("must be an http:// or https:// URL")
        return value.strip()

    @field_validator("database_url", mode="before")
    @classmethod
    def _check_database_url(cls, value: object) -> object:
        if isinstance(value, str):
            if not value.strip():
                return None
            parse_url(value)  # ValueError names the expected forms, never the value
            return value.strip()
        return value

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            items = [item for item in re.split(r"[,\s]+", value.strip()) if item]
            try:
                return frozenset(int(item) for item in items)
            except ValueError:
                raise ValueError("must be Telegram user ids separated by commas") from None
        if isinstance(value, int):
            return frozenset([value])
        return value

    @model_validator(mode="after")
    def _check_webhook(self) -> Settings:
        if self.mode == "webhook":
            if self.webhook_url is None:
                raise ValueError("WEBHOOK_URL: required when MODE=webhook")
            if self.webhook_secret is None:
                raise ValueError("WEBHOOK_SECRET: required when MODE=webhook")
        return self

    @property
    def token(self) -> str:
        """The bot token; only the service asks for it, after checking it is set."""
        if self.telegram_bot_token is None:
            raise SettingsError("TELEGRAM_BOT_TOKEN: not set")
        return self.telegram_bot_token.get_secret_value()

    @property
    def database(self) -> str:
        """Where the state lives: DATABASE_URL when set, else the SQLite file DATABASE_PATH."""
        if self.database_url is not None:
            return self.database_url.get_secret_value()
        return str(self.database_path)

    @property
    def webhook_path(self) -> str:
        """The path our server answers webhook POSTs on: the path of WEBHOOK_URL."""
        path = urlsplit(self.webhook_url or "").path
        return path if path else "/"


_LOG_LEVELS = {"debug", "info", "warning", "error", "critical"}


def _describe(error: ValidationError) -> str:
    """One line naming every bad variable, without echoing any value."""
    parts = []
    for item in error.errors(include_input=False, include_url=False):
        name = "_".join(str(loc) for loc in item["loc"]).upper()
        message = item["msg"].removeprefix("Value error, ")
        parts.append(f"{name}: {message}" if name else message)
    return "invalid settings: " + "; ".join(parts)


def load_settings(*, require_token: bool = True, **overrides: object) -> Settings:
    """Read the settings; raise `SettingsError` with a one-line message when they are invalid."""
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        raise SettingsError(_describe(error)) from None
    if require_token and settings.telegram_bot_token is None:
        raise SettingsError("invalid settings: TELEGRAM_BOT_TOKEN: not set")
    return settings
