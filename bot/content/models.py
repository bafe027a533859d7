"""Pydantic models of the content store: the shape every YAML file in content/ must have.

Validation of a single record lives here; checks across records (dangling ids,
duplicates, required ids) live in `bot.content.check`, so that one run can report
every problem at once instead of stopping at the first.
"""

from __future__ import annotations

import re
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, model_validator

_STRICT = ConfigDict(extra="forbid", frozen=True)
# A phone shows about this much without scrolling: every answer's first message (its title and
# summary) keeps to it, raw Telegram HTML counted — the stricter measure.
SUMMARY_LIMIT = 400


class Source(BaseModel):
    model_config = _STRICT

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    title: str = Field(min_length=3)
    url: HttpUrl


class Category(StrEnum):
    """Medical answers must cite sources; social and service replies state no facts.

    `out_of_scope` intents hold phrasings of what the bot does not cover (other vitamins,
    cooking, weather…): a message closest to them gets the fallback, not a wrong answer.
    """

    medical = "medical"
    social = "social"
    service = "service"
    out_of_scope = "out_of_scope"


class Intent(BaseModel):
    model_config = _STRICT

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    title: str = Field(min_length=3)
    button: str = Field(min_length=2, max_length=32, description="short label for buttons")
    category: Category = Category.medical
    examples: list[str] = Field(min_length=12)
    answer: str = Field(min_length=1, description="Telegram HTML")
    summary: str = Field(
        min_length=1,
        description="Telegram HTML: what the first message shows under the answer's title line, "
        "answering the question on its own (≤ SUMMARY_LIMIT); the whole answer when it is the "
        "same text, for short replies",
    )
    sources: list[str] = []
    related: list[str] = []


class FoodKind(StrEnum):
    natural = "natural"
    fortified = "fortified"
    unreliable = "unreliable"


_NO_B12 = re.compile(r"\bno (?:reliable )?B12\b", re.IGNORECASE)


class Food(BaseModel):
    """One food of foods.yaml. The food card's templates (messages/core.yaml) name the food
    only as a title or a label, so they need no grammatical number; what differs between
    foods (how much, on which label, for whom) is data here and checked below."""

    model_config = _STRICT

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    name: str = Field(
        min_length=2, description="display name: a title or label, never mid-sentence"
    )
    names: list[str] = Field(min_length=1, description="names, plurals, local names, spellings")
    group: str = Field(min_length=2)
    serving: str = Field(min_length=2)
    mcg: float = Field(ge=0)
    dv_percent: int = Field(ge=0)
    kind: FoodKind
    note: str = ""
    alternative: str | None = Field(default=None, description="food id of a reliable source")
    label_names: list[str] = Field(
        default=[],
        description="names (of `names`) of products whose B12 only the label can tell (oat "
        "milk): no figure is assumed for them, so the intake counter does not count them",
    )
    caution: str = Field(
        default="",
        description="a safety line the food tools show wherever they count or list the food; "
        "its source is among `sources`, and the card says the same in `note`",
    )
    sources: list[str] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Food:
        problems = []
        if self.kind is FoodKind.unreliable:
            # The card of an unreliable food shows no figure of its own: the note must.
            if self.mcg == 0 and not _NO_B12.search(self.note):
                problems.append("note: a food with 0 mcg must say it has no B12")
            if self.mcg > 0 and f"{self.mcg:g} mcg" not in self.note:
                problems.append(f"note: must give the figure ({self.mcg:g} mcg)")
        names = {n.casefold() for n in self.names}
        problems += [
            f"label_names: {n!r} is not one of `names`"
            for n in self.label_names
            if n.casefold() not in names
        ]
        if self.label_names and self.kind is not FoodKind.fortified:
            problems.append("label_names: only a fortified food depends on its label")
        if self.caution and not self.note:
            problems.append("caution: the card shows only `note`, which must say it too")
        if problems:
            raise ValueError("; ".join(problems))
        return self


class Synonyms(BaseModel):
    model_config = _STRICT

    b12: list[str] = Field(description="ways of writing B12, folded to the token 'b12'")
    spellings: dict[str, str] = Field(description="word → canonical word (British → American)")
    phrases: dict[str, str] = Field(description="phrase → canonical phrase (charley horse → cramp)")
    emoji: dict[str, str] = Field(
        default={}, description="emoji → word, read before emoji is stripped"
    )
    stopwords: list[str] = Field(default=[], description="words that carry no topic")
    empty: list[str] = Field(
        default=[],
        description="words that say nothing alone: a message of only these, numbers and "
        "punctuation is not understood, whatever the model guesses ('' OR 1=1 --')",
    )
    preambles: list[str] = Field(
        default=[],
        description="openings that only announce a question ('ok different question', 'quick "
        "question'): the matcher reads what follows them",
    )
    domain: list[str] = Field(
        default=[],
        description="words (as written, not stems) showing a message is about cramps, B12 or "
        "the body: such a message is never declined as out of scope",
    )


class Problem(BaseModel):
    """One finding of the content check, pointing at the file and field to fix."""

    model_config = ConfigDict(frozen=True)

    file: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.field}: {self.message}"
