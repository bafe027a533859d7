"""A day's B12: meal parsing (tests/data/meals.jsonl), amounts, replies, detector, content."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.content.html import html_problems
from bot.content.intake import MAX_ACTION_BYTES, check_intake, load_intake
from bot.content.models import FoodKind
from bot.content.refs import ToolContentError, source_titles
from bot.core.engine import Engine
from bot.core.reply import Reply
from bot.core.tools.intake import (
    INTENT,
    Meal,
    looks_like_meal,
    parse_meal,
    render_intake,
    stage_from_action,
)

ROOT = Path(__file__).resolve().parents[1]
CONTENT = ROOT / "content"
MEALS = [
    json.loads(line) for line in (ROOT / "tests/data/meals.jsonl").read_text().splitlines() if line
]
INTAKE = load_intake(CONTENT)
TITLES = source_titles(CONTENT)


# Issue 12 (medical review): a plain oat, almond or other plant milk has no figure until its
# label says, so it counts 0 mcg. tests/data/meals.jsonl still counts it as 2.7 mcg a cup
# (fortified soy milk): these are the reviewed totals until the data file is updated.
@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine.load(CONTENT)


@pytest.fixture(scope="module")
def foods(engine: Engine) -> Any:
    return engine.content.foods


def render(meal: Meal, foods: Any, stage: str | None = "adult") -> Reply:
    return render_intake(meal, stage, INTAKE, foods, source_titles=TITLES)


def assert_sendable(reply: Reply) -> None:
    assert reply.intent == INTENT
    assert 0 < len(reply.text) <= 4096
    assert html_problems(reply.text) == []
    for button in reply.buttons:
        assert len(button.action.encode()) <= MAX_ACTION_BYTES


# ------------------------------------------------------------------------ parsing


def test_enough_meal_descriptions() -> None:
    assert len(MEALS) >= 40


@pytest.mark.parametrize("case", MEALS, ids=[c["text"][:40] for c in MEALS])
def test_meal(case: dict[str, Any], foods: Any) -> None:
    meal = parse_meal(case["text"], foods, INTAKE)
    assert [i.food for i in meal.items] == [food for food, _ in case["items"]]
    for item, (_, servings) in zip(meal.items, case["items"], strict=True):
        assert item.servings == pytest.approx(servings, abs=0.01), item.food
    assert list(meal.unrecognised) == case["unrecognised"]
    assert meal.total_mcg == pytest.approx(case["total_mcg"], abs=0.01)
    assert meal.vegan is case.get("vegan", False)
    assert meal.life_stage == case.get("life_stage")


@pytest.mark.parametrize("case", MEALS, ids=[c["text"][:40] for c in MEALS])
def test_meal_reply_is_sendable(case: dict[str, Any], foods: Any) -> None:
    meal = parse_meal(case["text"], foods, INTAKE)
    for stage in (None, "adult", "child_1_3"):
        assert_sendable(render(meal, foods, stage))


AMOUNTS = [
    # text, servings of the one food — each row checks one way of writing an amount
    ("milk", 1.0),
    ("a milk", 1.0),
    ("3 milk", 3.0),
    ("three glasses of milk", 3.0),
    ("twelve eggs", 12.0),
    ("half a glass of milk", 0.5),
    ("a glass and a half of milk", 1.5),
    ("½ cup milk", 0.5),
    ("1.5 cups of milk", 1.5),
    ("1,5 cups of milk", 1.5),
    ("2x eggs", 2.0),
    ("eggs x3", 3.0),
    ("a couple of eggs", 2.0),
    ("8 oz milk", 8 * 28.35 / 244),
    ("240 ml of milk", 240 * 0.00423),
    ("0.5 l milk", 0.5 * 4.23),
    ("2 tsp nutritional yeast", 2 * 0.0208 / 0.25),
    ("a slice of ham", 0.33),
    ("a serving of liver", 1.0),
    ("2 portions of haddock", 2.0),
]


@pytest.mark.parametrize(("text", "servings"), AMOUNTS)
def test_amounts(text: str, servings: float, foods: Any) -> None:
    meal = parse_meal(text, foods, INTAKE)
    assert len(meal.items) == 1
    assert meal.items[0].servings == pytest.approx(servings, rel=0.01)


def test_amount_without_a_figure_for_the_food_is_marked_assumed(foods: Any) -> None:
    meal = parse_meal("40 g of cereal and a can of lamb", foods, INTAKE)
    assert [(i.food, i.servings, i.assumed) for i in meal.items] == [
        ("fortified_cereal", 1.0, True),
        ("lamb", 1.0, True),
    ]
    assert "amount assumed" in render(meal, foods).text


def test_bare_food_is_one_assumed_serving(foods: Any) -> None:
    (item,) = parse_meal("sardines", foods, INTAKE).items
    assert (item.servings, item.assumed) == (1.0, True)
    (counted,) = parse_meal("4 sardines", foods, INTAKE).items
    assert (counted.servings, counted.assumed) == (1.0, False)


def test_unrecognised_are_listed_not_guessed(foods: Any) -> None:
    meal = parse_meal("toast, porridge and a kiwi", foods, INTAKE)
    assert meal.items == ()
    assert meal.unrecognised == ("toast", "porridge", "kiwi")
    reply = render(meal, foods)
    assert_sendable(reply)
    assert all(word in reply.text for word in ("toast", "porridge", "kiwi"))


def test_short_words_are_never_fuzzy_matched(foods: Any) -> None:
    assert parse_meal("jam", foods, INTAKE).unrecognised == ("jam",)
    assert parse_meal("beer", foods, INTAKE).unrecognised == ("beer",)


def test_user_text_is_escaped(foods: Any) -> None:
    meal = parse_meal("milk and <b>cake</b> & tea", foods, INTAKE)
    reply = render(meal, foods)
    assert_sendable(reply)
    assert "&lt;b&gt;cake&lt;/b&gt;" in reply.text


# ------------------------------------------------------------------------ life stage and need


@pytest.mark.parametrize(
    ("stage", "need"),
    [
        ("adult", 2.4),
        ("pregnancy", 2.6),
        ("breastfeeding", 2.8),
        ("teen_14_18", 2.4),
        ("child_9_13", 1.8),
        ("child_4_8", 1.2),
        ("child_1_3", 0.9),
        ("infant_7_12", 0.5),
        ("infant_0_6", 0.4),
        ("adult_51", 2.4),
    ],
)
def test_rda_table(stage: str, need: float) -> None:
    life_stage = INTAKE.stage(stage)
    assert life_stage is not None and life_stage.mcg == need


def test_gap_and_reached(foods: Any) -> None:
    short = render(parse_meal("2 eggs", foods, INTAKE), foods)  # 1.2 of 2.4
    assert "1.2 mcg" in short.text and INTAKE.texts.reached not in short.text
    assert [b.action.split(":")[0] for b in short.buttons] == ["f"] * len(short.buttons)
    reached = render(parse_meal("a glass of milk", foods, INTAKE), foods, "child_1_3")  # 1.3/0.9
    assert INTAKE.texts.reached in reached.text
    assert reached.buttons == ()


def test_stage_named_in_the_message_wins(foods: Any) -> None:
    meal = parse_meal("I'm breastfeeding and had a glass of milk", foods, INTAKE)
    assert meal.life_stage == "breastfeeding"
    assert "2.8 mcg" in render(meal, foods, "adult").text


def test_unknown_stage_asks_with_buttons(foods: Any) -> None:
    reply = render(parse_meal("a glass of milk", foods, INTAKE), foods, None)
    assert_sendable(reply)
    stages = [stage_from_action(b.action, INTAKE) for b in reply.buttons]
    assert "pregnancy" in stages and "breastfeeding" in stages and None not in stages
    assert stage_from_action("ls:nope", INTAKE) is None
    assert stage_from_action("f:milk", INTAKE) is None


def test_vegan_suggestions_are_fortified_plant_foods(foods: Any) -> None:
    meal = parse_meal("I'm vegan, I had spinach and banana", foods, INTAKE)
    assert meal.vegan
    reply = render(meal, foods)
    suggested = [b.action.removeprefix("f:") for b in reply.buttons]
    assert suggested and all(foods[f].kind is FoodKind.fortified for f in suggested)
    assert "Vegan Society" in reply.full


def test_suggestions_close_the_gap(foods: Any) -> None:
    meal = parse_meal("a slice of cheese", foods, INTAKE)  # 0.335 of 2.4
    reply = render(meal, foods)
    gap = 2.4 - meal.total_mcg
    for button in reply.buttons:
        food = foods[button.action.removeprefix("f:")]
        assert food.kind is not FoodKind.unreliable and food.id not in INTAKE.poorly_absorbed
        line = next(line for line in reply.full.splitlines() if line.startswith(f"• {food.name}:"))
        servings = int(line.split(":")[1].split("×")[0])
        assert servings * food.mcg >= gap - 1e-9


def test_empty_message(foods: Any) -> None:
    reply = render(parse_meal("", foods, INTAKE), foods)
    assert reply.text == INTAKE.texts.empty.strip()


def test_details(foods: Any) -> None:
    details = parse_meal("2 eggs and toast", foods, INTAKE).details
    assert details["items"] == [{"food": "eggs", "servings": 2.0, "mcg": 1.2}]
    assert details["unrecognised"] == ["toast"]
    assert details["no_figure"] == []
    assert details["total_mcg"] == 1.2


# ------------------------------------------------------------------------ detector

DETECT = [
    ("today I had 2 eggs, a glass of milk and a tuna sandwich", True),
    ("3 oz salmon, yogurt", True),
    ("two cups of soy milk and a bowl of cereal", True),
    ("2 eggs, yogurt and 1 banana", True),
    ("for breakfast I ate cereal", True),
    # session 7 (dialogues_dev4): a meal told without "I", two foods with nothing that asks
    ("had a tuna sandwich w cheese", True),
    ("ate sardines on toast", True),
    ("had lamb today", True),  # session 9 (dialogues_dev7): "had" with a food and no question
    ("salmon and eggs", True),
    ("salmon or eggs", False),
    ("do eggs and milk have b12", False),
    ("i have tuna sandwiches most days, does tuna actually give me b12", False),
    ("how much b12 is in salmon", False),
    ("how much b12 is in a glass of milk", False),
    ("how much vitamin b12 does a can of tuna have", False),
    ("is salmon or tuna better", False),
    ("I had cramps after eating salmon", False),
    ("can a glass of milk help night cramps", False),
    ("my b12 came back 180 pg/ml", False),
    ("hello", False),
    # session 12 (dialogues_dev9): two foods and "how much b12" ask for their sum, not a comparison
    ("tuna and yoghurt how much b12", True),
    ("how much b12 in tuna vs yoghurt", False),
]


@pytest.mark.parametrize(("text", "expected"), DETECT)
def test_looks_like_meal(engine: Engine, foods: Any, text: str, expected: bool) -> None:
    assert looks_like_meal(engine.normalise(text), INTAKE, foods) is expected


# ------------------------------------------------------------------------ content


def test_content_is_valid() -> None:
    assert check_intake(CONTENT) == []


def test_every_food_has_a_portion(foods: Any) -> None:
    assert set(INTAKE.portions) == set(foods)


def _broken(tmp_path: Path, edit: Any) -> Path:
    target = tmp_path / "content"
    shutil.copytree(CONTENT, target)
    path = target / "intake.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return target


BREAKAGES = [
    ("unknown food", lambda d: d["portions"].update(caviar={"grams": 10}), "unknown food id"),
    ("missing food", lambda d: d["portions"].pop("milk"), "no portion for food 'milk'"),
    ("unknown source", lambda d: d["life_stages"][0].update(sources=["nope"]), "unknown source"),
    ("unknown measure", lambda d: d["portions"]["tuna"]["measures"].update(bucket=9), "bucket"),
    ("default stage", lambda d: d.update(default_life_stage="martian"), "martian"),
    ("placeholder", lambda d: d["texts"].update(total="{total} {oops}"), "oops"),
    ("html", lambda d: d["texts"].update(title="<b>x"), "unclosed"),
    ("filler clash", lambda d: d["filler"].append("glass"), "also a measure"),
    ("poorly absorbed", lambda d: d.update(poorly_absorbed=["caviar"]), "poorly_absorbed"),
]


@pytest.mark.parametrize(("name", "edit", "message"), BREAKAGES, ids=[b[0] for b in BREAKAGES])
def test_content_problems_are_reported(tmp_path: Path, name: str, edit: Any, message: str) -> None:
    directory = _broken(tmp_path, edit)
    problems = check_intake(directory)
    assert any(message in str(p) for p in problems), problems
    with pytest.raises(ToolContentError):
        load_intake(directory)
