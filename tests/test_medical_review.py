"""The medical review (issue 12): each finding stays fixed in the shipped content.

Every test here failed on the content before the review; each names the finding it guards.
The food cards, the intake counter and lab replies have their own review tests next to their
tools (test_intake.py, test_foodlist.py, test_labs.py); the content check's publisher and
wording rules are in test_content_review.py.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from bot.content.questionnaire import load_questionnaire
from bot.core.check import CheckEngine, QuestionView, Result, State, parse_typed_answer

CONTENT = Path(__file__).resolve().parents[1] / "content"
INTENTS = {
    intent["id"]: intent
    for path in sorted((CONTENT / "intents").glob("*.yaml"))
    for intent in yaml.safe_load(path.read_text(encoding="utf-8"))["intents"]
}
CHECK = CheckEngine(load_questionnaire(CONTENT))
QUESTIONS = {q.id: q for q in CHECK.spec.questions}
T0 = 1_750_000_000.0


def plain(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", "", html).split())


def answer(intent_id: str) -> str:
    """The answer as plain text, tags dropped and whitespace folded."""
    return plain(INTENTS[intent_id]["answer"]).replace("&amp;", "&")


def all_answers() -> str:
    return "\n".join(answer(i) for i in INTENTS)


def finish(profile: dict[str, tuple[str, ...]]) -> Result:
    """Answer the whole check: `profile` where given, otherwise nothing to report."""
    state = CHECK.start(T0)
    while isinstance(view := CHECK.step(state), QuestionView):
        ids = [o.id for o in view.question.options]
        default = next((c for c in ("no", "none", "neither", "under_51") if c in ids), ids[0])
        new = CHECK.answer(state, view.question.id, profile.get(view.question.id, (default,)))
        assert isinstance(new, State)
        state = new
    return CHECK.result(state)


# ---------------------------------------------------------------- unsafe or missing cautions


@pytest.mark.parametrize("intent_id", ["remedy_hydration", "cause_dehydration"])
def test_drinking_advice_warns_against_drinking_more_and_respects_fluid_limits(
    intent_id: str,
) -> None:
    text = answer(intent_id)
    assert "Don't drink more" in text and "confused" in text and "swollen" in text
    assert "limit fluids" in text and "dialysis" in text and "heart failure" in text
    assert "hew_butler_2015" in INTENTS[intent_id]["sources"]


def test_the_checks_drink_water_lines_carry_the_same_caution() -> None:
    dark_urine = QUESTIONS["rf_dark_urine"].option("yes")
    assert dark_urine is not None and dark_urine.urgent is not None
    assert "drink water" in plain(dark_urine.urgent)
    assert "don't drink more" in plain(dark_urine.urgent)
    advice = plain(CHECK.spec.signals["dehydration"].advice)
    assert "not more to drink" in advice and "limit fluids" in advice


def test_potassium_caution_names_kidney_disease_and_the_medicines_that_raise_potassium() -> None:
    text = answer("remedy_potassium")
    for needed in ("kidney disease", "ACE inhibitors", "ARBs", "potassium-sparing"):
        assert needed in text
    assert "kidney disease" in answer("remedy_magnesium")
    assert "kidney disease" in answer("remedies_compare")


def test_liver_is_flagged_for_pregnancy_wherever_the_answers_suggest_it() -> None:
    for intent_id, intent in INTENTS.items():
        text = answer(intent_id)
        if "liver:" in text.lower() or "beef liver" in text.lower():
            assert "pregnancy" in text, intent_id
            assert "nhs_pregnancy_foods_avoid" in intent["sources"], intent_id


def test_see_a_doctor_has_every_red_flag_row_of_facts_section_5() -> None:
    text = answer("see_a_doctor")
    assert "one calf or thigh is painful and swollen" in text
    assert "dark, tea- or cola-coloured urine after hard exercise or heat" in text
    assert "wound" in text and "tetanus" in text
    assert "quinine" in text and "bruising" in text
    sources = INTENTS["see_a_doctor"]["sources"]
    assert {"nhs_dvt", "cdc_niosh_rhabdo", "nhs_tetanus", "fda_quinine_2010"} <= set(sources)


@pytest.mark.parametrize("question_id", ["rf_wound", "rf_quinine"])
def test_the_checks_safety_questions_include_tetanus_and_quinine(question_id: str) -> None:
    question = QUESTIONS[question_id]
    assert question.section == "red_flags"
    yes = question.option("yes")
    assert yes is not None and yes.urgent
    result = finish({question_id: ("yes",)})
    assert result.level == "urgent"


def test_sudden_one_sided_weakness_says_call_the_emergency_number_first() -> None:
    yes = QUESTIONS["rf_one_side"].option("yes")
    assert yes is not None and yes.urgent is not None
    first = re.sub(r"<[^>]+>", "", yes.urgent).split(".")[0]
    assert first.startswith("Call 999") and "now" in first
    assert "see a doctor" not in yes.urgent.lower()


def test_nitrous_oxide_is_a_risk_factor_and_new_eyesight_trouble_a_sign() -> None:
    nitrous = QUESTIONS["nitrous"].option("yes")
    vision = QUESTIONS["vision"].option("yes")
    assert nitrous is not None and nitrous.b12 > 0 and "risk_factor" in nitrous.tags
    assert vision is not None and vision.b12 > 0 and "neuro_sign" in vision.tags
    # A sign together with a risk factor is the "soon" level (facts §5).
    assert finish({"nitrous": ("yes",), "vision": ("yes",)}).level == "b12_soon"


@pytest.mark.parametrize(("typed", "expected"), [("55", "age_51_74"), ("51", "age_51_74")])
def test_age_counts_from_51_when_food_b12_is_absorbed_less_well(typed: str, expected: str) -> None:
    assert parse_typed_answer(QUESTIONS["age"], typed) == (expected,)
    older = QUESTIONS["age"].option(expected)
    assert older is not None and older.b12 > 0 and "risk_factor" in older.tags
    assert "51" in (older.reason_for or "")


@pytest.mark.parametrize(
    "profile",
    [
        {"age": ("age_51_74",)},
        {"age": ("age_75",)},
        {"medicines": ("metformin",)},
        {"medicines": ("acid_reducer",)},
        {"conditions": ("gut_surgery",)},
    ],
)
def test_eating_meat_is_not_a_reason_against_b12_when_food_b12_is_poorly_absorbed(
    profile: dict[str, tuple[str, ...]],
) -> None:
    result = finish({"diet": ("meat_fish",), **profile})
    assert not any("meat or fish" in r for r in result.reasons_against)


def test_eating_meat_still_counts_against_b12_for_a_younger_person_with_no_risk() -> None:
    result = finish({"diet": ("meat_fish",)})
    assert any("meat or fish" in r for r in result.reasons_against)


# ---------------------------------------------------------------- errors


def test_the_per_meal_limit_is_the_intrinsic_factor_route_not_all_absorption() -> None:
    text = answer("daily_needs")
    assert "can only absorb" not in text
    assert "intrinsic factor" in text and "small share of a larger amount" in text


def test_the_magnesium_review_size_is_not_given_for_the_older_adult_finding() -> None:
    text = answer("remedy_magnesium")
    assert "review of 11 trials with 735 people found" not in text
    assert "11 trials, 735 people in all" in text and "3–5 trials" in text


def test_foods_with_the_most_b12_include_every_shellfish_facts_md_gives() -> None:
    text = answer("food_sources")
    for food in ("Mussels", "clams", "oysters", "crab", "haddock"):
        assert food in text


# ---------------------------------------------------------------- unsupported claims


@pytest.mark.parametrize(
    "claim",
    [
        "Only small reports describe spasms",
        "extra B12 is unlikely to help",
        "Protein building matters",
        "less oxygen reaches",
        "unlikely to fix typical night cramps",
        "a single case, a tiny study",
        "Not expected to help cramps from dehydration",
    ],
)
def test_unsupported_sentences_are_gone(claim: str) -> None:
    assert claim not in all_answers()


def test_remedies_compare_cites_the_reviews_and_trials_it_leans_on() -> None:
    sources = set(INTENTS["remedies_compare"]["sources"])
    assert {"aafp_nlc_2012", "aafp_nlc_2017", "hallegraeff_2012", "coppin_2005"} <= sources


def test_heavy_drinking_adds_nothing_to_the_b12_score_without_a_primary_source() -> None:
    yes = QUESTIONS["alcohol"].option("yes")
    assert yes is not None and yes.b12 == 0


def test_a_long_result_gives_way_in_food_ideas_and_other_causes_never_in_safety_notes() -> None:
    """Every box ticked, and a disclaimer padded until the result cannot fit: the food ideas,
    then the other causes, are dropped; the safety notes and the disclaimer stay."""
    spec = CHECK.spec
    padded = spec.result.model_copy(update={"disclaimer": spec.result.disclaimer + " x" * 300})
    engine = CheckEngine(replace(CHECK.content, spec=spec.model_copy(update={"result": padded})))
    profile = {
        qid: tuple(o.id for o in q.options if not o.exclusive and not o.show_if)
        if q.choice == "multi"
        else (max(q.options, key=lambda o: (o.b12, len(o.notes))).id,)
        for qid, q in QUESTIONS.items()
        if not qid.startswith("rf_")
    }
    profile |= {qid: ("unsure",) for qid in QUESTIONS if qid.startswith("rf_")}
    state = engine.start(T0)
    while isinstance(view := engine.step(state), QuestionView):
        new = engine.answer(state, view.question.id, profile[view.question.id])
        assert isinstance(new, State)
        state = new
    result = engine.result(state)
    text = plain(result.text)
    assert len(result.text) <= 4096
    assert "Food ideas" not in text and result.contributors
    for note in result.notes:
        if spec.notes[note].section != "tests":
            assert " ".join(plain(spec.notes[note].text).split()[:6]) in text
    assert plain(padded.disclaimer)[:40] in text
