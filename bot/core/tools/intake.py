"""A day's B12: a meal description in, micrograms against the daily need out.

Pure: `parse_meal` turns text into a `Meal` (items with servings and mcg, plus what it
could not recognise), `render_intake` turns a Meal into the reply. Figures per serving come
from foods.yaml, portions and the RDA table from intake.yaml; nothing medical is written
here. Unrecognised foods are listed back to the user, never guessed.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from bot.content.intake import STAGE_ACTION, Intake, LifeStage, Portion
from bot.content.models import Food, FoodKind
from bot.core.reply import Button, Reply
from bot.core.tools.compose import paragraphs, sources_line
from bot.core.tools.foodlist import rank_foods
from bot.core.tools.mealtext import Amount, meal_lexicon
from bot.core.tools.parsing import format_number

INTENT = "intake"
_SMALL_COUNT = 12  # "2 cups of tuna": two portions; "200 g of cereal" is not 200 portions


@dataclass(frozen=True, slots=True)
class MealItem:
    food: str  # food id
    text: str  # the part of the message it came from
    servings: float  # multiples of the food's serving in foods.yaml
    mcg: float
    assumed: bool  # no usable amount was written: a default portion was counted


@dataclass(frozen=True, slots=True)
class Meal:
    items: tuple[MealItem, ...]
    unrecognised: tuple[str, ...]
    vegan: bool = False
    life_stage: str | None = None  # named in the message ("I'm pregnant")

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
                for i in self.items
            ],
            "unrecognised": list(self.unrecognised),
            "total_mcg": round(self.total_mcg, 2),
            "vegan": self.vegan,
            "life_stage": self.life_stage,
        }


def looks_like_meal(normalised_text: str, intake: Intake, foods: Mapping[str, Food]) -> bool:
    """Cheap pre-check on the engine's normalised text: "I had …", an amount with a measure
    ("3 oz", "a glass of"), or two foods and a number — unless it is about cramps, tests, …"""
    return meal_lexicon(foods, intake).looks_like_meal(normalised_text)


def parse_meal(text: str, foods: Mapping[str, Food], intake: Intake) -> Meal:
    lex = meal_lexicon(foods, intake)
    items: list[MealItem] = []
    unrecognised: list[str] = []
    for piece in lex.pieces(text):
        if not piece.foods:
            if piece.unknown and piece.text:
                unrecognised.append(piece.text)
            continue
        unrecognised += piece.unknown  # "sardines on toast": the toast is not counted
        for food_id in piece.foods:
            food = foods[food_id]
            portion = intake.portions.get(food_id, Portion())
            servings, assumed = _servings(portion, piece.amount, intake)
            items.append(MealItem(food_id, piece.text, servings, servings * food.mcg, assumed))
    return Meal(
        tuple(items), tuple(dict.fromkeys(unrecognised)), lex.vegan(text), lex.life_stage(text)
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
    verdict = t.reached if total >= need else t.short.format(gap=_mcg(need - total))
    stage_text = html.escape(stage.label)
    parts.append(
        t.total.format(total=_mcg(total), stage=stage_text, need=_mcg(need)) + "\n" + verdict
    )
    cited = [s for item in meal.items for s in foods[item.food].sources] + list(stage.sources)
    suggestions = _suggestions(need - total, meal.vegan, intake, foods) if total < need else []
    if suggestions:
        parts.append(
            "\n".join([t.suggest_title, *(_suggestion_line(f, n, intake) for f, n in suggestions)])
        )
        cited += [s for f, _ in suggestions for s in f.sources]
    notes = _notes(meal, stage, intake, foods)
    parts += [text for text, _ in notes]
    cited += [s for _, sources in notes for s in sources]
    if meal.unrecognised:
        items = t.list_separator.join(html.escape(u) for u in meal.unrecognised)
        parts.append(t.unrecognised.format(items=items))
    if unknown_stage:
        parts.append(t.stage_unknown.format(stage=stage_text, need=_mcg(need)))
    parts.append(t.disclaimer)
    parts.append(sources_line(intake.texts.sources, cited, source_titles))
    buttons = _stage_buttons(intake) if unknown_stage else _food_buttons(f for f, _ in suggestions)
    return paragraphs(INTENT, parts, buttons)


def _item_line(item: MealItem, food: Food, intake: Intake) -> str:
    t = intake.texts
    marks = t.mark_assumed if item.assumed else ""
    if food.kind is FoodKind.fortified:
        marks += t.mark_fortified
    elif food.kind is FoodKind.unreliable:
        marks += t.mark_unreliable
    amount = t.amount.format(
        servings=_servings_text(item.servings), serving=html.escape(food.serving)
    )
    return t.item.format(
        food=html.escape(food.name), amount=amount, mcg=_mcg(item.mcg), marks=marks
    )


def _suggestions(
    gap: float, vegan: bool, intake: Intake, foods: Mapping[str, Food]
) -> list[tuple[Food, int]]:
    """Foods that close the gap in the fewest servings, the smallest such amount first."""
    options = [
        (f, math.ceil(gap / f.mcg - 1e-9))
        for f in rank_foods(foods.values(), vegan=vegan)
        if f.id not in intake.suggest_skip
    ]
    options.sort(key=lambda pair: (pair[1], pair[0].mcg))
    return options[: intake.suggest_count]


def _suggestion_line(food: Food, servings: int, intake: Intake) -> str:
    t = intake.texts
    amount = t.amount.format(servings=servings, serving=html.escape(food.serving))
    return t.suggestion.format(
        food=html.escape(food.name), amount=amount, mcg=_mcg(servings * food.mcg)
    )


def _notes(
    meal: Meal, stage: LifeStage, intake: Intake, foods: Mapping[str, Food]
) -> list[tuple[str, Iterable[str]]]:
    t, sources = intake.texts, intake.text_sources
    notes: list[tuple[str, Iterable[str]]] = []
    if meal.vegan:
        notes.append((t.vegan_note, sources.get("vegan_note", ())))
    if stage.note:
        notes.append((stage.note, stage.sources))
    if any(item.mcg > intake.big_item_mcg for item in meal.items):
        notes.append((t.big_item, sources.get("big_item", ())))
    if any(item.food == "eggs" and item.mcg > 0 for item in meal.items):
        notes.append((t.eggs_note, sources.get("eggs_note", ())))
    return notes


def _nothing(meal: Meal, intake: Intake, foods: Mapping[str, Food]) -> Reply:
    t = intake.texts
    if not meal.unrecognised:
        return paragraphs(INTENT, [t.empty], ())
    firsts: dict[str, Food] = {}
    for food in foods.values():
        firsts.setdefault(food.group, food)
    examples = t.list_separator.join(html.escape(f.name) for f in firsts.values())
    items = t.list_separator.join(html.escape(u) for u in meal.unrecognised)
    return paragraphs(INTENT, [t.nothing_found.format(items=items, examples=examples)], ())


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
