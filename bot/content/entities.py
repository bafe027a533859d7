"""Pydantic model of content/entities.yaml: the lexicons of things a message can name."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from bot.content.models import Problem
from bot.content.refs import check_file, load_file

FILE_NAME = "entities.yaml"
Kind = Literal["nutrient", "medicine", "condition", "body_part", "time_of_day", "unlisted_food"]


class EntityLexicon(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1]
    kinds: dict[Kind, dict[str, tuple[str, ...]]] = Field(description="kind → entity id → names")
    units: tuple[str, ...] = Field(default=(), description="units a number can carry")


def _cross(lexicon: EntityLexicon, content_dir: Path) -> list[str]:
    problems = []
    for kind, entities in lexicon.kinds.items():
        for entity, names in entities.items():
            if not names:
                problems.append(f"kinds.{kind}.{entity}: needs at least one name")
    return problems


def check_entities(content_dir: Path) -> list[Problem]:
    return check_file(content_dir, FILE_NAME, EntityLexicon, _cross)[1]


def load_entities(content_dir: Path) -> EntityLexicon:
    """The lexicons; ToolContentError lists every problem if the file is invalid."""
    return load_file(content_dir, FILE_NAME, EntityLexicon, _cross)
