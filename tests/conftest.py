from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.engine import Engine

ROOT = Path(__file__).resolve().parents[1]
CONTENT = ROOT / "content"


@pytest.fixture(scope="session")
def engine() -> Engine:
    return Engine.load(CONTENT)
