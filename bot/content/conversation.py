"""Pydantic models of content/conversation.yaml: how follow-up messages are read.

The cue words, the sections a sub-question goes to, the families a follow-up is re-read in
and the life-stage words are data, so bot/core/conversation holds no wording. `check_file`
cross-checks the intent ids against intents/, each section heading against its intent's
answer, and the stage ids against intake.yaml.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from bot.content.models import Problem
from bot.content.refs import check_file, load_file, record_ids, source_problems, text_problems
from bot.content.yamlfile import parse_yaml

_STRICT = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
FILE_NAME = "conversation.yaml"
SectionName = Literal[
    "why", "safety", "side_effects", "how_much", "how_often", "serving", "meaning",
    "what_to_do", "see_doctor", "find_out",
]  # fmt: skip


class Section(BaseModel):
    """Where a sub-question of a topic is answered: a headed part of the topic's own answer,
    the paragraph of it that holds some words (an answer without headings), another intent,
    or a choice of intents to ask between ("how much should I take" after low electrolytes:
    magnesium or potassium?)."""

    model_config = _STRICT

    heading: str | None = None
    paragraph: str | None = None
    intent: str | None = None
    choose: tuple[str, ...] | None = Field(default=None, min_length=2)

    @model_validator(mode="after")
    def _one(self) -> Section:
        given = (self.heading, self.paragraph, self.intent, self.choose)
        if sum(v is not None for v in given) != 1:
            raise ValueError("give exactly one of `heading`, `paragraph`, `intent` or `choose`")
        return self

    def part(self, answer: str) -> str | None:
        """This section's part of `answer`; None for another intent or a part it lacks."""
        if self.heading is not None:
            return heading_part(answer, self.heading)
        if self.paragraph is not None:
            return paragraph_part(answer, self.paragraph)
        return None


class Family(BaseModel):
    model_config = _STRICT

    intents: tuple[str, ...] = Field(min_length=1)
    template: str = Field(pattern=r"\{rest\}")


class StageAge(BaseModel):
    model_config = _STRICT

    stage: str
    from_: int = Field(alias="from", ge=0)
    to: int = Field(le=130)


class Conversation(BaseModel):
    model_config = _STRICT

    version: Literal[1]
    expire_after_minutes: int = Field(gt=0, le=24 * 60)
    max_followup_words: int = Field(gt=0)
    max_cued_words: int = Field(gt=0)
    max_bare_words: int = Field(gt=0)
    openers: tuple[str, ...]
    fresh_cues: tuple[str, ...]
    anaphora: tuple[str, ...]
    open_ends: tuple[str, ...]
    more_asks: tuple[str, ...]
    not_problems: tuple[str, ...]
    picks: tuple[str, ...]
    expletive_pronouns: tuple[str, ...]
    expletive_then: tuple[str, ...]
    joiners: tuple[str, ...] = Field(min_length=1)
    filler: tuple[str, ...]
    verdict_cues: tuple[str, ...]
    verdict_words: tuple[str, ...] = ()
    meal_verdict_intents: tuple[str, ...] = ()
    closing_intents: tuple[str, ...] = ()
    another_words: tuple[str, ...] = ()
    meal_add_openers: tuple[str, ...]
    card_meal_openers: tuple[str, ...] = ()
    card_parts: tuple[SectionName, ...] = ()  # what a food card itself answers ("a serving")
    ordinals: dict[str, int]
    number_words: tuple[str, ...] = ()  # before a bare number that picks an item ("number 2")
    list_cues: tuple[str, ...]
    sub_questions: dict[SectionName, tuple[str, ...]]
    sections: dict[str, dict[SectionName, Section]]
    families: dict[str, Family]
    list_answers: dict[str, tuple[str, ...]] = {}
    compare_cues: tuple[str, ...] = ()
    one_of_list: tuple[str, ...] = ()
    stage_ages: tuple[StageAge, ...]
    stage_months: tuple[StageAge, ...]
    month_words: tuple[str, ...]
    age_cues: tuple[str, ...] = ()
    stage_words: dict[str, tuple[str, ...]]
    stage_intents: tuple[str, ...]
    stage_need: str
    stage_sources: tuple[str, ...] = Field(min_length=1)
    entity_topics: dict[str, str] = {}
    qualifier_kinds: tuple[str, ...] = ()
    # "and at night?" read as a question of its own: the qualifier put into this template.
    qualifier_template: str = Field(default="cramps {rest}", pattern=r"\{rest\}")
    lab_button: str = Field(min_length=1, max_length=32)

    def family_of(self, intent: str | None) -> str | None:
        return next((name for name, f in self.families.items() if intent in f.intents), None)

    def stage_for_age(self, age: int) -> str | None:
        return next((a.stage for a in self.stage_ages if a.from_ <= age <= a.to), None)

    def stage_for_months(self, months: int) -> str | None:
        return next((a.stage for a in self.stage_months if a.from_ <= months <= a.to), None)


def _cross(conversation: Conversation, content_dir: Path) -> list[str]:
    answers = _answers(content_dir)
    problems: list[str] = []
    named = [("sections", t) for t in conversation.sections]
    named += [("stage_intents", i) for i in conversation.stage_intents]
    named += [("meal_verdict_intents", i) for i in conversation.meal_verdict_intents]
    named += [("closing_intents", i) for i in conversation.closing_intents]
    named += [(f"entity_topics.{k}", i) for k, i in conversation.entity_topics.items()]
    named += [(f"list_answers.{k}", k) for k in conversation.list_answers]
    named += [(f"list_answers.{k}", i) for k, v in conversation.list_answers.items() for i in v]
    for topic, sections in conversation.sections.items():
        for name, section in sections.items():
            where = f"sections.{topic}.{name}"
            if section.intent is not None:
                named.append((where, section.intent))
            elif section.choose is not None:
                named += [(where, i) for i in section.choose]
            elif topic in answers and section.part(answers[topic]) is None:
                part = section.heading or section.paragraph
                problems.append(f"{where}: no part {part!r} in {topic}'s answer")
    for family, spec in conversation.families.items():
        named += [(f"families.{family}", i) for i in spec.intents]
    unknown = [f for f in conversation.not_problems if f not in conversation.families]
    problems += [f"not_problems: unknown family {f!r}" for f in unknown]
    problems += [f"{where}: unknown intent {i!r}" for where, i in named if i not in answers]
    stages = set(record_ids(content_dir / "intake.yaml", "life_stages"))
    cited = [("stage_ages", a.stage) for a in conversation.stage_ages]
    cited += [("stage_months", a.stage) for a in conversation.stage_months]
    cited += [("stage_words", s) for s in conversation.stage_words]
    problems += [f"{where}: unknown life stage {s!r}" for where, s in cited if s not in stages]
    known = set(record_ids(content_dir / "sources.yaml", "sources"))
    problems += source_problems([("stage_sources", s) for s in conversation.stage_sources], known)
    problems += text_problems(
        {"stage_need": conversation.stage_need}, {"stage_need": {"label", "mcg"}}, "texts"
    )
    return problems


def _answers(content_dir: Path) -> dict[str, str]:
    """intent id → answer, read leniently: intents/ is checked by its own loader."""
    found: dict[str, str] = {}
    for path in sorted((content_dir / "intents").glob("*.yaml")):
        try:
            data = parse_yaml(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError):
            continue
        for item in data.get("intents", []) if isinstance(data, dict) else []:
            if isinstance(item, dict) and isinstance(item.get("id"), str):
                found[item["id"]] = str(item.get("answer", ""))
    return found


def heading_part(answer: str, heading: str) -> str | None:
    """The part of an answer under `<b>heading</b>`: that line and what follows it up to the
    next blank line (a heading that ends its own line), or the rest of its paragraph."""
    lines = answer.strip().splitlines()
    for i, line in enumerate(lines):
        if re.match(rf"\s*<b>{re.escape(heading)}</b>", line):
            part = [line]
            for following in lines[i + 1 :]:
                if not following.strip():
                    break
                part.append(following)
            return "\n".join(part).strip()
    return None


def paragraph_part(answer: str, words: str) -> str | None:
    """The paragraph (blank-line separated) of an answer that holds `words`."""
    return next((p.strip() for p in re.split(r"\n\s*\n", answer) if words in p), None)


def check_conversation(content_dir: Path) -> list[Problem]:
    return check_file(content_dir, FILE_NAME, Conversation, _cross)[1]


def load_conversation(content_dir: Path) -> Conversation:
    """ToolContentError lists every problem if the file is invalid."""
    return load_file(content_dir, FILE_NAME, Conversation, _cross)
