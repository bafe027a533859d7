"""What the engine hands to every window (Telegram, console, `ask --json`).

A reply is plain data: the adapters only render it, so the three windows give
byte-identical text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from bot.core.understand.entities import Entity
from bot.core.understand.match import Scored


class ReplyKind(StrEnum):
    answer = "answer"  # a curated intent answer
    food = "food"  # a food_lookup answer
    fallback = "fallback"  # nothing matched well enough; `suggestions` may hold did-you-mean ids
    urgent = "urgent"  # the safety layer fired
    social = "social"  # greeting, thanks, goodbye, ok, 👍
    start_check = "start_check"  # the user wants the questionnaire: the adapter starts it
    invalid = "invalid"  # empty, emoji-only, too long, …


@dataclass(frozen=True, slots=True)
class Button:
    """A follow-up choice. `action` is short and stable: `i:<intent_id>`, `f:<food_id>`, `none`."""

    label: str
    action: str


@dataclass(frozen=True, slots=True)
class Reply:
    """`text` is what the message shows; a long reply shows a summary there, and its More and
    Sources buttons (`bot.core.views`) show `more` in its place or add `sources` to it."""

    text: str  # Telegram HTML, ready to send
    kind: ReplyKind
    intent: str | None = None
    food: str | None = None
    score: float = 0.0
    suggestions: tuple[str, ...] = ()
    buttons: tuple[Button, ...] = field(default=())
    details: dict[str, object] | None = (
        None  # what a tool found (lab value, meal items), for --json
    )
    entities: tuple[Entity, ...] = ()  # what the message names (food, nutrient, age, …)
    ranked: tuple[Scored, ...] = ()  # the model's top intents for the message (follow-ups)
    more: str | None = None  # the whole reply More shows instead of `text` (no Source line yet)
    sources: str | None = None  # the "Source: …" line Sources adds, not yet shown

    @property
    def full(self) -> str:
        """Everything the reply has to say: its whole text with its Source line."""
        text = self.more or self.text
        return f"{text}\n\n{self.sources}" if self.sources else text
