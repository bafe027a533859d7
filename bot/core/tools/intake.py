"""A day's B12: a meal description in, micrograms against the daily need out.

Pure: `parse_meal` turns text into a `Meal` (items with servings and mcg, plus what it
could not recognise), `render_intake` turns a Meal into the reply. Figures per serving come
from foods.yaml, portions and the RDA table from intake.yaml; nothing medical is written
here. Unrecognised foods are listed back to the user, never guessed; foods with no figure
(or whose figure only the label gives) are named as not counted, never counted as another.
"""

from __future__ import annotations

import hashlib
import html
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from bot.content.intake import STAGE_ACTION, Intake, LifeStage, Portion
from bot.content.models import SUMMARY_LIMIT, Food, FoodKind
from bot.core.reply import Button, Reply
from bot.core.tools.compose import cautions, paragraphs, sources_line, summarised
from bot.core.tools.foodlist import rank_foods
from bot.core.tools.mealtext import Amount, meal_lexicon
from bot.core.tools.parsing import format_number

INTENT = "intake"
MEAL_REF = "in"  # More / Sources of a count: "m:in:<digest of the meal and life stage>"
_SMALL_COUNT = 12  # "2 cups of tuna": two portions; "200 g of cereal" is not 200 portions


@dataclass(frozen=True, slots=True)
class MealItem:
    food: str  # food id
    text: str  # the part of the message it came from
    servings: float  # multiples of the food's serving in foods.yaml
    mcg: float
    assumed: bool  # no usable amount was written: a default portion was counted
    label: str | None = None  # a label-only name ("oat milk"): no figure, so 0 mcg counted


@dataclass(frozen=True, slots=True)
class Meal:
    items: tuple[MealItem, ...]
    unrecognised: tuple[str, ...]
    vegan: bool = False
    life_stage: str | None = None  # named in the message ("I'm pregnant")
    no_figure: tuple[str, ...] = ()  # foods named that have no checked figure ("duck")

    @property
    def total_mcg(self) -> float:
        return sum(item.mcg for item in self.items)

    @property
    def details(self) -> dict[str, object]:
        """What `ask --json` can show next to intent `intake`."""
        return {
            "items": [
                {"food": i.food, "servings": round(i.servings, 2), "mcg": round(i.mcg, 2)}
                | ({"assumed": True} if i.assumed else {})
                | ({"label": i.label} if i.label else {})
                for i in self.items
            ],
            "unrecognised": list(self.unrecognised),
            "no_figure": list(self.no_figure),
            "total_mcg": round(self.total_mcg, 2),
            "vegan": self.vegan,
            "life_stage": self.life_stage,
        }


def meal_ref(meal: Meal, life_stage: str | None) -> str:
    """What a count's More and Sources buttons carry: a meal does not fit in a button, so the
    window counts the user's last meal again, and shows it only if it is still this count."""
    counted = json.dumps([meal.details, life_stage], sort_keys=True)
    return f"{MEAL_REF}:{hashlib.sha256(counted.encode()).hexdigest()[:10]}"


def looks_like_meal(normalised_text: str, intake: Intake, foods: Mapping[str, Food]) -> bool:
    """Cheap pre-check on the engine's normalised text: "I had …", an amount with a measure
    ("3 oz", "a glass of"), or two foods and a number — unless it is about cramps, tests, …"""
    return meal_lexicon(foods, intake).looks_like_meal(normalised_text)


def parse_meal(text: str, foods: Mapping[str, Food], intake: Intake) -> Meal:
    lex = meal_lexicon(foods, intake)
    items: list[MealItem] = []
    unrecognised: list[str] = []
    no_figure: list[str] = []
    for piece in lex.pieces(text):
        no_figure += piece.no_figure
        if not piece.foods:
            if piece.unknown and piece.text:
                unrecognised.append(piece.text)
            continue
        unrecognised += piece.unknown  # "sardines on toast": the toast is not counted
        labels = dict(piece.labels)
        for food_id in piece.foods:
            portion = intake.portions.get(food_id, Portion())
            servings, assumed = _servings(portion, piece.amount, intake)
            label = labels.get(food_id)
            mcg = 0.0 if label else servings * foods[food_id].mcg
            items.append(MealItem(food_id, piece.text, servings, mcg, assumed, label))
    return Meal(
        tuple(items),
        tuple(dict.fromkeys(unrecognised)),
        lex.vegan(text),
        lex.life_stage(text),
        tuple(dict.fromkeys(no_figure)),
    )


def _servings(portion: Portion, amount: Amount, intake: Intake) -> tuple[float, bool]:
    """Multiples of the food's serving, and whether a default had to stand in."""
    count, measure = amount.count, amount.measure
    if not amount.stated:
        return 1.0, True
    if measure is None:
        return count * portion.each, False
    if measure in intake.weights:
        per = portion.grams
        factor = intake.weights[measure]
    elif measure in intake.volumes:
        per = portion.cups
        factor = intake.volumes[measure]
    else:
        each = portion.measures.get(measure, intake.counts.get(measure))
        return (count * each, False) if each else (count, True)
    if per is None:
        return (count if count <= _SMALL_COUNT else 1.0), True
    return count * factor / per, False


# --------------------------------------------------------------------------------- replies


def render_intake(
    meal: Meal,
    life_stage: str | None,
    intake: Intake,
    foods: Mapping[str, Food],
    *,
    source_titles: Mapping[str, str],
) -> Reply:
    """The reply for a meal; `life_stage` is the stored one (a stage named in the message
    wins). Unknown stage: the default stage is used and stage buttons are offered."""
    t = intake.texts
    if not meal.items:
        return _nothing(meal, intake, foods)
    stage = intake.stage(meal.life_stage or life_stage)
    unknown_stage = stage is None
    stage = stage or intake.stage(intake.default_life_stage)
    if stage is None:  # the default stage is checked at load time
        raise LookupError(f"unknown default life stage {intake.default_life_stage!r}")
    lines = [t.title, *(_item_line(item, foods[item.food], intake) for item in meal.items)]
    parts = ["\n".join(lines)]
    total, need = meal.total_mcg, stage.mcg
    verdict, gap = _verdict(meal, need, intake)
    stage_text = html.escape(stage.label)
    total_text = t.total if total else t.total_none
    parts.append(
        total_text.format(total=_mcg(total), stage=stage_text, need=_mcg(need)) + "\n" + verdict
    )
    summary = list(parts)
    cited = [s for item in meal.items for s in foods[item.food].sources] + list(stage.sources)
    suggestions = _suggestions(gap, meal.vegan, intake, foods) if gap > 0 else []
    if suggestions:
        parts.append(
            "\n".join([t.suggest_title, *(_suggestion_line(f, n, intake) for f, n in suggestions)])
        )
        cited += [s for f, _ in suggestions for s in f.sources]
    shown = [foods[item.food] for item in meal.items] + [f for f, _ in suggestions]
    warnings = [t.caution.format(caution=c) for c in cautions(shown)]
    parts += warnings
    notes = _notes(meal, stage, intake)
    parts += [text for text, _ in notes]
    cited += [s for _, sources in notes for s in sources]
    left_out = _listed(t.no_figure, meal.no_figure, intake)
    left_out += _listed(t.unrecognised, meal.unrecognised, intake)
    parts += left_out
    asked = [t.stage_unknown.format(stage=stage_text, need=_mcg(need))] if unknown_stage else []
    parts += asked
    parts.append(t.disclaimer)
    first = _summary([*summary, *warnings, *left_out, *asked], t.title, left_out)
    buttons = _stage_buttons(intake) if unknown_stage else _food_buttons(f for f, _ in suggestions)
    source_line = sources_line(intake.texts.sources, cited, source_titles)
    return summarised(INTENT, parts, first, source_line, buttons)


def _summary(parts: list[str], title: str, optional: list[str]) -> list[str]:
    """The first message of a long count: the items, the total and verdict, the cautions, what
    was left out and the life-stage question — without the items, then without what was left
    out, when that is too long for a phone."""
    if _length(parts) <= SUMMARY_LIMIT:
        return parts
    parts = [title, *parts[1:]]
    if _length(parts) <= SUMMARY_LIMIT:
        return parts
    return [p for p in parts if p not in optional]


def _length(parts: list[str]) -> int:
    return len("\n\n".join(parts))


def _verdict(meal: Meal, need: float, intake: Intake) -> tuple[str, float]:
    """The verdict line and the gap still to close. A day that reaches the need only through
    poorly absorbed B12 (eggs) is judged without it: its own note says it counts for less."""
    t = intake.texts
    total = meal.total_mcg
    relied = total - sum(i.mcg for i in meal.items if i.food in intake.poorly_absorbed)
    if relied >= need:
        return t.reached, 0.0
    if total >= need:
        return t.reached_poorly_absorbed.format(gap=_mcg(need - relied)), need - relied
    return t.short.format(gap=_mcg(need - total)), need - total


def _item_line(item: MealItem, food: Food, intake: Intake) -> str:
    t = intake.texts
    if item.label:
        return t.item_label.format(food=html.escape(item.label[:1].upper() + item.label[1:]))
    marks = (t.mark_assumed if item.assumed else "") + _kind_mark(food, intake)
    amount = t.amount.format(
        servings=_servings_text(item.servings), serving=html.escape(food.serving)
    )
    if not item.mcg:
        return t.item_none.format(food=html.escape(food.name), amount=amount, marks=marks)
    return t.item.format(
        food=html.escape(food.name), amount=amount, mcg=_mcg(item.mcg), marks=marks
    )


def _kind_mark(food: Food, intake: Intake) -> str:
    if food.kind is FoodKind.fortified:
        return intake.texts.mark_fortified
    if food.kind is FoodKind.unreliable:
        return intake.texts.mark_unreliable
    return ""


def _suggestions(
    gap: float, vegan: bool, intake: Intake, foods: Mapping[str, Food]
) -> list[tuple[Food, int]]:
    """Foods that close the gap in the fewest servings, the smallest such amount first."""
    options = [
        (f, math.ceil(gap / f.mcg - 1e-9))
        for f in rank_foods(foods.values(), vegan=vegan)
        if f.id not in intake.poorly_absorbed
    ]
    options.sort(key=lambda pair: (pair[1], pair[0].mcg))
    return options[: intake.suggest_count]


def _suggestion_line(food: Food, servings: int, intake: Intake) -> str:
    t = intake.texts
    amount = t.amount.format(servings=servings, serving=html.escape(food.serving))
    return t.suggestion.format(
        food=html.escape(food.name),
        amount=amount,
        mcg=_mcg(servings * food.mcg),
        marks=_kind_mark(food, intake),
    )


def _notes(meal: Meal, stage: LifeStage, intake: Intake) -> list[tuple[str, Iterable[str]]]:
    t, sources = intake.texts, intake.text_sources
    notes: list[tuple[str, Iterable[str]]] = []
    if meal.vegan:
        notes.append((t.vegan_note, sources.get("vegan_note", ())))
    if stage.note:
        notes.append((stage.note, stage.sources))
    if any(item.mcg > intake.big_item_mcg for item in meal.items):
        notes.append((t.big_item, sources.get("big_item", ())))
    if any(item.food in intake.poorly_absorbed and item.mcg > 0 for item in meal.items):
        notes.append((t.eggs_note, sources.get("eggs_note", ())))
    return notes


def _listed(template: str, named: tuple[str, ...], intake: Intake) -> list[str]:
    """What the message named but the sum left out, said back in the user's words."""
    if not named:
        return []
    return [template.format(items=intake.texts.list_separator.join(map(html.escape, named)))]


def _nothing(meal: Meal, intake: Intake, foods: Mapping[str, Food]) -> Reply:
    t = intake.texts
    parts = _listed(t.no_figure, meal.no_figure, intake)
    if meal.unrecognised:
        firsts: dict[str, Food] = {}
        for food in foods.values():
            firsts.setdefault(food.group, food)
        examples = t.list_separator.join(html.escape(f.name) for f in firsts.values())
        items = t.list_separator.join(html.escape(u) for u in meal.unrecognised)
        parts.append(t.nothing_found.format(items=items, examples=examples))
    return paragraphs(INTENT, parts or [t.empty], ())


def _stage_buttons(intake: Intake) -> tuple[Button, ...]:
    label = intake.texts.stage_button
    return tuple(
        Button(label.format(label=s.button), f"{STAGE_ACTION}:{s.id}")
        for s in intake.life_stages
        if s.button
    )


def stage_from_action(action: str, intake: Intake) -> str | None:
    """The life stage a `ls:<id>` button stands for; None if it is not one."""
    prefix, _, stage_id = action.partition(":")
    return stage_id if prefix == STAGE_ACTION and intake.stage(stage_id) else None


def _food_buttons(foods: Iterable[Food]) -> tuple[Button, ...]:
    return tuple(Button(f.name[:32], f"f:{f.id}") for f in foods)


def _mcg(value: float) -> str:
    """One decimal is the honest precision of these estimates; traces keep two digits."""
    if value == 0:
        return "0"
    if value < 0.1:
        return format_number(value)
    return f"{value:.1f}".removesuffix(".0") if value >= 10 else f"{value:.1f}"


def _servings_text(servings: float) -> str:
    return f"{servings:.2f}".rstrip("0").rstrip(".")
