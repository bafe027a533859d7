"""Food finder: ranking by B12 per serving, the vegan list, browsing by group, content."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.content.food_lists import check_food_lists, load_food_lists
from bot.content.html import html_problems
from bot.content.models import Food, FoodKind
from bot.content.refs import ToolContentError, source_titles
from bot.core.engine import Engine
from bot.core.reply import Reply
from bot.core.tools.foodlist import (
    INTENT,
    foods_by_group,
    group_from_action,
    rank_foods,
    ranking_request,
    render_group,
    render_groups_menu,
    render_ranking,
)

CONTENT = Path(__file__).resolve().parents[1] / "content"
LISTS = load_food_lists(CONTENT)
TITLES = source_titles(CONTENT)


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine.load(CONTENT)


@pytest.fixture(scope="module")
def foods(engine: Engine) -> list[Food]:
    return list(engine.content.foods.values())


def food(fid: str, mcg: float, kind: str, group: str = "test group") -> Food:
    return Food(
        id=fid,
        name=fid.title(),
        names=[fid],
        group=group,
        serving="1 cup",
        mcg=mcg,
        dv_percent=round(mcg / 2.4 * 100),
        kind=FoodKind(kind),
        note=f"{mcg:g} mcg" if mcg else "no B12",
        sources=["usda_fdc"],
        alternative=None if kind != "unreliable" else "x",
    )


SAMPLE = [
    food("liver", 70.7, "natural"),
    food("yeast", 8.3, "fortified"),
    food("milk", 1.3, "natural"),
    food("soy", 2.7, "fortified"),
    food("tempeh", 0.07, "unreliable"),
    food("nori", 0.0, "unreliable"),
    food("cereal", 0.6, "fortified"),
    food("egg", 0.6, "natural"),
]

RANKINGS = [
    (False, None, ["liver", "yeast", "soy", "milk", "cereal", "egg"]),
    (False, 3, ["liver", "yeast", "soy"]),
    (True, None, ["yeast", "soy", "cereal"]),
    (True, 2, ["yeast", "soy"]),
    (True, 0, []),
]


@pytest.mark.parametrize(("vegan", "limit", "expected"), RANKINGS)
def test_rank_foods(vegan: bool, limit: int | None, expected: list[str]) -> None:
    assert [f.id for f in rank_foods(SAMPLE, vegan=vegan, limit=limit)] == expected


def test_rank_on_real_foods(foods: list[Food]) -> None:
    ranked = rank_foods(foods, vegan=False)
    assert ranked[0].id == "beef_liver"
    assert [f.mcg for f in ranked] == sorted((f.mcg for f in ranked), reverse=True)
    assert all(f.kind is not FoodKind.unreliable and f.mcg > 0 for f in ranked)
    vegan = rank_foods(foods, vegan=True)
    assert {f.id for f in vegan} == {"nutritional_yeast", "plant_milk", "fortified_cereal"}


def test_foods_by_group(foods: list[Food]) -> None:
    groups = foods_by_group(foods)
    assert list(groups) == [
        "fish and shellfish",
        "meat",
        "dairy and eggs",
        "fortified",
        "not reliable",
    ]
    assert sum(len(v) for v in groups.values()) == len(foods)
    for items in groups.values():
        assert [f.mcg for f in items] == sorted((f.mcg for f in items), reverse=True)


REQUESTS = [
    ("best vegan b12 foods", (True, LISTS.default_limit)),
    ("foods with most b12", (False, LISTS.default_limit)),
    ("which food has the most vitamin b-12", (False, LISTS.default_limit)),
    ("top 5 b12 foods", (False, 5)),
    ("top 50 b12 foods", (False, LISTS.max_limit)),
    ("richest plant based sources of b12", (True, LISTS.default_limit)),
    ("foods high in b12", None),  # the curated food_sources answer takes it
    ("best foods for cramps", None),
    ("how much b12 in salmon", None),
]


@pytest.mark.parametrize(("text", "expected"), REQUESTS)
def test_ranking_request(engine: Engine, text: str, expected: tuple[bool, int] | None) -> None:
    assert ranking_request(engine.normalise(text), LISTS) == expected


def assert_sendable(reply: Reply) -> None:
    assert reply.intent == INTENT
    assert 0 < len(reply.text) <= 4096
    assert html_problems(reply.text) == []
    assert all(len(b.action.encode()) <= 40 for b in reply.buttons)


@pytest.mark.parametrize("vegan", [False, True])
def test_render_ranking(foods: list[Food], vegan: bool) -> None:
    reply = render_ranking(foods, LISTS, TITLES, vegan=vegan, limit=LISTS.max_limit)
    assert_sendable(reply)
    expected = rank_foods(foods, vegan=vegan, limit=LISTS.max_limit)
    for rank, item in enumerate(expected, 1):
        assert f"{rank}. {item.name}" in reply.text
    assert [b.action for b in reply.buttons] == [f"f:{f.id}" for f in expected[:4]]
    assert "Source:" in reply.text


def test_browse_groups(foods: list[Food]) -> None:
    menu = render_groups_menu(foods, LISTS)
    assert_sendable(menu)
    assert len(menu.buttons) == len(foods_by_group(foods))
    for button in menu.buttons:
        group = group_from_action(button.action, LISTS)
        assert group
        reply = render_group(group, foods, LISTS, TITLES)
        assert_sendable(reply)
        for item in foods_by_group(foods)[group]:
            assert item.name.replace("&", "&amp;") in reply.text
        assert group_from_action(reply.buttons[-1].action, LISTS) == ""
    assert group_from_action("fg:nope", LISTS) is None
    assert group_from_action("f:salmon", LISTS) is None


def test_content_is_valid() -> None:
    assert check_food_lists(CONTENT) == []


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d["groups"].pop(0), "no button for foods.yaml group 'fish and shellfish'"),
        (lambda d: d["groups"][0].update(group="fish"), "no food in group 'fish'"),
        (lambda d: d["texts"].update(line="{rank} {nope}"), "nope"),
        (lambda d: d["text_sources"].update(footer_all=["nope"]), "unknown source"),
    ],
)
def test_content_problems_are_reported(tmp_path: Path, edit: Any, message: str) -> None:
    target = tmp_path / "content"
    shutil.copytree(CONTENT, target)
    path = target / "food_lists.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    problems = check_food_lists(target)
    assert any(message in str(p) for p in problems), problems
    with pytest.raises(ToolContentError):
        load_food_lists(target)
