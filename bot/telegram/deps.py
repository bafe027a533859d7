"""What every handler needs, built once at start-up and reached through the context.

Handlers get their collaborators from here rather than from module globals, so two bots (or
two tests) in one process never share state.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from telegram.ext import CallbackContext

from bot.core.check import CheckEngine
from bot.core.engine import Engine
from bot.core.turn import Turns
from bot.storage import Storage
from bot.telegram.flood import FloodGuard
from bot.telegram.inline import InlineCache

_KEY = "b12_deps"


@dataclass(slots=True)
class Deps:
    engine: Engine
    storage: Storage
    check: CheckEngine  # the B12 check's state machine (bot.core.check)
    admin_ids: frozenset[int] = frozenset()
    flood: FloodGuard = field(default_factory=FloodGuard)
    clock: Callable[[], float] = time.time  # epoch seconds; the check's idle expiry reads it
    inline_cache: InlineCache = field(default_factory=InlineCache)  # cards per inline query
    turns: Turns = field(init=False)  # one turn of a chat (bot.core.turn), for every window

    def __post_init__(self) -> None:
        self.turns = Turns(self.engine, self.check)

    def text(self, key: str, **values: str) -> str:
        return self.engine.message(key, **values)

    def install(self, bot_data: dict[str, object]) -> None:
        bot_data[_KEY] = self


def deps(context: CallbackContext) -> Deps:  # type: ignore[type-arg]
    found = context.application.bot_data[_KEY]
    assert isinstance(found, Deps)  # noqa: S101 - set once by build_application
    return found
