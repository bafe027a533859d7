"""DATABASE_URL: which backend, and where.

`sqlite:///data/bot.sqlite3` (a relative path: three slashes), `sqlite:////var/lib/bot.db`
(an absolute one: four), or `postgresql://user:password@host:5432/db` (also `postgres://`;
asyncpg reads the rest, query parameters such as `?sslmode=require` included).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True, slots=True)
class DatabaseUrl:
    backend: Literal["sqlite", "postgresql"]
    target: str  # the SQLite file's path, or the URL as asyncpg takes it


def parse_url(url: str) -> DatabaseUrl:
    """Raise ValueError (with a message that never echoes a password) for anything else."""
    scheme, sep, rest = url.strip().partition("://")
    scheme = scheme.lower()
    if sep and scheme == "sqlite":
        if not rest.startswith("/") or len(rest) < 2:
            raise ValueError("an SQLite URL is sqlite:///relative/path or sqlite:////absolute")
        return DatabaseUrl("sqlite", rest[1:])
    if sep and scheme in ("postgresql", "postgres"):
        if rest in ("", "/"):
            raise ValueError("a PostgreSQL URL is postgresql://user@host:port/database")
        return DatabaseUrl("postgresql", f"postgresql://{rest}")
    raise ValueError("must start with sqlite:/// or postgresql://")
