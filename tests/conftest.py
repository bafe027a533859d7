from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fsfaults import ReadOnly
from pgserver import PostgresServer

from bot.core.engine import Engine

ROOT = Path(__file__).resolve().parents[1]
CONTENT = ROOT / "content"


@pytest.fixture(scope="session")
def engine() -> Engine:
    return Engine.load(CONTENT)


@pytest.fixture
def read_only() -> Iterator[ReadOnly]:
    """Make files unwritable for real (see tests/fsfaults.py); undone after the test."""
    faults = ReadOnly()
    try:
        yield faults
    finally:
        faults.clear()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One real PostgreSQL server for the whole test session (tests/pgserver.py)."""
    server = PostgresServer().start()
    try:
        yield server
    finally:
        server.stop()
