"""Pydantic models of the content store: the shape every YAML file in content/ must have.

Validation of a single record lives here; checks across records (dangling ids,
duplicates, required ids) live in `bot.content.check`, so that one run can report
every problem at once instead of stopping at the first.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, HttpUrl

_STRICT = ConfigDict(extra="forbid", frozen=True)


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
    sources: list[str] = []
    related: list[str] = []


class FoodKind(StrEnum):
    natural = "natural"
    fortified = "fortified"
    unreliable = "unreliable"


class Food(BaseModel):
    model_config = _STRICT

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    name: str = Field(min_length=2, description="display name")
    names: list[str] = Field(min_length=1, description="names, plurals, local names, spellings")
    group: str = Field(min_length=2)
    serving: str = Field(min_length=2)
    mcg: float = Field(ge=0)
    dv_percent: int = Field(ge=0)
    kind: FoodKind
    note: str = ""
    alternative: str | None = Field(default=None, description="food id of a reliable source")
    sources: list[str] = Field(min_length=1)


class Synonyms(BaseModel):
    model_config = _STRICT

    b12: list[str] = Field(description="ways of writing B12, folded to the token 'b12'")
    spellings: dict[str, str] = Field(description="word → canonical word (British → American)")
    phrases: dict[str, str] = Field(description="phrase → canonical phrase (charley horse → cramp)")
    emoji: dict[str, str] = Field(
        default={}, description="emoji → word, read before emoji is stripped"
    )
    stopwords: list[str] = Field(default=[], description="words that carry no topic")
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
