"""Pydantic models of content/questionnaire.yaml, the data behind the B12 check.

The file holds every question, scoring weight and user-visible text of the check, so the
engine in `bot.core.check` stays free of medical wording. Cross-references inside
the file (option ids, `ask_if` targets, signals, notes, level tags, text placeholders, HTML)
are checked when the model is built; references to sources.yaml are checked by
`source_problems`, because that needs a second file. `load_questionnaire` does both and
reports every problem at once.
"""

from __future__ import annotations

import copy
import string
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    model_validator,
)

from bot.content.html import html_problems
from bot.content.models import Problem
from bot.content.yamlfile import parse_yaml

_STRICT = ConfigDict(extra="forbid", frozen=True)
_ID = r"^[a-z0-9_]+$"
FILE_NAME = "questionnaire.yaml"


class Condition(BaseModel):
    """`ask_if` / `show_if` / `if`: a test on earlier answers.

    Exactly one form: `{question, any_of}` (that question was answered with one of these
    options), `{all: [...]}`, `{any: [...]}` or `{not: {...}}`.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    question: str | None = None
    any_of: tuple[str, ...] = ()
    all_: tuple[Condition, ...] | None = Field(default=None, alias="all")
    any_: tuple[Condition, ...] | None = Field(default=None, alias="any")
    not_: Condition | None = Field(default=None, alias="not")

    @model_validator(mode="after")
    def _one_form(self) -> Condition:
        forms = [self.question is not None, self.all_ is not None, self.any_ is not None]
        forms.append(self.not_ is not None)
        if sum(forms) != 1:
            raise ValueError("use exactly one of: question+any_of, all, any, not")
        if self.question is not None and not self.any_of:
            raise ValueError("`question` needs a non-empty `any_of`")
        if self.question is None and self.any_of:
            raise ValueError("`any_of` needs `question`")
        return self

    def references(self) -> Iterator[tuple[str, tuple[str, ...]]]:
        """Every (question id, option ids) this condition looks at."""
        if self.question is not None:
            yield self.question, self.any_of
        for child in (*(self.all_ or ()), *(self.any_ or ()), *([self.not_] if self.not_ else [])):
            yield from child.references()


class Option(BaseModel):
    model_config = _STRICT

    id: str = Field(pattern=_ID)
    label: str = Field(min_length=1, max_length=48, description="plain text, shown on a button")
    synonyms: tuple[str, ...] = ()
    exclusive: bool = Field(False, description="in a multi-choice question: cannot be combined")
    show_if: Condition | None = None
    amounts: dict[str, tuple[int, int]] = Field(
        {}, description="typed amounts mapping here: unit id (of `typed.units`) → from, to"
    )
    b12: int = Field(0, ge=-5, le=5)
    signals: dict[str, int] = {}
    tags: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    reason_for: str | None = None
    reason_against: str | None = None
    reason_against_if: Condition | None = Field(
        None, description="show `reason_against` only when this holds at the end of the check"
    )
    urgent: str | None = Field(None, description="choosing this option ends the check: urgent")
    summary: str | None = Field(None, description="answer text in the doctor summary")
    sources: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _rules_cite_sources(self) -> Option:
        effect = self.b12 or self.signals or self.tags or self.notes or self.urgent
        if effect and not self.sources:
            raise ValueError(f"option {self.id!r}: a scoring rule must cite `sources`")
        if self.reason_for and self.b12 <= 0:
            raise ValueError(f"option {self.id!r}: `reason_for` needs a positive b12 weight")
        if self.reason_against and self.b12 > 0:
            raise ValueError(f"option {self.id!r}: `reason_against` needs b12 ≤ 0")
        if self.reason_against_if and not self.reason_against:
            raise ValueError(f"option {self.id!r}: `reason_against_if` needs `reason_against`")
        return self


class OptionDefault(BaseModel):
    model_config = _STRICT

    label: str
    synonyms: tuple[str, ...] = ()
    exclusive: bool = False


class Question(BaseModel):
    model_config = _STRICT

    id: str = Field(pattern=_ID)
    section: str
    text: str = Field(min_length=1, description="Telegram HTML")
    why: str = Field(min_length=1, description="one line, shown on Why?")
    summary: str = Field(min_length=1, description="label in the doctor summary (plain text)")
    summary_skip: tuple[str, ...] = Field((), description="answers not worth showing a doctor")
    choice: Literal["single", "multi"] = "single"
    ask_if: Condition | None = None
    options: tuple[Option, ...] = Field(min_length=2, max_length=12)

    @model_validator(mode="after")
    def _option_ids(self) -> Question:
        ids = [o.id for o in self.options]
        if len(set(ids)) != len(ids):
            raise ValueError(f"question {self.id!r}: duplicate option ids")
        for oid in self.summary_skip:
            if oid not in ids:
                raise ValueError(f"question {self.id!r}: summary_skip names unknown {oid!r}")
        if self.choice == "multi" and all(o.exclusive for o in self.options):
            raise ValueError(f"question {self.id!r}: a multi-choice needs a combinable option")
        return self

    def option(self, option_id: str) -> Option | None:
        return next((o for o in self.options if o.id == option_id), None)


class Section(BaseModel):
    model_config = _STRICT

    id: str = Field(pattern=_ID)
    title: str
    intro: str | None = None


class Signal(BaseModel):
    model_config = _STRICT

    label: str
    advice: str
    name_ticked: bool = Field(False, description="the result names the ticked options behind it")
    sources: tuple[str, ...] = Field(min_length=1)


class Note(BaseModel):
    model_config = _STRICT

    text: str
    section: Literal["important", "tests"] = "important"
    sources: tuple[str, ...] = Field(min_length=1)


class LevelRule(BaseModel):
    """All set conditions must hold. An empty `when` list on a level means "always"."""

    model_config = _STRICT

    b12_at_least: int | None = None
    other_at_least: int | None = None
    tags: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _not_empty(self) -> LevelRule:
        if self.b12_at_least is None and self.other_at_least is None and not self.tags:
            raise ValueError("a level rule needs b12_at_least, other_at_least or tags")
        return self


class Level(BaseModel):
    model_config = _STRICT

    id: str = Field(pattern=_ID)
    title: str
    text: str
    when: tuple[LevelRule, ...] = ()
    show_tests: bool = False
    show_food: bool = False
    sources: tuple[str, ...] = Field(min_length=1)


class ConditionalText(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    if_: Condition | None = Field(default=None, alias="if")
    text: str
    sources: tuple[str, ...] = Field(min_length=1)


class Settings(BaseModel):
    model_config = _STRICT

    expire_after_hours: int = Field(ge=1)
    contributor_min: int = Field(ge=1)
    max_contributors: int = Field(ge=1)
    max_sources: int = Field(ge=1)


class UrgentTexts(BaseModel):
    model_config = _STRICT

    title: str
    footer: str


class ResultTexts(BaseModel):
    model_config = _STRICT

    bullet: str
    level_title: str
    notes_title: str
    reasons_for_title: str
    reasons_against_title: str
    contributors_title: str
    contributor_line: str
    ticked: str
    ticked_separator: str
    tests: str
    tests_sources: tuple[str, ...] = Field(min_length=1)
    food: tuple[ConditionalText, ...] = Field(min_length=1)
    disclaimer: str
    sources_label: str
    sources_separator: str


class SummaryTexts(BaseModel):
    model_config = _STRICT

    title: str
    intro: str
    section_title: str
    line: str
    answer_separator: str
    none_reported: str
    result: str
    tests: str


class Commands(BaseModel):
    model_config = _STRICT

    back: tuple[str, ...]
    stop: tuple[str, ...]
    why: tuple[str, ...]
    continue_: tuple[str, ...] = Field(alias="continue")


class UiTexts(BaseModel):
    model_config = _STRICT

    intro: str
    progress: str
    why_label: str
    multi_hint: str
    previous_hint: str
    selected_mark: str
    button_back: str
    button_why: str
    button_stop: str
    button_done: str
    button_summary: str
    button_continue: str
    stopped: str
    ended: str
    expired: str
    not_understood: str
    stale_notice: str
    empty_choice_notice: str
    first_question_notice: str
    option_separator: str
    ask_yes_no: str
    ask_closest: str
    stop_confirm: str
    button_stop_yes: str
    button_resume: str
    commands: Commands


class TypedWords(BaseModel):
    """How typed answers are read: words said around an answer, words that make it only
    partly true, and amounts ("a couple of times a week", "78 years old")."""

    model_config = _STRICT

    filler: tuple[str, ...] = Field((), description="ignored before or after an answer")
    hedges: tuple[str, ...] = Field((), description="kinda, sort of: a yes/no is asked again")
    leads: tuple[str, ...] = Field((), description="first words that answer: yes, no, yeah")
    negations: tuple[str, ...] = Field((), description="after a leading yes/no: not an answer")
    numbers: dict[str, int] = Field({}, description="number words: two, twice, a couple")
    units: dict[str, tuple[str, ...]] = Field({}, description="unit id → how it is typed")


# Placeholders each template may use; anything else is a content error, caught at load time.
_TEMPLATES: dict[tuple[str, str], set[str]] = {
    ("ui", "progress"): {"n", "total"},
    ("ui", "why_label"): {"why"},
    ("ui", "expired"): {"hours"},
    ("ui", "not_understood"): {"options"},
    ("result", "level_title"): {"title"},
    ("result", "contributor_line"): {"label", "advice"},
    ("result", "ticked"): {"options"},
    ("result", "sources_label"): {"titles"},
    ("summary", "intro"): {"date"},
    ("summary", "section_title"): {"title"},
    ("summary", "line"): {"question", "answer"},
    ("summary", "result"): {"level"},
}
# Plain-text fields (buttons, typed words, callback notices, summary labels), not HTML.
_PLAIN_UI = {
    "button_back",
    "button_why",
    "button_stop",
    "button_done",
    "button_summary",
    "button_continue",
    "selected_mark",
    "stale_notice",
    "empty_choice_notice",
    "first_question_notice",
    "option_separator",
    "button_stop_yes",
    "button_resume",
    "commands",
}
_ID_KEYS = {"id", "sources", "tests_sources", "any_of", "question", "section", "summary_skip"}


class QuestionnaireSpec(BaseModel):
    """The whole file. Built only through `load_questionnaire` or `from_yaml_data`."""

    model_config = _STRICT

    version: int
    settings: Settings
    option_defaults: dict[str, OptionDefault]
    sections: tuple[Section, ...] = Field(min_length=1)
    signals: dict[str, Signal]
    notes: dict[str, Note]
    questions: tuple[Question, ...] = Field(min_length=1, max_length=99)
    levels: tuple[Level, ...] = Field(min_length=1)
    urgent: UrgentTexts
    result: ResultTexts
    summary: SummaryTexts
    ui: UiTexts
    typed: TypedWords = TypedWords()

    @model_validator(mode="before")
    @classmethod
    def _apply_option_defaults(cls, data: Any) -> Any:
        """Fill label/synonyms/exclusive of options whose id has a default (yes, no, …)."""
        if not isinstance(data, dict):
            return data
        data = copy.deepcopy(data)
        defaults = data.get("option_defaults") or {}
        questions = data.get("questions")
        if not isinstance(defaults, dict) or not isinstance(questions, list):
            return data
        for question in questions:
            for option in (question or {}).get("options") or []:
                base = defaults.get(option.get("id")) if isinstance(option, dict) else None
                if not isinstance(base, dict):
                    continue
                option.setdefault("label", base.get("label"))
                option.setdefault("exclusive", base.get("exclusive", False))
                option["synonyms"] = [*(base.get("synonyms") or []), *option.get("synonyms", [])]
        return data

    @model_validator(mode="after")
    def _cross_references(self, info: ValidationInfo) -> QuestionnaireSpec:
        """Raise on the first build; a loader passing context={"problems": [...]} collects
        every problem there instead, so one check run reports them all."""
        problems = self.reference_problems()
        sink = info.context.get("problems") if isinstance(info.context, dict) else None
        if isinstance(sink, list):
            sink.extend(problems)
        elif problems:
            raise ValueError("; ".join(problems))
        return self

    def reference_problems(self) -> list[str]:
        """Every dangling id, misplaced condition, bad placeholder or bad HTML in the file."""
        problems: list[str] = []
        sections = {s.id for s in self.sections}
        seen: dict[str, Question] = {}
        tags: set[str] = set()
        for question in self.questions:
            where = f"questions.{question.id}"
            if question.id in seen:
                problems.append(f"{where}: duplicate question id")
            if question.section not in sections:
                problems.append(f"{where}: unknown section {question.section!r}")
            if question.ask_if:
                problems += _condition_problems(question.ask_if, seen, f"{where}.ask_if")
            for option in question.options:
                at = f"{where}.options.{option.id}"
                tags.update(option.tags)
                if option.show_if:
                    problems += _condition_problems(option.show_if, seen, f"{at}.show_if")
                problems += [
                    f"{at}: unknown signal {s!r}" for s in option.signals if s not in self.signals
                ]
                problems += [
                    f"{at}: unknown note {n!r}" for n in option.notes if n not in self.notes
                ]
                if option.urgent and question.choice == "multi":
                    problems.append(f"{at}: urgent options must be in single-choice questions")
                problems += [
                    f"{at}: unknown unit {u!r}" for u in option.amounts if u not in self.typed.units
                ]
            seen[question.id] = question
        problems += self._level_problems(tags)
        for question in self.questions:  # judged when the check ends: any question will do
            for option in question.options:
                if option.reason_against_if:
                    at = f"questions.{question.id}.options.{option.id}.reason_against_if"
                    problems += _condition_problems(option.reason_against_if, seen, at)
        for i, text in enumerate(self.result.food):
            if text.if_:
                problems += _condition_problems(text.if_, seen, f"result.food.{i}.if")
        if self.result.food[-1].if_ is not None:
            problems.append("result.food: the last entry must have no `if` (the default)")
        problems += self._text_problems()
        return problems

    def _level_problems(self, tags: set[str]) -> list[str]:
        problems = []
        ids = [level.id for level in self.levels]
        if len(set(ids)) != len(ids):
            problems.append("levels: duplicate level ids")
        if self.levels[-1].when:
            problems.append(f"levels.{ids[-1]}: the last level must have no `when` (fallback)")
        for level in self.levels:
            for rule in level.when:
                problems += [
                    f"levels.{level.id}: tag {t!r} is on no option"
                    for t in rule.tags
                    if t not in tags
                ]
        return problems

    def _text_problems(self) -> list[str]:
        problems = []
        dump = self.model_dump(by_alias=False)
        for (block, key), allowed in _TEMPLATES.items():
            names = {name for _, name, _, _ in string.Formatter().parse(dump[block][key]) if name}
            problems += [f"{block}.{key}: unknown placeholder {{{n}}}" for n in names - allowed]
        for path, text in _walk_texts(dump, ()):
            problems += [f"{'.'.join(path)}: {p}" for p in html_problems(text)]
        return problems

    def all_sources(self) -> Iterator[tuple[str, str]]:
        """(where, source id) for every citation in the file."""
        for question in self.questions:
            for option in question.options:
                for sid in option.sources:
                    yield f"questions.{question.id}.options.{option.id}", sid
        for name, block in (("signals", self.signals), ("notes", self.notes)):
            for key, item in block.items():
                yield from ((f"{name}.{key}", sid) for sid in item.sources)
        for level in self.levels:
            yield from ((f"levels.{level.id}", sid) for sid in level.sources)
        yield from (("result.tests_sources", sid) for sid in self.result.tests_sources)
        for i, text in enumerate(self.result.food):
            yield from ((f"result.food.{i}", sid) for sid in text.sources)


def _condition_problems(cond: Condition, earlier: dict[str, Question], where: str) -> list[str]:
    """A condition may only look at questions asked before it, and at their real options."""
    problems = []
    for qid, option_ids in cond.references():
        question = earlier.get(qid)
        if question is None:
            problems.append(f"{where}: {qid!r} is not an earlier question")
            continue
        problems += [
            f"{where}: {qid!r} has no option {o!r}"
            for o in option_ids
            if question.option(o) is None
        ]
    return problems


def _is_plain(path: tuple[str, ...], key: str) -> bool:
    if key == "synonyms" or key in _ID_KEYS or (path == () and key == "typed"):
        return True
    if key == "label" and path[:1] in {("questions",), ("option_defaults",)}:
        return True
    if path[:1] == ("questions",) and key == "summary":
        return True
    return path == ("ui",) and key in _PLAIN_UI


def _walk_texts(node: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], str]]:
    """HTML-bearing strings of a model dump; plain-text fields and ids are skipped."""
    if isinstance(node, dict):
        for key, value in node.items():
            if not _is_plain(path, str(key)):
                yield from _walk_texts(value, (*path, str(key)))
    elif isinstance(node, list | tuple):
        for i, value in enumerate(node):
            yield from _walk_texts(value, (*path, str(i)))
    elif isinstance(node, str):
        yield path, node


def source_problems(spec: QuestionnaireSpec, source_ids: set[str]) -> list[str]:
    """Citations of ids missing from sources.yaml, as "where: what"."""
    return [
        f"{where}: unknown source {sid!r}"
        for where, sid in spec.all_sources()
        if sid not in source_ids
    ]


@dataclass(frozen=True)
class Questionnaire:
    """The checked questionnaire plus the titles of the sources it cites (for "Sources:")."""

    spec: QuestionnaireSpec
    source_titles: dict[str, str] = field(default_factory=dict)


class QuestionnaireError(ValueError):
    """Invalid questionnaire content; `problems` holds each finding, `str()` all of them."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


def check_questionnaire(content_dir: Path) -> tuple[Questionnaire | None, list[Problem]]:
    """Load and check questionnaire.yaml (and the source ids of sources.yaml) without
    raising: the questionnaire if it is usable, and every problem found."""
    path = content_dir / FILE_NAME
    name = f"{content_dir.name}/{FILE_NAME}"
    problems: list[str] = []
    try:
        data = parse_yaml(path.read_text(encoding="utf-8"))
        titles = _source_titles(content_dir / "sources.yaml")
        spec = QuestionnaireSpec.model_validate(data, context={"problems": problems})
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        return None, [Problem(file=name, field="-", message=str(error).replace("\n", " "))]
    except ValidationError as error:
        found = [_problem(name, e) for e in error.errors()]
        return None, found + [_split(name, p) for p in problems]
    problems += source_problems(spec, set(titles))
    found = [_split(name, p) for p in problems]
    return (None if found else Questionnaire(spec, titles)), found


def _source_titles(path: Path) -> dict[str, str]:
    """id → title of sources.yaml; its own format is checked by the main content loader."""
    data = parse_yaml(path.read_text(encoding="utf-8")) or {}
    items = data.get("sources") if isinstance(data, dict) else None
    return {
        item["id"]: str(item.get("title", item["id"]))
        for item in (items if isinstance(items, list) else [])
        if isinstance(item, dict) and isinstance(item.get("id"), str)
    }


def load_questionnaire(content_dir: Path) -> Questionnaire:
    """The questionnaire of `content_dir`; QuestionnaireError lists every problem if invalid."""
    questionnaire, problems = check_questionnaire(content_dir)
    if questionnaire is None:
        raise QuestionnaireError(problems)
    return questionnaire


def _split(file: str, text: str) -> Problem:
    where, _, message = text.partition(": ")
    return Problem(file=file, field=where, message=message)


def _problem(file: str, error: Any) -> Problem:
    where = ".".join(str(part) for part in error.get("loc", ())) or "-"
    return Problem(file=file, field=where, message=str(error.get("msg")))
