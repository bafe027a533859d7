"""The check's state and the values its steps return: plain data, JSON round-trips.

`State` is all a chat's check is: persisted after every step, so a crash loses nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.content.questionnaire import Option, Question
from bot.core.reply import Reply

MAX_ACTION_BYTES = 40
ACTION = re.compile(
    r"q:([0-9a-z]{1,8}):(r|\d{1,2}):(\d{1,2}|t\d{1,2}|ok|back|why|stop|end|sum|go)", re.ASCII
)
OPTION = re.compile(r"(t?)(\d{1,2})", re.ASCII)
TELEGRAM_LIMIT = 4096


class Status(StrEnum):
    active = "active"  # a question is waiting for an answer
    finished = "finished"  # a result exists; Back and the doctor summary still work
    urgent = "urgent"  # a safety answer ended the check
    stopped = "stopped"  # the user pressed Stop
    expired = "expired"  # idle too long


class Answer(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    q: str
    o: tuple[str, ...]


class State(BaseModel):
    """Everything a check needs to continue after a restart; store `to_json()` per chat."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    v: Literal[1] = 1
    token: str = Field(pattern=r"^[0-9a-z]{1,8}$")
    started_at: float = Field(allow_inf_nan=False)
    updated_at: float = Field(allow_inf_nan=False)
    status: Status = Status.active
    current: str | None = None
    answers: tuple[Answer, ...] = ()
    pending: tuple[str, ...] = Field((), description="ticked (multi) or earlier (Back) choice")
    stopping: bool = Field(False, description="Stop was pressed: asking “Yes, stop / Resume”")

    def to_json(self) -> str:
        return self.model_dump_json()

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict (for `Storage.save_session`)."""
        return self.model_dump(mode="json")

    @classmethod
    def from_json(cls, raw: str | bytes | Mapping[str, Any]) -> State | None:
        """None for anything that is not a state this version wrote (JSON text or dict)."""
        try:
            if isinstance(raw, Mapping):
                return cls.model_validate(dict(raw))
            return cls.model_validate_json(raw)
        except (ValidationError, ValueError, TypeError):
            return None


class Outcome(StrEnum):
    question = "question"  # show the (next or same) question
    result = "result"
    urgent = "urgent"
    stopped = "stopped"
    why = "why"  # the current question with its "why I ask" line
    confirm = "confirm"  # Stop was pressed: "Yes, stop" or "Resume"?
    summary = "summary"  # the doctor summary: send as a new message
    stale = "stale"  # a button of an earlier question of this check: current view again
    ended = "ended"  # no such check any more: "this check has ended — /check …"
    expired = "expired"  # idle too long; the state is now expired
    invalid = "invalid"  # malformed or forged action


class Rejection(StrEnum):
    stale = "stale"
    ended = "ended"
    invalid = "invalid"
    empty_choice = "empty_choice"
    first_question = "first_question"


@dataclass(frozen=True, slots=True)
class Rejected:
    """Why an answer/back/toggle was refused; the state is unchanged."""

    reason: Rejection


@dataclass(frozen=True, slots=True)
class OptionView:
    index: int  # position in the question's option list (stable; used in callback data)
    option: Option
    selected: bool


@dataclass(frozen=True, slots=True)
class QuestionView:
    question: Question
    index: int
    number: int  # "Question n …"
    total: int  # "… of N": answered + still reachable
    options: tuple[OptionView, ...]  # only the visible ones, in display order
    can_go_back: bool
    first_of_section: bool


@dataclass(frozen=True, slots=True)
class Result:
    level: str  # a level id, or "urgent"
    title: str
    b12: int
    signals: dict[str, int]
    tags: frozenset[str]
    reasons_for: tuple[str, ...]
    reasons_against: tuple[str, ...]
    contributors: tuple[str, ...]  # signal ids, strongest first
    notes: tuple[str, ...]  # note ids
    text: str  # Telegram HTML
    summary: str  # Telegram HTML, the "Summary for my doctor"

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe (for `Storage.add_result`)."""
        record = {name: getattr(self, name) for name in self.__dataclass_fields__}
        return record | {"tags": sorted(self.tags), "signals": dict(self.signals)}


@dataclass(frozen=True, slots=True)
class Ended:
    status: Status  # stopped or expired


@dataclass(frozen=True, slots=True)
class Transition:
    """What a tap or typed answer did: persist `state` (None: there is none), show `reply`."""

    outcome: Outcome
    state: State | None
    reply: Reply
    notice: str | None = None  # a short plain-text toast (callback query answer)
    new_message: bool = False  # True: send as a new message; False: edit the check message


@dataclass(frozen=True, slots=True)
class Typed:
    """What a typed message does to a chat that may have a check running — decided once, in
    the core, for every window (`CheckEngine.read_typed`). A window applies it in this order:
    persist and show `step` (an answer, a command, or "this check expired"), show `hint` on
    the check message ("didn't catch that" and the options), take the check message's
    buttons off when `detach` (the chat moved on: the next step goes in a new message), then
    send `answer` (the engine's reply to the message, if it is to be shown)."""

    answer: Reply | None
    step: Transition | None = None
    hint: Reply | None = None
    detach: bool = False


@dataclass
class Tally:
    b12: int = 0
    signals: dict[str, int] = field(default_factory=dict)
    tags: set[str] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)
    reasons_for: list[tuple[int, str]] = field(default_factory=list)
    reasons_against: list[str] = field(default_factory=list)
    sources: list[tuple[int, tuple[str, ...]]] = field(default_factory=list)
    urgent: Option | None = None


def check_token(started_at: float) -> str:
    value, digits = int(started_at * 1000) % 36**6, "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        value, rest = divmod(value, 36)
        out = digits[rest] + out
        if not value:
            return out
