"""Loading content/ into validated models, collecting every problem on the way.

The loader never stops at the first mistake: curators fix content in batches,
and one run of `python -m bot content check` should show them all of it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from bot.content.check import cross_check
from bot.content.models import Food, Intent, Problem, Source, Synonyms
from bot.content.review import check_publishers, check_wording
from bot.content.yamlfile import parse_yaml

M = TypeVar("M", bound=BaseModel)


class ContentError(Exception):
    """Raised when content/ is invalid; `str()` is the full report."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__(report(problems))


def report(problems: list[Problem]) -> str:
    if not problems:
        return "content OK"
    lines = [f"{len(problems)} content problem(s):"]
    lines += [f"  {p}" for p in problems]
    return "\n".join(lines)


@dataclass(frozen=True)
class Content:
    directory: Path
    intents: Mapping[str, Intent]
    foods: Mapping[str, Food]
    sources: Mapping[str, Source]
    synonyms: Synonyms
    messages: Mapping[str, str]


class _Reader:
    """Reads YAML files relative to the content directory, noting problems instead of raising."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.problems: list[Problem] = []

    def name(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.directory.parent))
        except ValueError:
            return str(path)

    def mapping(self, path: Path) -> dict[str, Any]:
        try:
            data = parse_yaml(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            self.problems.append(Problem(file=self.name(path), field="-", message="missing file"))
            return {}
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            message = f"not valid YAML: {exc}".replace("\n", " ")
            self.problems.append(Problem(file=self.name(path), field="-", message=message))
            return {}
        if data is None:
            return {}
        if not isinstance(data, dict):
            self.problems.append(
                Problem(file=self.name(path), field="-", message="expected a mapping")
            )
            return {}
        return data

    def records(self, path: Path, key: str, model: type[M]) -> list[tuple[str, M]]:
        """Each record of list `key` validated on its own, so one bad record hides no other."""
        items = self.mapping(path).get(key, [])
        if not isinstance(items, list):
            self.problems.append(
                Problem(file=self.name(path), field=key, message="expected a list")
            )
            return []
        out: list[tuple[str, M]] = []
        for index, item in enumerate(items):
            label = f"{key}[{index}]"
            if isinstance(item, dict) and isinstance(item.get("id"), str):
                label += f" ({item['id']})"
            try:
                out.append((self.name(path), model.model_validate(item)))
            except ValidationError as exc:
                for error in exc.errors():
                    where = ".".join(str(part) for part in error["loc"])
                    self.problems.append(
                        Problem(
                            file=self.name(path), field=f"{label}.{where}", message=error["msg"]
                        )
                    )
        return out

    def model(self, path: Path, model: type[M]) -> M | None:
        data = self.mapping(path)
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            for error in exc.errors():
                where = ".".join(str(part) for part in error["loc"])
                self.problems.append(
                    Problem(file=self.name(path), field=where, message=error["msg"])
                )
            return None


Normaliser = Callable[[Synonyms], Callable[[str], str]]


def load_content(directory: Path, normaliser: Normaliser | None = None) -> Content:
    """Load and check content/; raise ContentError listing every problem.

    `normaliser` builds, from the loaded synonyms, the function the matcher reads text
    with, so duplicate phrasings are found the way the matcher would see them —
    without this package depending on the matcher.
    """
    content, problems = _load(directory, normaliser)
    if problems:
        raise ContentError(problems)
    return content


def check_directory(directory: Path, normaliser: Normaliser | None = None) -> list[Problem]:
    return _load(directory, normaliser)[1]


def _load(directory: Path, normaliser: Normaliser | None) -> tuple[Content, list[Problem]]:
    reader = _Reader(directory)
    if not directory.is_dir():
        problem = Problem(file=str(directory), field="-", message="content directory not found")
        return _empty(directory), [problem]
    sources = reader.records(directory / "sources.yaml", "sources", Source)
    intents = [
        record
        for path in sorted((directory / "intents").glob("*.yaml"))
        for record in reader.records(path, "intents", Intent)
    ]
    foods = reader.records(directory / "foods.yaml", "foods", Food)
    synonyms = reader.model(directory / "synonyms.yaml", Synonyms)
    messages: dict[str, str] = {}
    message_files: dict[str, str] = {}
    for path in sorted((directory / "messages").glob("*.yaml")):
        for key, text in reader.mapping(path).items():
            name = reader.name(path)
            if not isinstance(text, str):
                reader.problems.append(Problem(file=name, field=key, message="expected text"))
            elif key in messages:
                message = f"duplicate message key (also in {message_files[key]})"
                reader.problems.append(Problem(file=name, field=key, message=message))
            else:
                messages[key], message_files[key] = text, name
    normalise = normaliser(synonyms) if normaliser and synonyms else None
    problems = reader.problems + cross_check(
        sources, intents, foods, messages, message_files, normalise
    )
    problems += check_publishers(directory) + check_wording(directory)
    content = Content(
        directory=directory,
        intents={i.id: i for _, i in intents},
        foods={f.id: f for _, f in foods},
        sources={s.id: s for _, s in sources},
        synonyms=synonyms or Synonyms(b12=[], spellings={}, phrases={}),
        messages=messages,
    )
    return content, problems


def _empty(directory: Path) -> Content:
    return Content(directory, {}, {}, {}, Synonyms(b12=[], spellings={}, phrases={}), {})
