"""Callback data: what a button carries, and how a press is checked before it is trusted.

Telegram clients send back whatever callback data they like, so a press is parsed against
a closed set of shapes and everything else is "malformed". Data stays far below Telegram's
64-byte limit:

- `i:<intent id>` / `f:<food id>` / `u:<emergency id>` — the engine's own actions, resolved
  by `Engine.act`;
- `lab:<test>:<value>:<unit>` / `fg:<group slug>` — the personal tools' actions, also
  resolved by `Engine.act` (a unit for a lab value; a food group);
- `m:<ref>` / `s:<ref>` / `ms:<ref>` (with `!` after the letters for a reply with a safety
  line) — More and Sources of a long reply about `<ref>` (`i:…`, `f:…`, `lab:…`, or `in:<digest>`
  for a day's-B12 count), shown in the pressed message by `Engine.act`;
- `ls:<life stage>` — a life stage for the day's-B12 count, stored for the user;
- `n:<number>` — "None of these" for a stored fallback question (see `Storage`);
- `q:<…>` — reserved for the B12 check (issue 4).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

MAX_BYTES = 64
NONE_ACTION = "none"  # the engine's action for "None of these"
STAGE_PREFIX = "ls"  # a life-stage button; `Press.data` is the stage id alone

_ENGINE = re.compile(
    r"^(?:(?:[ifu]|fg):[a-z0-9_]{1,40}|lab:[a-z0-9_]{1,20}:[0-9.e+-]{1,16}:[a-z0-9_]{1,12})$"
)
_LAB = r"lab:[a-z0-9_]{1,20}:(?:[0-9.e+-]{1,16}:[a-z0-9_]{1,12}(?::a)?|high|low|normal)"
_VIEW = re.compile(rf"^(?:m|s|ms)!?:(?:[if]:[a-z0-9_]{{1,40}}|{_LAB}|in:[0-9a-f]{{10}})$")
_MEAL_VIEW = re.compile(r"^[ms]{1,2}!?:in:")
_STAGE = re.compile(r"^ls:([a-z0-9_]{1,37})$")
_PENDING = re.compile(r"^n:([1-9][0-9]{0,17})$")
_CHECK = re.compile(r"^q:[A-Za-z0-9_:.-]{1,60}$")


class Kind(Enum):
    engine = "engine"
    life_stage = "life_stage"
    none_of_these = "none_of_these"
    check = "check"
    view = "view"
    malformed = "malformed"


@dataclass(frozen=True, slots=True)
class Press:
    kind: Kind
    data: str
    pending_id: int | None = None


def none_of_these(pending_id: int) -> str:
    return f"n:{pending_id}"


def counts_a_meal(view: str) -> bool:
    """A More / Sources press on a day's-B12 count: the window passes the user's last meal."""
    return _MEAL_VIEW.match(view) is not None


def fits(data: str) -> bool:
    return 0 < len(data.encode("utf-8")) <= MAX_BYTES


def parse(data: str | None) -> Press:
    """Classify callback data; anything unexpected is `Kind.malformed`, never an exception."""
    if not isinstance(data, str) or not fits(data):
        return Press(Kind.malformed, str(data)[:MAX_BYTES])
    if _ENGINE.match(data):
        return Press(Kind.engine, data)
    if _VIEW.match(data):
        return Press(Kind.view, data)
    match = _PENDING.match(data)
    if match:
        return Press(Kind.none_of_these, data, int(match.group(1)))
    match = _STAGE.match(data)
    if match:
        return Press(Kind.life_stage, match.group(1))
    if _CHECK.match(data):
        return Press(Kind.check, data)
    return Press(Kind.malformed, data)
