"""Checks that span records: ids, references, lengths, HTML, duplicate phrasings."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from bot.content.html import html_problems
from bot.content.models import SUMMARY_LIMIT, Category, Problem

if TYPE_CHECKING:
    from bot.content.models import Food, Intent, Source

# The ids fixed by spec/intents.md: content may add more, never fewer. urgent_help is not an
# intent with phrasings: only the safety layer (content/urgent.yaml) answers with it.
REQUIRED_INTENTS = frozenset(
    """b12_role b12_and_cramps b12_supplement_for_cramps deficiency_symptoms deficiency_testing
    food_sources vegan_vegetarian risk_groups daily_needs supplement_safety period_cramps
    causes_overview cause_dehydration cause_electrolytes cause_overuse cause_nerve_compression
    cause_medical_conditions cause_medications remedy_magnesium remedy_potassium remedy_hydration
    remedy_stretching remedies_compare night_cramps see_a_doctor start_check
    food_lookup greeting help thanks goodbye about""".split()
)
REQUIRED_FOODS = frozenset(
    """beef_liver clams salmon tuna trout haddock sardines beef pork ham lamb chicken turkey
    milk yogurt cheese eggs nutritional_yeast fortified_cereal plant_milk tofu tempeh nori
    mushrooms spinach banana""".split()
)
TELEGRAM_LIMIT = 4096
# The "Source: …" line the engine appends; reserve room for it in the length check.
SOURCE_LINE_RESERVE = 300
_FIGURE = re.compile(r"\d+(?:[.,]\d+)*")


def cross_check(
    sources: list[tuple[str, Source]],
    intents: list[tuple[str, Intent]],
    foods: list[tuple[str, Food]],
    messages: Mapping[str, str],
    message_files: Mapping[str, str],
    normalise: Callable[[str], str] | None,
) -> list[Problem]:
    problems: list[Problem] = []
    problems += _duplicates("sources", sources)
    problems += _duplicates("intents", intents)
    problems += _duplicates("foods", foods)
    source_ids = {s.id for _, s in sources}
    intent_ids = {i.id for _, i in intents}
    food_ids = {f.id for _, f in foods}
    for missing in sorted(REQUIRED_INTENTS - intent_ids):
        problems.append(
            Problem(file="content/intents", field=missing, message="required intent missing")
        )
    for missing in sorted(REQUIRED_FOODS - food_ids):
        problems.append(
            Problem(file="content/foods.yaml", field=missing, message="required food missing")
        )

    for file, intent in intents:
        where = f"intents ({intent.id})"
        for source in intent.sources:
            if source not in source_ids:
                problems.append(
                    Problem(
                        file=file, field=f"{where}.sources", message=f"unknown source id {source!r}"
                    )
                )
        if intent.category is Category.medical and not intent.sources:
            problems.append(
                Problem(
                    file=file,
                    field=f"{where}.sources",
                    message="a medical answer must cite a source",
                )
            )
        for related in intent.related:
            if related not in intent_ids:
                problems.append(
                    Problem(
                        file=file,
                        field=f"{where}.related",
                        message=f"unknown intent id {related!r}",
                    )
                )
            elif related == intent.id:
                problems.append(
                    Problem(
                        file=file,
                        field=f"{where}.related",
                        message="an intent cannot relate to itself",
                    )
                )
        shown = len(intent.answer) + len(intent.summary)  # More shows the summary, then the answer
        if shown + SOURCE_LINE_RESERVE > TELEGRAM_LIMIT:
            message = f"answer is {shown} characters with its summary; the limit with its Source line is {TELEGRAM_LIMIT - SOURCE_LINE_RESERVE}"
            problems.append(Problem(file=file, field=f"{where}.answer", message=message))
        problems += [
            Problem(file=file, field=f"{where}.summary", message=message)
            for message in summary_problems(intent)
        ]
        for html_problem in html_problems(intent.answer):
            problems.append(Problem(file=file, field=f"{where}.answer", message=html_problem))

    problems += _duplicate_examples(intents, normalise)

    for file, food in foods:
        where = f"foods ({food.id})"
        for source in food.sources:
            if source not in source_ids:
                problems.append(
                    Problem(
                        file=file, field=f"{where}.sources", message=f"unknown source id {source!r}"
                    )
                )
        if food.alternative is not None and food.alternative not in food_ids:
            problems.append(
                Problem(
                    file=file,
                    field=f"{where}.alternative",
                    message=f"unknown food id {food.alternative!r}",
                )
            )
        if food.kind == "unreliable" and food.alternative is None:
            problems.append(
                Problem(
                    file=file,
                    field=f"{where}.alternative",
                    message="an unreliable food must name a reliable alternative",
                )
            )
        # mcg is rounded to 0.1, so the %DV computed from the unrounded amount may differ a bit.
        low, high = (food.mcg - 0.05) / 2.4 * 100, (food.mcg + 0.05) / 2.4 * 100
        if food.mcg > 0 and not low - 1 <= food.dv_percent <= high + 1:
            message = f"{food.mcg} mcg is about {food.mcg / 2.4 * 100:.0f}% of the 2.4 mcg Daily Value, not {food.dv_percent}%"
            problems.append(Problem(file=file, field=f"{where}.dv_percent", message=message))
    problems += _duplicate_food_names(foods)

    for key, text in messages.items():
        for html_problem in html_problems(text):
            problems.append(Problem(file=message_files[key], field=key, message=html_problem))
    return problems


def summary_problems(intent: Intent) -> list[str]:
    """The first message a phone shows: short, valid HTML, and nothing the answer does not say —
    a figure of its own would be a fact no reviewer read in the answer."""
    summary, answer = intent.summary.strip(), intent.answer.strip()
    found = []
    if len(summary) > SUMMARY_LIMIT:
        found.append(f"summary is {len(summary)} characters; at most {SUMMARY_LIMIT}")
    found += html_problems(summary)
    new = [f for f in dict.fromkeys(_FIGURE.findall(summary)) if f not in _FIGURE.findall(answer)]
    if new:
        found.append(f"summary gives figures the answer does not: {', '.join(new)}")
    title, _, body = answer.partition("\n")
    if summary != answer and not body.strip():
        found.append("a one-line answer is its own summary: set the summary to the whole answer")
    elif summary != answer and summary.startswith(title.strip()):
        found.append("summary repeats the title line, which is shown above it")
    return found


def _duplicates(
    kind: str, records: list[tuple[str, Intent]] | list[tuple[str, Food]] | list[tuple[str, Source]]
) -> list[Problem]:
    seen: dict[str, str] = {}
    problems = []
    for file, record in records:
        if record.id in seen:
            message = f"duplicate id (also in {seen[record.id]})"
            problems.append(Problem(file=file, field=f"{kind} ({record.id})", message=message))
        seen.setdefault(record.id, file)
    return problems


def _duplicate_examples(
    intents: list[tuple[str, Intent]], normalise: Callable[[str], str] | None
) -> list[Problem]:
    norm = normalise or (lambda text: " ".join(text.casefold().split()))
    owner: dict[str, str] = {}
    problems = []
    for file, intent in intents:
        for example in intent.examples:
            key = norm(example)
            if not key:
                message = f"example {example!r} is empty after normalisation"
                problems.append(
                    Problem(file=file, field=f"intents ({intent.id}).examples", message=message)
                )
                continue
            other = owner.setdefault(key, intent.id)
            if other != intent.id:
                message = f"example {example!r} is also a phrasing of {other!r}"
                problems.append(
                    Problem(file=file, field=f"intents ({intent.id}).examples", message=message)
                )
    return problems


def _duplicate_food_names(foods: list[tuple[str, Food]]) -> list[Problem]:
    owner: dict[str, str] = {}
    problems = []
    for file, food in foods:
        for name in food.names:
            key = " ".join(name.casefold().split())
            other = owner.setdefault(key, food.id)
            if other != food.id:
                message = f"name {name!r} also belongs to {other!r}"
                problems.append(
                    Problem(file=file, field=f"foods ({food.id}).names", message=message)
                )
    return problems
