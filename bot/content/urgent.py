"""Pydantic models of content/urgent.yaml: the emergencies the safety layer recognises.

Everything the layer knows is data a curator can read and change: the lexicon of
concepts (words and phrases, matched tolerantly), the markers that say a concept is
negated, past, asked about rather than happening, and one entry per emergency with the
concepts that must appear together, what cancels it, and its own short reply. The
code in `bot.core.safety` holds the mechanics only.

Checks inside the file (every concept a rule names exists, replies fit a phone and
open with the action, placeholders, HTML) run when the model is built; source ids are
checked against sources.yaml by `check_urgent`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, model_validator

from bot.content.models import Problem
from bot.content.refs import (
    ToolContentError,
    check_file,
    collect,
    load_file,
    source_problems,
    source_titles,
    text_problems,
)

_STRICT = ConfigDict(extra="forbid", frozen=True)
FILE_NAME = "urgent.yaml"
MAX_REPLY = 600  # characters of an urgent reply, sources line included: one phone screen
_TAG = re.compile(r"<[^>]+>")
_NAME = r"^[a-z0-9_]+$"
# Placeholders a situation's reply may use; the layer fills them from `lines`.
REPLY_PLACEHOLDERS = {"call", "call_111"}


class Rule(BaseModel):
    """Concepts that must all be present, alive and within `within` words of each other."""

    model_config = _STRICT

    all: tuple[str, ...] = Field(min_length=1)
    within: int = Field(default=8, ge=1, le=40, description="largest distance, in words")
    unless: tuple[str, ...] = Field(
        default=(), description="concepts that cancel this rule (not the others) in the sentence"
    )


class Situation(BaseModel):
    model_config = _STRICT

    id: str = Field(pattern=_NAME)
    title: str = Field(min_length=3, description="shown on the button that offers it")
    rank: int = Field(ge=1, description="1 is the most urgent; where two match, it leads")
    scope: Literal["sentence", "message"] = Field(
        default="sentence", description="where a rule's concepts must all appear"
    )
    when: tuple[Rule | tuple[str, ...], ...] = Field(min_length=1)
    unless: tuple[str, ...] = Field(
        default=(), description="concepts that cancel a match in the same sentence"
    )
    cancel_in: Literal["sentence", "clause"] = Field(
        default="sentence", description="where an `unless` concept must stand to cancel"
    )
    reply: str = Field(min_length=20, description="Telegram HTML; first line: what to do now")
    sources: tuple[str, ...] = Field(min_length=1)
    veto: float | None = Field(
        default=None,
        gt=0,
        lt=1,
        description="P(emergency) below which the learned second opinion turns this "
        "situation's rules alarm into a safety line (default: the layer's own)",
    )

    @property
    def rules(self) -> tuple[Rule, ...]:
        return tuple(r if isinstance(r, Rule) else Rule(all=r) for r in self.when)


class Duration(BaseModel):
    """A built-in concept: a number of minutes or hours of at least `min_minutes`."""

    model_config = _STRICT

    concept: str = Field(pattern=_NAME)
    min_minutes: float = Field(gt=0)


class Markers(BaseModel):
    """Words that change what a concept means where it stands. Each list holds words or
    phrases; a phrase's words must follow one another."""

    model_config = _STRICT

    negation: tuple[str, ...] = Field(description="negate the concepts after them")
    negation_after: tuple[str, ...] = Field(
        default=(), description="negate the concepts just before them ('chest is fine')"
    )
    negation_after_via: tuple[str, ...] = Field(
        default=(), description="words that may stand between a concept and negation_after"
    )
    not_negation: tuple[str, ...] = Field(
        default=(), description="look like negation but are doubt ('not sure', 'dont know')"
    )
    negation_stops: tuple[str, ...] = Field(
        default=(), description="a negation does not reach past these ('no sleep | my chest')"
    )
    negation_reach: int = Field(default=5, ge=1, le=12, description="words a negation reaches")
    interjection_next: tuple[str, ...] = Field(
        default=(), description="'no' followed by one of these is an interjection, not negation"
    )
    breaks: tuple[str, ...] = Field(default=(), description="start a new clause ('but')")
    joins: tuple[str, ...] = Field(default=(), description="end a negation's reach ('and')")
    past: tuple[str, ...] = Field(default=(), description="the clause is about the past")
    past_event: tuple[str, ...] = Field(
        default=(), description="just before an event's name: it happened before ('had a')"
    )
    recent: tuple[str, ...] = Field(
        default=(), description="bring a clause back to now ('now', 'again', 'just')"
    )
    about: tuple[str, ...] = Field(
        default=(), description="the sentence asks about an emergency, it does not describe one"
    )
    hypothetical: tuple[str, ...] = Field(
        default=(), description="the sentence imagines an emergency ('if my baby ever got floppy')"
    )
    personal: tuple[str, ...] = Field(
        default=(), description="a sentence with these describes someone's own symptoms"
    )


class Lines(BaseModel):
    """The layer's own texts: the emergency-number line every urgent reply shares, …"""

    model_config = _STRICT

    call: str = Field(min_length=10, description="the one emergency-number line")
    call_111: str = Field(min_length=10, description="urgent but not an emergency number")
    mention: str = Field(min_length=10, description="one safety line under an answer")
    also: str = Field(min_length=5, description="label of the button to the other situation")
    source_line: str = Field(min_length=5, description="'Source: {sources}'")


class Urgent(BaseModel):
    model_config = _STRICT

    version: Literal[1]
    lines: Lines
    markers: Markers
    events: tuple[str, ...] = Field(
        default=(), description="concepts that name a condition ('stroke'), not a symptom"
    )
    history: tuple[str, ...] = Field(
        default=(),
        description="concepts that count whatever the tense: what happened before the symptom "
        "('a rusty nail last week, now my jaw is stiff')",
    )
    framing: tuple[str, ...] = Field(
        default=(),
        description="concepts that only say who, how many or when ('my son', 'shes 52', "
        "'tonight'): a short message naming nothing else gets no alarm from the learned "
        "second opinion",
    )
    spellings: dict[str, str] = Field(
        default={}, description="chat spellings read as another word first ('cnt' → 'cant')"
    )
    durations: tuple[Duration, ...] = ()
    model_quiet: tuple[str, ...] = Field(
        default=(),
        description="whole messages on which the learned second opinion adds no alarm (typed "
        "answers such as 'i dont think so'); the rules still read them",
    )
    lexicon: dict[str, tuple[str, ...]] = Field(min_length=1)
    situations: tuple[Situation, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _cross(self, info: ValidationInfo) -> Urgent:
        collect(list(self._problems()), info)
        return self

    def _problems(self) -> Iterator[str]:
        known = set(self.lexicon) | {d.concept for d in self.durations}
        for name, terms in self.lexicon.items():
            if not re.match(_NAME, name):
                yield f"lexicon.{name}: concept names are lower-case words"
            if not terms:
                yield f"lexicon.{name}: no terms"
        for group in ("events", "history", "framing"):
            for name in getattr(self, group):
                if name not in self.lexicon:
                    yield f"{group}: unknown concept {name!r}"
        seen: set[str] = set()
        for s in self.situations:
            where = f"situations.{s.id}"
            if s.id in seen:
                yield f"{where}: duplicate id"
            seen.add(s.id)
            for i, rule in enumerate(s.rules):
                for name in rule.all + rule.unless:
                    if name not in known:
                        yield f"{where}.when[{i}]: unknown concept {name!r}"
            for name in s.unless:
                if name not in known:
                    yield f"{where}.unless: unknown concept {name!r}"
            yield from self._reply_problems(where, s)
        yield from text_problems(
            self.lines.model_dump(), {"source_line": {"sources"}, "also": {"title"}}, "lines"
        )

    def _reply_problems(self, where: str, s: Situation) -> Iterator[str]:
        problems = text_problems({"reply": s.reply}, {"reply": REPLY_PLACEHOLDERS}, where)
        yield from problems
        if problems:
            return
        text = self.render(s, [])
        first = _TAG.sub("", text.strip().splitlines()[0])
        calls = (_TAG.sub("", self.lines.call), _TAG.sub("", self.lines.call_111))
        if not s.reply.lstrip().startswith(("{call}", "{call_111}")) and len(first) > 120:
            yield f"{where}.reply: the first line must be the action, in one short line"
        if first in calls and not s.reply.lstrip().startswith(("{call}", "{call_111}")):
            yield f"{where}.reply: use {{call}} rather than copying the line"

    def render(self, situation: Situation, titles: list[str]) -> str:
        """The reply: the situation's text with the shared lines, then its sources."""
        body = situation.reply.strip().format(call=self.lines.call, call_111=self.lines.call_111)
        sources = self.lines.source_line.format(sources="; ".join(titles))
        return f"{body}\n{sources}"

    def all_sources(self) -> Iterator[tuple[str, str]]:
        for s in self.situations:
            yield from ((f"situations.{s.id}.sources", sid) for sid in s.sources)

    def situation(self, situation_id: str) -> Situation | None:
        return next((s for s in self.situations if s.id == situation_id), None)


def _cross(urgent: Urgent, content_dir: Path) -> list[str]:
    titles = source_titles(content_dir)
    problems = source_problems(urgent.all_sources(), set(titles))
    for s in urgent.situations:
        text = urgent.render(s, [titles.get(sid, sid) for sid in s.sources])
        if len(text) > MAX_REPLY:
            problems.append(
                f"situations.{s.id}.reply: {len(text)} characters with its sources line"
                f" (at most {MAX_REPLY})"
            )
    return problems


def check_urgent(content_dir: Path) -> list[Problem]:
    """Every problem of urgent.yaml (format, cross-references, source ids), without raising."""
    return check_file(content_dir, FILE_NAME, Urgent, _cross)[1]


def load_urgent(content_dir: Path) -> Urgent:
    """The emergencies of `content_dir`; ToolContentError lists every problem if invalid."""
    return load_file(content_dir, FILE_NAME, Urgent, _cross)


EXAMPLES_FILE = "urgent_examples.yaml"
NONE = "none"  # the label of look-alikes in urgent_examples.yaml


class UrgentExamples(BaseModel):
    """content/urgent_examples.yaml: messages in people's own words, by situation id, and
    look-alikes under "none", for the safety layer's learned second opinion."""

    model_config = _STRICT

    version: Literal[1]
    examples: dict[str, tuple[str, ...]]

    @model_validator(mode="after")
    def _enough(self) -> UrgentExamples:
        if len(self.examples.get(NONE, ())) < 100:
            raise ValueError(f"examples.{NONE}: at least 100 look-alikes are needed")
        return self


def _examples_cross(examples: UrgentExamples, content_dir: Path) -> list[str]:
    try:
        known = {s.id for s in load_urgent(content_dir).situations}
    except ToolContentError:  # urgent.yaml's own problems are reported by check_urgent
        return []
    return [
        f"examples.{label}: not a situation id in urgent.yaml"
        for label in examples.examples
        if label != NONE and label not in known
    ]


def check_urgent_examples(content_dir: Path) -> list[Problem]:
    if not (content_dir / EXAMPLES_FILE).exists():
        return []
    return check_file(content_dir, EXAMPLES_FILE, UrgentExamples, _examples_cross)[1]


def load_urgent_examples(content_dir: Path) -> UrgentExamples | None:
    """The examples, or None when the file is absent (the layer then runs on its rules)."""
    if not (content_dir / EXAMPLES_FILE).exists():
        return None
    return load_file(content_dir, EXAMPLES_FILE, UrgentExamples, _examples_cross)
