"""Issue 12, the medical reviewer's findings on the food card, the intake counter and the food
lists: one block per finding, each on the real content (figures from spec/facts.md)."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.content.food_lists import load_food_lists
from bot.content.intake import load_intake
from bot.content.models import Food, FoodKind
from bot.content.refs import source_titles
from bot.core.engine import Engine
from bot.core.reply import Reply
from bot.core.tools.foodlist import rank_foods, render_group, render_ranking
from bot.core.tools.intake import parse_meal, render_intake

CONTENT = Path(__file__).resolve().parents[1] / "content"
INTAKE = load_intake(CONTENT)
LISTS = load_food_lists(CONTENT)
TITLES = source_titles(CONTENT)
PREGNANCY_SOURCE = "nhs_pregnancy_foods_avoid"


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine.load(CONTENT)


def count(engine: Engine, text: str, stage: str | None = "adult") -> Reply:
    meal = parse_meal(text, engine.content.foods, INTAKE)
    return render_intake(meal, stage, INTAKE, engine.content.foods, source_titles=TITLES)


def card(engine: Engine, food_id: str) -> str:
    """The whole card, as More and Sources show it."""
    return engine.answer_food(engine.content.foods[food_id], 100.0).full


FOOD_IDS = sorted(Engine.load(CONTENT).content.foods)


# ------------------------------------------------- 1. English for plural and mass nouns


@pytest.mark.parametrize("food_id", FOOD_IDS)
def test_food_card_never_makes_the_name_a_subject_or_puts_it_mid_sentence(
    engine: Engine, food_id: str
) -> None:
    """ "Clams is", "Eggs is", "a reliable choice is Plant milk": in the templates a name is
    a title or a label. (The note is the curator's own sentence about the food.)"""
    text = card(engine, food_id).replace(engine.content.foods[food_id].note.strip(), "")
    names = {html.escape(f.name) for f in engine.content.foods.values()}
    for name in names:
        label = re.escape(name) + r"(?:</b>)?"
        assert not re.search(label + r" (?:is|are|has|have)\b", text), (name, text)
        assert not re.search(r"[a-z,] (?:<b>)?" + re.escape(name), text), (name, text)


@pytest.mark.parametrize("food_id", FOOD_IDS)
def test_zero_is_no_b12_never_about_0_mcg(engine: Engine, food_id: str) -> None:
    food = engine.content.foods[food_id]
    text = card(engine, food_id)
    assert "about 0 mcg" not in text
    if food.mcg == 0:
        assert re.search(r"\bno (?:reliable )?B12\b", text), text


def test_a_counted_food_without_b12_says_so(engine: Engine) -> None:
    text = count(engine, "a banana").text
    assert "0 mcg" not in text
    assert "no B12" in text


def test_words_that_are_no_food_are_not_called_foods(engine: Engine) -> None:
    text = count(engine, "3 eggs and lol").text
    line = next(line for line in text.splitlines() if "lol" in line)
    assert "foods I don't know" not in line and "words" in line


def test_an_unreliable_food_must_give_its_figure_or_say_it_has_none() -> None:
    base = {
        "id": "x",
        "name": "Xx",
        "names": ["x"],
        "group": "gg",
        "serving": "1 cup",
        "kind": "unreliable",
        "alternative": "y",
        "sources": ["usda_fdc"],
    }
    with pytest.raises(ValidationError, match="no B12"):
        Food(**base, mcg=0, dv_percent=0, note="Only traces.")
    with pytest.raises(ValidationError, match=r"0\.09 mcg"):
        Food(**base, mcg=0.09, dv_percent=4, note="Only traces.")
    assert Food(**base, mcg=0, dv_percent=0, note="It has no B12.").kind is FoodKind.unreliable


# ------------------------------------------------- 2. plant milk depends on the label


@pytest.mark.parametrize("text", ["a glass of oat milk", "a cup of almond milk", "rice milk"])
def test_plain_plant_milk_is_not_counted_as_fortified_soy(engine: Engine, text: str) -> None:
    meal = parse_meal(text, engine.content.foods, INTAKE)
    assert meal.total_mcg == 0
    assert [i.food for i in meal.items] == ["plant_milk"] and meal.items[0].label
    reply = count(engine, text).text
    assert "not counted" in reply and "check the label" in reply
    assert "2.7" not in reply.split("Any one of these")[0]


def test_soy_milk_counts_as_fortified_soy_and_says_so(engine: Engine) -> None:
    meal = parse_meal("a glass of soy milk", engine.content.foods, INTAKE)
    assert meal.total_mcg == pytest.approx(2.7)
    line = next(
        line for line in count(engine, "a glass of soy milk").text.splitlines() if "•" in line
    )
    assert "fortified unsweetened soy milk" in line and INTAKE.texts.mark_fortified in line


def test_a_counted_soy_milk_beside_an_oat_milk_is_still_counted(engine: Engine) -> None:
    meal = parse_meal("oat milk, 2 cups of soy milk", engine.content.foods, INTAKE)
    assert [(i.label, round(i.mcg, 1)) for i in meal.items] == [("oat milk", 0), (None, 5.4)]


@pytest.mark.parametrize("text", ["does oat milk have b12", "is there b12 in almond milk"])
def test_plant_milk_card_says_the_amount_depends_on_the_label(engine: Engine, text: str) -> None:
    reply = engine.ask(text)
    assert reply.food == "plant_milk"
    assert "depends on the label" in reply.full
    assert "no standard figure for oat" in reply.full
    assert "fortified unsweetened soy milk" in reply.text  # what the 2.7 mcg is, at first sight


def test_label_names_must_be_names_of_a_fortified_food() -> None:
    base = {
        "id": "x",
        "name": "Xx",
        "group": "gg",
        "serving": "1 cup",
        "mcg": 2.7,
        "dv_percent": 112,
        "sources": ["usda_fdc"],
    }
    with pytest.raises(ValidationError, match="not one of"):
        Food(**base, names=["x"], label_names=["oat milk"], kind="fortified")
    with pytest.raises(ValidationError, match="only a fortified food"):
        Food(**base, names=["x"], label_names=["x"], kind="natural")


# ------------------------------------------------- 3. "the most B12" only for a full list


@pytest.mark.parametrize("limit", [None, 5, LISTS.max_limit])
def test_ranking_claims_the_most_only_when_it_lists_every_food(
    engine: Engine, limit: int | None
) -> None:
    foods = list(engine.content.foods.values())
    reply = render_ranking(foods, LISTS, TITLES, vegan=False, limit=limit)
    title = reply.text.splitlines()[0].casefold()
    listed = len(rank_foods(foods, vegan=False, limit=limit or LISTS.default_limit))
    assert "most" not in title or listed == len(rank_foods(foods, vegan=False)), title


def test_ranking_answers_which_foods_have_the_most_with_the_shellfish(engine: Engine) -> None:
    reply = engine.ask("which foods have the most b12")
    ids = [b.action.removeprefix("f:") for b in reply.buttons]
    assert reply.intent == "food_sources"
    assert ids == ["beef_liver", "mussels", "clams", "oysters"]
    assert "5. Crab" in reply.text


# ------------------------------------------------- 4. a reliable alternative, if labelled


@pytest.mark.parametrize("food_id", FOOD_IDS)
def test_alternatives_are_fortified_and_give_half_the_vegan_daily_target(
    engine: Engine, food_id: str
) -> None:
    """The Vegan Society: fortified foods twice a day, 3 mcg or more in all (facts §2)."""
    food = engine.content.foods[food_id]
    if food.alternative is None:
        return
    alternative = engine.content.foods[food.alternative]
    assert alternative.kind is FoodKind.fortified and alternative.mcg >= 1.5, alternative.id
    assert "if its label lists B12" in card(engine, food_id)


# ------------------------------------------------- 5. eggs do not make a day "covered"


def test_a_day_covered_only_by_eggs_is_not_called_covered(engine: Engine) -> None:
    reply = count(engine, "4 eggs and a glass of milk")  # 2.4 + 1.3 of 2.4; 1.3 without eggs
    assert INTAKE.texts.reached not in reply.text
    assert "1.1 mcg" in reply.text  # short without the eggs
    assert reply.buttons and all(b.action.startswith("f:") for b in reply.buttons)
    assert all(b.action != "f:eggs" for b in reply.buttons)


def test_a_day_covered_without_the_eggs_is_covered(engine: Engine) -> None:
    reply = count(engine, "2 eggs and 2 glasses of milk")  # 1.2 + 2.6: 2.6 alone covers 2.4
    assert INTAKE.texts.reached in reply.text


# ------------------------------------------------- 6. the 1.5–2 mcg limit is one route


def test_big_amount_note_says_a_small_share_of_the_rest_is_absorbed(engine: Engine) -> None:
    reply = count(engine, "a serving of clams").full
    note = next(p for p in reply.split("\n\n") if "1.5–2 mcg" in p)
    assert "from one meal" not in note  # the uptake of a meal is not capped
    assert "small share" in note
    assert TITLES["iom_dri_1998"] in reply  # with large amounts only a small % (facts §1c)


# ------------------------------------------------- 7. liver in pregnancy


def test_liver_card_warns_in_pregnancy(engine: Engine) -> None:
    text = card(engine, "beef_liver")
    assert "pregnan" in text.casefold() and "vitamin A" in text
    assert html.escape(TITLES[PREGNANCY_SOURCE]) in text
    first = engine.answer_food(engine.content.foods["beef_liver"], 100.0).text
    assert (
        html.escape(engine.content.foods["beef_liver"].caution.strip()) in first
    )  # not behind More


@pytest.mark.parametrize("stage", [None, "adult", "pregnancy"])
def test_counted_liver_carries_the_pregnancy_caution(engine: Engine, stage: str | None) -> None:
    reply = count(engine, "liver and onions", stage)
    caution = engine.content.foods["beef_liver"].caution
    assert caution and html.escape(caution.strip()) in reply.text.replace("\n", " ")  # first sight
    assert html.escape(TITLES[PREGNANCY_SOURCE]) in reply.full


def test_listed_liver_carries_the_pregnancy_caution(engine: Engine) -> None:
    foods = list(engine.content.foods.values())
    caution = engine.content.foods["beef_liver"].caution.strip()
    for reply in (
        render_ranking(foods, LISTS, TITLES, vegan=False),
        render_group("meat", foods, LISTS, TITLES),
    ):
        assert caution in reply.text.replace("\n", " ")
        assert html.escape(TITLES[PREGNANCY_SOURCE]) in reply.text
    fish = render_group("fish and shellfish", foods, LISTS, TITLES)
    assert caution not in fish.text.replace("\n", " ")


# ------------------------------------------------- 8. chicken liver is not chicken


@pytest.mark.parametrize(
    ("text", "counted", "not_counted"),
    [
        ("chicken liver and 2 eggs", ["eggs"], "chicken liver"),
        ("2 chicken livers", [], "chicken livers"),
        ("lamb liver with milk", ["milk"], "lamb liver"),
        ("a glass of goat milk", [], "goat milk"),
    ],
)
def test_a_food_with_no_figure_is_never_counted_as_another(
    engine: Engine, text: str, counted: list[str], not_counted: str
) -> None:
    meal = parse_meal(text, engine.content.foods, INTAKE)
    assert [i.food for i in meal.items] == counted
    assert meal.no_figure == (not_counted,) and meal.unrecognised == ()
    reply = engine.count_intake(text, "adult")
    assert reply is not None and f"no checked B12 figure for {not_counted}" in reply.text
