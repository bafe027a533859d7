"""Pydantic models of content/intake.yaml, the data behind "a day's B12".

Portions, measures, number words, the RDA table and every reply text live in the YAML, so
`bot.core.tools.intake` holds no figures or wording. Checks inside the file (placeholders,
HTML, measure names, button-data length) run when the model is built; food ids are
checked against foods.yaml and source ids against sources.yaml by `check_intake`.
`load_intake` adds the names of the foods entities.yaml lists as unlisted ("chicken liver"),
so that the counter never counts one as the food inside its name.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, model_validator

from bot.content.entities import load_entities
from bot.content.models import Problem
from bot.content.refs import (
    check_file,
    collect,
    load_file,
    record_ids,
    source_problems,
    source_titles,
    text_problems,
)

_STRICT = ConfigDict(extra="forbid", frozen=True)
FILE_NAME = "intake.yaml"
STAGE_ACTION = "ls"  # button data "ls:<life stage id>"
MAX_ACTION_BYTES = 40


class LifeStage(BaseModel):
    model_config = _STRICT

    id: str = Field(pattern=r"^[a-z0-9_]+$", max_length=MAX_ACTION_BYTES - len(STAGE_ACTION) - 1)
    label: str = Field(min_length=2, description="plain text: 'the need for {label}'")
    mcg: float = Field(gt=0, description="RDA (or AI), mcg/day")
    button: str | None = Field(None, max_length=32)
    words: tuple[str, ...] = Field((), description="phrases in a message that name this stage")
    note: str | None = None
    sources: tuple[str, ...] = Field(min_length=1)


class Portion(BaseModel):
    model_config = _STRICT

    grams: float | None = Field(None, gt=0)
    cups: float | None = Field(None, gt=0)
    each: float = Field(1.0, gt=0)
    measures: dict[str, float] = {}


class IntakeTexts(BaseModel):
    model_config = _STRICT

    title: str
    item: str
    item_none: str
    item_label: str
    amount: str
    mark_assumed: str
    mark_fortified: str
    mark_unreliable: str
    total: str
    total_none: str
    reached: str
    reached_poorly_absorbed: str
    short: str
    suggest_title: str
    suggestion: str
    vegan_note: str
    unrecognised: str
    no_figure: str
    nothing_found: str
    empty: str
    stage_unknown: str
    big_item: str
    eggs_note: str
    caution: str
    disclaimer: str
    sources: str
    list_separator: str
    stage_button: str


TEMPLATES: dict[str, set[str]] = {
    "item": {"food", "amount", "mcg", "marks"},
    "item_none": {"food", "amount", "marks"},
    "item_label": {"food"},
    "amount": {"servings", "serving"},
    "total": {"total", "stage", "need"},
    "total_none": {"stage", "need"},
    "reached_poorly_absorbed": {"gap"},
    "short": {"gap"},
    "suggestion": {"food", "amount", "mcg", "marks"},
    "unrecognised": {"items"},
    "no_figure": {"items"},
    "caution": {"caution"},
    "nothing_found": {"items", "examples"},
    "stage_unknown": {"stage", "need"},
    "sources": {"titles"},
    "stage_button": {"label"},
}


class Intake(BaseModel):
    """The whole file. Built through `load_intake` / `check_intake`."""

    model_config = _STRICT

    version: Literal[1]
    life_stages: tuple[LifeStage, ...] = Field(min_length=1)
    default_life_stage: str
    vegan_words: tuple[str, ...]
    numbers: dict[str, float]
    weights: dict[str, float]
    volumes: dict[str, float]
    counts: dict[str, float | None]
    portions: dict[str, Portion]
    filler: tuple[str, ...]
    suggest_count: int = Field(ge=1, le=6)
    # facts §1c: B12 from these is poorly absorbed; never suggested, never relied on for "✅".
    poorly_absorbed: tuple[str, ...] = ()
    fuzzy_cutoff: float = Field(ge=60, le=100)
    big_item_mcg: float = Field(gt=0)
    triggers: tuple[str, ...]
    not_meal_words: tuple[str, ...]
    # "how much b12 in salmon" asks about one food; "how much b12 in 2 eggs" is a sum.
    food_questions: tuple[str, ...] = ()
    # ...unless they ask about what the message just listed ("cheese on toast, how much b12
    # is that"): then the foods named are a meal, even one.
    meal_questions: tuple[str, ...] = ()
    # Words that make a message naming two foods a question, not a meal ("eggs or milk").
    question_words: tuple[str, ...] = ()
    # ...but two foods and one of these ask for their sum ("eggs and milk how much b12"),
    # unless a comparing word is there too ("how much b12 in eggs vs milk").
    total_questions: tuple[str, ...] = ()
    compare_words: tuple[str, ...] = ()
    texts: IntakeTexts
    text_sources: dict[str, tuple[str, ...]]
    # Not in intake.yaml: `load_intake` fills it from entities.yaml `unlisted_food`.
    no_figure: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _cross_references(self, info: ValidationInfo) -> Intake:
        collect(self.reference_problems(), info)
        return self

    def reference_problems(self) -> list[str]:
        problems: list[str] = []
        ids = [s.id for s in self.life_stages]
        if len(set(ids)) != len(ids):
            problems.append("life_stages: duplicate ids")
        if self.default_life_stage not in ids:
            problems.append(f"default_life_stage: unknown life stage {self.default_life_stage!r}")
        measures = set(self.weights) | set(self.volumes) | set(self.counts)
        if len(measures) != len(self.weights) + len(self.volumes) + len(self.counts):
            problems.append("weights/volumes/counts: a measure is listed twice")
        clash = sorted(measures & (set(self.numbers) | set(self.filler)))
        problems += [f"filler/numbers: {word!r} is also a measure" for word in clash]
        for food_id, portion in self.portions.items():
            problems += [
                f"portions.{food_id}.measures: {m!r} is not a measure in `counts`"
                for m in portion.measures
                if m not in self.counts
            ]
        for key in self.text_sources:
            if key not in IntakeTexts.model_fields:
                problems.append(f"text_sources.{key}: no such text")
        problems += text_problems(self.texts.model_dump(), TEMPLATES, "texts")
        for stage in self.life_stages:
            if stage.note:
                problems += text_problems({"note": stage.note}, {}, f"life_stages.{stage.id}")
        return problems

    def all_sources(self) -> Iterator[tuple[str, str]]:
        for stage in self.life_stages:
            yield from ((f"life_stages.{stage.id}", sid) for sid in stage.sources)
        for key, ids in self.text_sources.items():
            yield from ((f"text_sources.{key}", sid) for sid in ids)

    def stage(self, stage_id: str | None) -> LifeStage | None:
        return next((s for s in self.life_stages if s.id == stage_id), None)


def _cross(intake: Intake, content_dir: Path) -> list[str]:
    foods = set(record_ids(content_dir / "foods.yaml", "foods"))
    problems = source_problems(intake.all_sources(), set(source_titles(content_dir)))
    problems += [
        f"portions.{food_id}: unknown food id"
        for food_id in intake.portions
        if food_id not in foods
    ]
    problems += [
        f"portions: no portion for food {f!r}" for f in sorted(foods - set(intake.portions))
    ]
    problems += [
        f"poorly_absorbed: unknown food id {f!r}" for f in intake.poorly_absorbed if f not in foods
    ]
    return problems


def check_intake(content_dir: Path) -> list[Problem]:
    """Every problem of intake.yaml (format, cross-references, food and source ids)."""
    return check_file(content_dir, FILE_NAME, Intake, _cross)[1]


def load_intake(content_dir: Path) -> Intake:
    """The intake content of `content_dir`, with the names of the foods that have no figure;
    ToolContentError lists every problem if invalid."""
    intake = load_file(content_dir, FILE_NAME, Intake, _cross)
    unlisted = load_entities(content_dir).kinds.get("unlisted_food", {})
    names = tuple(name for names in unlisted.values() for name in names)
    return intake.model_copy(update={"no_figure": names})
