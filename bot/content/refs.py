"""Helpers shared by the loaders of the tool files (labs.yaml, intake.yaml, food_lists.yaml).

Each tool file is checked on its own, like questionnaire.yaml: its ids against
sources.yaml (and foods.yaml), its texts for Telegram HTML and for the placeholders its
renderer fills. One run reports every problem instead of stopping at the first.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError, ValidationInfo

from bot.content.html import html_problems
from bot.content.models import Problem
from bot.content.yamlfile import parse_yaml

M = TypeVar("M", bound=BaseModel)


def record_ids(path: Path, key: str) -> dict[str, dict[str, Any]]:
    """id → record of list `key` in a YAML file; its own format is checked elsewhere."""
    data = parse_yaml(path.read_text(encoding="utf-8")) or {}
    items = data.get(key) if isinstance(data, dict) else None
    return {
        item["id"]: item
        for item in (items if isinstance(items, list) else [])
        if isinstance(item, dict) and isinstance(item.get("id"), str)
    }


def source_titles(content_dir: Path) -> dict[str, str]:
    """id → title of sources.yaml, for "Source: …" lines."""
    records = record_ids(content_dir / "sources.yaml", "sources")
    return {sid: str(item.get("title", sid)) for sid, item in records.items()}


def placeholder_problems(where: str, text: str, allowed: set[str]) -> list[str]:
    """Placeholders the renderer does not fill would raise KeyError at reply time."""
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError as error:
        return [f"{where}: bad braces ({error})"]
    return [f"{where}: unknown placeholder {{{n}}}" for n in sorted(names - allowed)]


def text_problems(
    texts: Mapping[str, str], allowed: Mapping[str, set[str]], where: str
) -> list[str]:
    """HTML and placeholder problems of a block of templates."""
    problems = []
    for key, text in texts.items():
        problems += placeholder_problems(f"{where}.{key}", text, allowed.get(key, set()))
        # Fill placeholders first, so "{value}" is not mistaken for text.
        sample = text.format_map(_Blank()) if "{" in text else text
        problems += [f"{where}.{key}: {p}" for p in html_problems(sample)]
    return problems


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "x"


def source_problems(cited: Iterable[tuple[str, str]], known: set[str]) -> list[str]:
    return [f"{where}: unknown source {sid!r}" for where, sid in cited if sid not in known]


def check_file(
    content_dir: Path,
    file_name: str,
    model: type[M],
    cross: Callable[[M, Path], list[str]],
) -> tuple[M | None, list[Problem]]:
    """Parse, validate and cross-check one tool file; the model only when it has no problem."""
    name = f"{content_dir.name}/{file_name}"
    found: list[str] = []  # the model's cross-reference validator reports here (`collect`)
    try:
        data = parse_yaml((content_dir / file_name).read_text(encoding="utf-8"))
        parsed = model.model_validate(data, context={"problems": found})
        found += cross(parsed, content_dir)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        return None, [Problem(file=name, field="-", message=str(error).replace("\n", " "))]
    except ValidationError as error:
        return None, [_problem(name, e) for e in error.errors()] + [_split(name, p) for p in found]
    problems = [_split(name, p) for p in found]
    return (None if problems else parsed), problems


def load_file(
    content_dir: Path,
    file_name: str,
    model: type[M],
    cross: Callable[[M, Path], list[str]],
) -> M:
    """`check_file`'s model; ToolContentError lists every problem if the file is invalid."""
    parsed, problems = check_file(content_dir, file_name, model, cross)
    if parsed is None:
        raise ToolContentError(problems)
    return parsed


def collect(problems: list[str], info: ValidationInfo) -> None:
    """Raise on a plain build; a loader passing context={"problems": [...]} collects every
    cross-reference problem there instead, so one check run reports them all."""
    sink = info.context.get("problems") if isinstance(info.context, dict) else None
    if isinstance(sink, list):
        sink.extend(problems)
    elif problems:
        raise ValueError("; ".join(problems))


def _split(file: str, text: str) -> Problem:
    where, _, message = text.partition(": ")
    return Problem(file=file, field=where, message=message)


def _problem(file: str, error: Any) -> Problem:
    where = ".".join(str(part) for part in error.get("loc", ())) or "-"
    return Problem(file=file, field=where, message=str(error.get("msg")))


class ToolContentError(ValueError):
    """Invalid tool content; `problems` holds each finding, `str()` all of them."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems
