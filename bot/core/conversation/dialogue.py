"""The dialogue state of one chat: what the last messages were about.

Kept by every window (Telegram in the database through bot/storage, the console and
`ask --session` in memory) and handed to `FollowUps.follow` with each message. It is plain
data with a JSON form; a stored state that does not parse is treated as no state, so a
version change or a damaged row costs the context, never an answer.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Dialogue:
    intent: str | None = None  # the last answer's intent (lab_result, intake for the tools)
    food: str | None = None  # the last food card's food id
    lab: str | None = None  # the last lab reading, as its button action ("lab:b12:200:pg")
    meal: str | None = None  # everything eaten today, as typed, for a running total
    items: tuple[tuple[str, str], ...] = ()  # the last reply's buttons: (label, action)
    topics: tuple[str, ...] = ()  # the intents the last message could be about
    parts: tuple[str, ...] = ()  # of those, what its parts joined by "and", "or" asked
    entities: tuple[tuple[str, str], ...] = ()  # (kind, value) of the last message
    life_stage: str | None = None  # named by the user ("I'm pregnant", a stage button)
    previous: str | None = None  # the thing answered before the last ("which is better?")
    asked: str | None = None  # the sub-question a "which one?" asked ("any side effects?")
    updated_at: float = 0.0

    def expired(self, now: float, minutes: int) -> bool:
        return now - self.updated_at > minutes * 60

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: object) -> Dialogue:
        """A stored state; an empty Dialogue when it is missing or does not fit."""
        if not isinstance(data, dict):
            return cls()
        try:
            return cls(
                intent=_text(data.get("intent")),
                food=_text(data.get("food")),
                lab=_text(data.get("lab")),
                meal=_text(data.get("meal")),
                items=tuple((str(a), str(b)) for a, b in data.get("items") or ()),
                topics=tuple(str(t) for t in data.get("topics") or ()),
                parts=tuple(str(t) for t in data.get("parts") or ()),
                entities=tuple((str(a), str(b)) for a, b in data.get("entities") or ()),
                life_stage=_text(data.get("life_stage")),
                previous=_text(data.get("previous")),
                asked=_text(data.get("asked")),
                updated_at=float(data.get("updated_at") or 0.0),
            )
        except (TypeError, ValueError) as error:
            log.info("dropping a stored dialogue that does not fit: %s", error)
            return cls()


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
