"""The Telegram window onto the engine: a thin python-telegram-bot adapter.

`serve()` is what `python -m bot serve` runs. Imports point down: this package uses
`bot.core` (answers), `bot.storage` (state) and `bot.settings`; nothing imports it back.
"""

from __future__ import annotations

from pathlib import Path


def serve(content: Path | None = None) -> int:
    """Run the bot until SIGTERM; returns the process exit code."""
    from bot.telegram.service import serve as _serve

    return _serve(content)


__all__ = ["serve"]
