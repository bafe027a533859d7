"""Where what is costly to build is kept between runs: trained models, the packed word list.

`bot.content.model_cache.ModelDirectory` keeps them on disk; without a store each process
builds its own.
"""

from __future__ import annotations

from typing import Protocol


class ModelStore(Protocol):
    def get(self, key: str) -> bytes | None: ...

    def put(self, key: str, data: bytes) -> None: ...
