"""Food finder: foods ranked by B12 per serving, and browsing foods by group.

Pure functions over the foods of foods.yaml and the wording of food_lists.yaml. Replies
keep the existing intent ids: lists are `food_sources`, a single food stays `food_lookup`
(the buttons here are the engine's own `f:<food id>` actions).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping

from bot.content.food_lists import GROUP_ACTION, FoodLists
from bot.content.models import Food, FoodKind
from bot.core.reply import Button, Reply
from bot.core.tools.compose import cautions, paragraphs, sources_line
from bot.core.tools.parsing import format_number, phrase_pattern

INTENT = "food_sources"
_RANKED_KINDS = {FoodKind.natural, FoodKind.fortified}
_NUMBER = re.compile(r"\b(\d{1,2})\b")


def rank_foods(foods: Iterable[Food], *, vegan: bool, limit: int | None = None) -> list[Food]:
    """Reliable sources by mcg per serving, richest first; `vegan` keeps fortified foods only.

    Foods marked unreliable never rank, whatever their figure: the point of the list is
    where B12 can actually be counted on to come from.
    """
    kinds = {FoodKind.fortified} if vegan else _RANKED_KINDS
    ranked = sorted(
        (f for f in foods if f.kind in kinds and f.mcg > 0), key=lambda f: (-f.mcg, f.name)
    )
    return ranked if limit is None else ranked[: max(limit, 0)]


def foods_by_group(foods: Iterable[Food]) -> dict[str, list[Food]]:
    """group → its foods, richest first; groups in the order foods.yaml first names them."""
    groups: dict[str, list[Food]] = {}
    for food in foods:
        groups.setdefault(food.group, []).append(food)
    return {g: sorted(items, key=lambda f: -f.mcg) for g, items in groups.items()}


def ranking_request(normalised_text: str, lists: FoodLists) -> tuple[bool, int] | None:
    """(vegan, limit) when the message asks for a ranked list ("best vegan b12 foods"),
    else None. Reads the engine's normalised text, where every B12 spelling is "b12"."""
    words = set(normalised_text.split())
    if "b12" not in words:
        return None
    if not (_has(lists.rank_words, normalised_text) and _has(lists.food_words, normalised_text)):
        return None
    vegan = _has(lists.vegan_words, normalised_text)
    numbers = [int(n) for n in _NUMBER.findall(normalised_text.replace("b12", ""))]
    limit = min(numbers[0], lists.max_limit) if numbers and numbers[0] > 0 else lists.default_limit
    return vegan, limit


def render_ranking(
    foods: Iterable[Food],
    lists: FoodLists,
    source_titles: Mapping[str, str],
    *,
    vegan: bool,
    limit: int | None = None,
) -> Reply:
    t = lists.texts
    ranked = rank_foods(foods, vegan=vegan, limit=limit or lists.default_limit)
    lines = [t.title_vegan if vegan else t.title_all]
    for rank, food in enumerate(ranked, 1):
        lines.append(t.line.format(rank=rank, dv=f"{food.dv_percent:,}", **_values(food)))
    footer = "footer_vegan" if vegan else "footer_all"
    cited = [s for f in ranked for s in f.sources] + list(lists.text_sources.get(footer, ()))
    parts = [
        "\n".join(lines),
        *(t.caution.format(caution=c) for c in cautions(ranked)),
        getattr(t, footer),
        sources_line(lists.texts.sources, cited, source_titles),
    ]
    buttons = tuple(Button(f.name[:32], f"f:{f.id}") for f in ranked[:4])
    return paragraphs(INTENT, parts, buttons)


def render_groups_menu(foods: Iterable[Food], lists: FoodLists) -> Reply:
    """/foods: one button per group that has foods."""
    present = foods_by_group(foods)
    buttons = tuple(
        Button(g.button, f"{GROUP_ACTION}:{g.slug}") for g in lists.groups if g.group in present
    )
    return paragraphs(INTENT, [lists.texts.menu], buttons)


def render_group(
    group: str, foods: Iterable[Food], lists: FoodLists, source_titles: Mapping[str, str]
) -> Reply:
    """One group's foods with their B12 per serving, and a button per food."""
    t = lists.texts
    entry = lists.group(group)
    items = foods_by_group(foods).get(group, [])
    title = t.group_title.format(group=html.escape(entry.button if entry else group))
    lines = [title, entry.intro if entry else ""]
    lines += [t.group_line.format(**_values(food)) for food in items]
    cited = [s for f in items for s in f.sources]
    buttons = [Button(f.name[:32], f"f:{f.id}") for f in items[:8]]
    buttons.append(Button(t.menu_button, f"{GROUP_ACTION}:menu"))
    return paragraphs(
        INTENT,
        [
            "\n".join(x for x in lines if x),
            *(t.caution.format(caution=c) for c in cautions(items)),
            sources_line(lists.texts.sources, cited, source_titles),
        ],
        tuple(buttons),
    )


def group_from_action(action: str, lists: FoodLists) -> str | None:
    """The foods.yaml group a `fg:<slug>` button stands for; "" for the menu; None if unknown."""
    prefix, _, slug = action.partition(":")
    if prefix != GROUP_ACTION:
        return None
    if slug == "menu":
        return ""
    return next((g.group for g in lists.groups if g.slug == slug), None)


def _values(food: Food) -> dict[str, str]:
    return {
        "name": html.escape(food.name),
        "mcg": format_number(food.mcg),
        "serving": html.escape(food.serving),
    }


def _has(phrases: Iterable[str], text: str) -> bool:
    pattern = phrase_pattern(phrases)
    return bool(pattern and pattern.search(text))
