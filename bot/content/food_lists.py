"""Pydantic model of content/food_lists.yaml: the wording of ranked food lists and of /foods.

The figures stay in foods.yaml; this file adds group buttons, intros and the words that
ask for a ranking. `check_food_lists` also makes sure every group in foods.yaml has a
button here, so a new group cannot silently vanish from /foods.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, model_validator

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
FILE_NAME = "food_lists.yaml"
GROUP_ACTION = "fg"  # button data "fg:<slug>"


class Group(BaseModel):
    model_config = _STRICT

    group: str = Field(min_length=2, description="exactly as `group` in foods.yaml")
    slug: str = Field(pattern=r"^[a-z0-9_]{1,20}$")
    button: str = Field(min_length=2, max_length=32)
    intro: str = Field(min_length=1, description="Telegram HTML")


class ListTexts(BaseModel):
    model_config = _STRICT

    title_all: str
    title_vegan: str
    line: str
    footer_all: str
    footer_vegan: str
    group_title: str
    group_line: str
    caution: str
    menu: str
    menu_button: str
    sources: str


TEMPLATES: dict[str, set[str]] = {
    "line": {"rank", "name", "mcg", "serving", "dv"},
    "group_title": {"group"},
    "group_line": {"name", "mcg", "serving"},
    "caution": {"caution"},
    "sources": {"titles"},
}


class FoodLists(BaseModel):
    model_config = _STRICT

    version: Literal[1]
    default_limit: int = Field(ge=1, le=30)
    max_limit: int = Field(ge=1, le=30)
    rank_words: tuple[str, ...] = Field(min_length=1)
    food_words: tuple[str, ...] = Field(min_length=1)
    vegan_words: tuple[str, ...] = Field(min_length=1)
    groups: tuple[Group, ...] = Field(min_length=1)
    texts: ListTexts
    text_sources: dict[str, tuple[str, ...]] = {}

    @model_validator(mode="after")
    def _cross_references(self, info: ValidationInfo) -> FoodLists:
        collect(self.reference_problems(), info)
        return self

    def reference_problems(self) -> list[str]:
        problems = text_problems(self.texts.model_dump(), TEMPLATES, "texts")
        for group in self.groups:
            problems += text_problems({"intro": group.intro}, {}, f"groups.{group.slug}")
        slugs = [g.slug for g in self.groups]
        if len(set(slugs)) != len(slugs) or len({g.group for g in self.groups}) != len(slugs):
            problems.append("groups: duplicate group or slug")
        if self.default_limit > self.max_limit:
            problems.append("default_limit: larger than max_limit")
        problems += [
            f"text_sources.{key}: no such text"
            for key in self.text_sources
            if key not in ListTexts.model_fields
        ]
        return problems

    def all_sources(self) -> Iterator[tuple[str, str]]:
        for key, ids in self.text_sources.items():
            yield from ((f"text_sources.{key}", sid) for sid in ids)

    def group(self, name: str) -> Group | None:
        return next((g for g in self.groups if g.group == name), None)


def _cross(lists: FoodLists, content_dir: Path) -> list[str]:
    foods = record_ids(content_dir / "foods.yaml", "foods")
    problems = source_problems(lists.all_sources(), set(source_titles(content_dir)))
    used = {str(item.get("group")) for item in foods.values()}
    problems += [
        f"groups: no button for foods.yaml group {g!r}" for g in sorted(used) if not lists.group(g)
    ]
    problems += [
        f"groups.{g.slug}: no food in group {g.group!r}"
        for g in lists.groups
        if g.group not in used
    ]
    return problems


def check_food_lists(content_dir: Path) -> list[Problem]:
    return check_file(content_dir, FILE_NAME, FoodLists, _cross)[1]


def load_food_lists(content_dir: Path) -> FoodLists:
    return load_file(content_dir, FILE_NAME, FoodLists, _cross)
