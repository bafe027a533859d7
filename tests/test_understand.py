"""The learned intent model and what routes around it: domain evidence, bare topic words,
numbers that count food, recipes, the model cache."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from bot.cli.crossval import best_temperature, folds
from bot.content.model_cache import KEEP, ModelDirectory
from bot.core.engine import Engine
from bot.core.understand import match
from bot.core.understand.model import IntentModel, ModelParams, features, fingerprint

CONTENT = Path(__file__).resolve().parents[1] / "content"


def _examples(engine: Engine) -> list[tuple[list[str], str]]:
    return engine.matcher.examples


def test_training_is_deterministic(engine: Engine) -> None:
    examples = _examples(engine)[:300]
    a = IntentModel.train(examples)
    b = IntentModel.train(examples)
    assert a.to_bytes() == b.to_bytes()


def test_several_runs_average_their_weights(engine: Engine) -> None:
    """Session 15: the safety model is the mean of trainings from three seeds. Weights are
    linear in the logits, so the mean model's logits are the mean of the runs' (up to the
    int8 rounding), and the one model costs no more at run time than each of them."""
    examples = _examples(engine)[:300]
    runs = [IntentModel.train(examples, ModelParams(seed=k)) for k in (0, 1)]
    mean = IntentModel.train(examples, ModelParams(runs=2))
    assert mean.to_bytes() != runs[0].to_bytes()
    for found, _ in examples[:50]:
        expected = (runs[0].logits(found) + runs[1].logits(found)) / 2
        assert np.abs(mean.logits(found) - expected).max() < 0.05


def test_a_cached_model_answers_exactly_as_the_trained_one(engine: Engine) -> None:
    examples = _examples(engine)[:300]
    trained = IntentModel.train(examples)
    loaded = IntentModel.from_bytes(trained.to_bytes(), trained.params)
    for found, _ in examples[:50]:
        assert np.array_equal(trained.probabilities(found), loaded.probabilities(found))


def test_weights_are_int8_rows_each_with_its_scale(engine: Engine) -> None:
    """Session 9: int8 rows with a scale each (a quarter of float32's memory, and cheap to
    widen at run time, unlike float16). The run-time path, bias row included, answers as the
    rows scaled back to float32 would."""
    examples = _examples(engine)[:300]
    model = IntentModel.train(examples)
    assert model._weights.dtype == np.int8 and model._scale is not None
    exact = IntentModel(
        model.labels,
        model._vocabulary,
        model._idf,
        model._weights.astype(np.float32) * model._scale[:, None],
        model.params,
    )
    for found, _ in examples[:50]:
        assert np.abs(model.probabilities(found) - exact.probabilities(found)).max() < 1e-5


def test_the_fingerprint_changes_with_the_phrasings_the_reading_and_the_training() -> None:
    examples = [("leg cramps at night", "night_cramps"), ("hi", "greeting")]
    base = fingerprint(examples, ModelParams(), "speller v1")
    assert fingerprint(examples[:-1], ModelParams(), "speller v1") != base
    assert fingerprint(examples, ModelParams(), "speller v2") != base
    assert fingerprint(examples, ModelParams(epochs=9), "speller v1") != base
    assert fingerprint(examples, ModelParams(temperature=2.0), "speller v1") == base  # run time


def test_the_engine_trains_once_and_then_reads_the_cache(tmp_path: Path) -> None:
    store = ModelDirectory(tmp_path)
    match._TRAINED.clear()
    Engine.load(CONTENT, store=store)
    saved = sorted(tmp_path.glob("intent-*.npz"))
    assert len(saved) == 2  # the intent model and the safety layer's second opinion
    match._TRAINED.clear()
    before = [p.stat().st_ino for p in saved]
    engine = Engine.load(CONTENT, store=store)
    # Read, not retrained: a write replaces the file (a new inode); a read only touches it.
    assert [p.stat().st_ino for p in saved] == before
    assert engine.ask("does salmon have b12").food == "salmon"


def test_an_unwritable_cache_only_costs_the_training(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    match._TRAINED.clear()
    engine = Engine.load(CONTENT, store=ModelDirectory(blocker / "models"))
    assert engine.ask("why do i get leg cramps at night").intent == "night_cramps"


def test_probabilities_sum_to_one_and_rank_is_sorted(engine: Engine) -> None:
    analysis = engine.matcher.analyse(engine.normalise("is magnesium good for cramps"))
    ranked = engine.matcher.rank(analysis)
    assert ranked[0].intent == "remedy_magnesium"
    assert [s.score for s in ranked] == sorted((s.score for s in ranked), reverse=True)
    assert sum(s.score for s in ranked) == pytest.approx(100, abs=1.0)


def test_character_ngrams_carry_unseen_typos() -> None:
    found = features(("cramp",), ("crampz",), ModelParams())
    assert "c <cr" in found and "c amp" in found and "w cramp" in found


def test_a_typo_in_the_phrasings_is_not_learned_as_a_word() -> None:
    phrasings = {"a": ["leg cramps at night"] * 12 + ["crmps in my leg", "crmps again"]}
    vocabulary = match._vocabulary(phrasings)
    assert "cramps" in vocabulary
    assert "crmps" not in vocabulary


def test_folds_are_stratified_and_reproducible() -> None:
    labels = ["a"] * 10 + ["b"] * 5
    assert folds(labels, 5) == folds(labels, 5)
    assert sorted(f for f, label in zip(folds(labels, 5), labels, strict=True) if label == "b") == [
        0,
        1,
        2,
        3,
        4,
    ]


def test_temperature_search_prefers_the_honest_one() -> None:
    # Always right and very sure: the sharpest temperature wins.
    results = [("x", np.array([5.0, 0.0])), ("y", np.array([0.0, 5.0]))] * 10
    assert best_temperature(results, ("x", "y")) == 0.2
    # Right only 60% of the time: a softer temperature than 0.2.
    results = [("x", np.array([5.0, 0.0]))] * 6 + [("y", np.array([5.0, 0.0]))] * 4
    assert best_temperature(results, ("x", "y")) > 1.0


@pytest.mark.parametrize(
    "text", ["calf and b12", "b12 for my muscles?? or not", "cramp cramp cramp xyzzy"]
)
def test_a_message_about_the_domain_is_never_declined(engine: Engine, text: str) -> None:
    reply = engine.ask(text)
    out_of_scope = engine.content.intents["out_of_scope"].answer.strip()
    assert reply.text != out_of_scope
    assert reply.intent is not None or reply.suggestions


@pytest.mark.parametrize(
    "text",
    [
        "the b12 bus is late again",
        "magnesium ribbon burning experiment at school",
        "our flat is so cramped",
        "salmon recipe for dinner",
        "where can i buy tofu",
    ],
)
def test_domain_words_in_another_sense_get_no_answer(engine: Engine, text: str) -> None:
    assert engine.ask(text).intent is None


@pytest.mark.parametrize(("text", "intent"), [("b12", "topic_b12"), ("cramps", "topic_cramps")])
def test_bare_topic_words_get_an_overview_with_topic_buttons(
    engine: Engine, text: str, intent: str
) -> None:
    reply = engine.ask(text)
    assert reply.intent == intent
    assert len(reply.text) <= 400
    assert len(reply.buttons) >= 5


def test_a_counted_food_is_added_up_not_read_as_a_lab_value(engine: Engine) -> None:
    reply = engine.ask("how much b12 in 2 eggs")
    assert reply.intent == "intake"
    assert reply.details is not None
    items = reply.details["items"]
    assert [(i["food"], i["servings"]) for i in items] == [("eggs", 2.0)]  # type: ignore[index]


@pytest.mark.parametrize(
    "text",
    ["how many mcg of b12 does a toddler need, she's 2", "b12 for my 2 year old, how much a day"],
)
def test_an_age_or_a_dose_asked_about_is_not_a_lab_value(engine: Engine, text: str) -> None:
    """ "she's 2" once got "2 can't be a Serum B12 result"; it is a child's daily need."""
    assert engine.ask(text).intent == "daily_needs"


def test_a_had_count_of_one_food_is_a_meal(engine: Engine) -> None:
    """ "had 2 eggs b4 my shift": a count of a food, and nothing that asks — counted."""
    reply = engine.ask("had 2 eggs b4 my shift")
    assert reply.intent == "intake"
    assert [i["food"] for i in (reply.details or {})["items"]] == ["eggs"]  # type: ignore[index]


@pytest.mark.parametrize(
    ("text", "food"),
    [("how much b12 in salmon", "salmon"), ("does a banana contain b12", "banana")],
)
def test_a_question_about_one_food_still_gets_the_food_answer(
    engine: Engine, text: str, food: str
) -> None:
    assert engine.ask(text).food == food


@pytest.mark.parametrize(
    ("text", "food"),
    [("do mussels have b12", "mussels"), ("oysters b12?", "oysters"), ("b12 in crab", "crab")],
)
def test_the_shellfish_facts_gives_are_known(engine: Engine, text: str, food: str) -> None:
    assert engine.ask(text).food == food


def test_a_stored_lab_reading_still_reaches_the_lab_explainer(engine: Engine) -> None:
    assert engine.ask("my b12 is 180").intent == "lab_result"


def test_a_cached_model_is_readable_by_another_user(tmp_path: Path) -> None:
    """The image trains as root at build time; the bot runs as an unprivileged user."""
    ModelDirectory(tmp_path).put("k", b"model")
    assert (tmp_path / "intent-k.npz").stat().st_mode & 0o044 == 0o044


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "my mum is 78 and takes metformin, could that cause her calf cramps at night",
            {
                ("age", "78"),
                ("medicine", "metformin"),
                ("body_part", "calf"),
                ("time_of_day", "night"),
            },
        ),
        ("b12 level 300 pg/ml", {("test", "b12"), ("number", "300 pg")}),
        (
            "i take simvastatin and lanzoprazole",
            {("medicine", "statin"), ("medicine", "acid_reducer")},
        ),
        ("does salmon have b12", {("food", "salmon"), ("nutrient", "b12")}),
        ("is magnesum good for cramps", {("nutrient", "magnesium")}),
    ],
)
def test_entities_are_found_in_the_corrected_words(
    engine: Engine, text: str, expected: set[tuple[str, str]]
) -> None:
    found = {(e.kind, e.value) for e in engine.ask(text).entities}
    assert expected <= found


def test_an_ordinary_number_is_not_an_age(engine: Engine) -> None:
    assert not [e for e in engine.ask("my b12 is 180").entities if e.kind == "age"]


@pytest.mark.parametrize("text", ["chicken liver b12", "b12 in prawns"])
def test_a_food_without_a_figure_is_not_answered_with_another_food(
    engine: Engine, text: str
) -> None:
    reply = engine.ask(text)
    assert reply.food is None
    assert "don't have a checked" in reply.text
    assert engine.ask("does chicken have b12").food == "chicken"


@pytest.mark.parametrize(
    ("text", "food"),
    [
        ("someone told me nori is packed with b12, is that right", "nori"),
        ("my gran says liver fixes low b12, is she right", "beef_liver"),
    ],
)
def test_one_food_and_b12_named_is_a_question_about_that_food(
    engine: Engine, text: str, food: str
) -> None:
    """The model alone is unsure (fallback); a named food and B12 tip it to the food."""
    reply = engine.ask(text)
    assert (reply.intent, reply.food) == ("food_lookup", food)


def test_a_named_food_does_not_outweigh_a_sure_other_intent(engine: Engine) -> None:
    reply = engine.ask("i am vegetarian and eat eggs, am i at risk of low b12")
    assert reply.intent == "vegan_vegetarian"


def test_a_food_name_inside_a_condition_is_no_food(engine: Engine) -> None:
    for text in ("i have liver problems, is my b12 high", "does fatty liver affect b12"):
        analysis = engine.matcher.analyse(engine.normalise(text))
        assert analysis.foods == ()
        assert engine.ask(text).food is None
    assert engine.ask("calf liver b12").food == "beef_liver"  # "calf" the body part is inside


def test_a_habit_word_naming_one_food_is_no_ranking_request(engine: Engine) -> None:
    reply = engine.ask("i eat tuna most days, does it have b12")  # "most" … "eat"
    assert (reply.intent, reply.food) == ("food_lookup", "tuna")
    assert engine.ask("best foods for b12").intent == "food_sources"  # still a ranking


def test_a_measure_in_a_question_about_one_food_is_no_meal(engine: Engine) -> None:
    reply = engine.ask("is a glass of milk good for b12")
    assert (reply.intent, reply.food) == ("food_lookup", "milk")
    assert engine.ask("today I had a glass of milk").intent == "intake"  # a meal still


@pytest.mark.parametrize(
    ("text", "counted"),
    [("b12 in 3 sardines", [("sardines", 0.75)]), ("2 sardines", [("sardines", 0.5)])],
)
def test_a_food_named_with_a_count_is_added_up(
    engine: Engine, text: str, counted: list[tuple[str, float]]
) -> None:
    """Not a lab value of 3, not out of scope: a count of food for the intake counter."""
    reply = engine.ask(text)
    assert reply.intent == "intake"
    items = reply.details["items"]  # type: ignore[index]
    assert [(i["food"], i["servings"]) for i in items] == counted  # type: ignore[index]


@pytest.mark.parametrize(
    ("text", "food"), [("tofu", "tofu"), ("eggs", "eggs"), ("salmon?", "salmon")]
)
def test_a_food_named_alone_gets_its_card(engine: Engine, text: str, food: str) -> None:
    reply = engine.ask(text)
    assert (reply.intent, reply.food) == ("food_lookup", food)


@pytest.mark.parametrize(
    ("text", "food"),
    [
        ("does spirulina have b12", "spirulina"),  # facts §2 gives it a figure
        ("oyster mushrooms b12", "mushrooms"),  # not oysters
        ("cashew milk b12?", "plant_milk"),  # not cow's milk
        ("tunafish b12", "tuna"),
    ],
)
def test_food_names_people_use_are_known(engine: Engine, text: str, food: str) -> None:
    assert engine.ask(text).food == food


@pytest.mark.parametrize(
    "text", ["does vegan cheese have b12", "does breast milk have b12", "egg whites b12"]
)
def test_a_plant_or_other_version_of_a_food_is_not_that_food(engine: Engine, text: str) -> None:
    reply = engine.ask(text)
    assert reply.food is None
    assert "don't have a checked" in reply.text


@pytest.mark.parametrize(
    ("text", "food"),
    [("does spinah have b12", "spinach"), ("lver b12", "beef_liver"), ("do egs have b12", "eggs")],
)
def test_a_misspelt_food_is_read_as_the_closest_likeliest_word(
    engine: Engine, text: str, food: str
) -> None:
    """ "spinah" is one edit from "spinal" and from "spinach": the one keeping every typed
    letter wins; "lver" keeps them all in "liver" and "laver" alike: the commoner wins."""
    assert engine.ask(text).food == food


def test_the_cache_keeps_the_models_in_use(tmp_path: Path) -> None:
    store = ModelDirectory(tmp_path)
    for k in range(KEEP):
        store.put(f"k{k}", b"m")
        os.utime(tmp_path / f"intent-k{k}.npz", (1_000 + k, 1_000 + k))  # k0 the oldest
    assert store.get("k0") == b"m"  # in use: touched
    store.put("new", b"m")
    assert (tmp_path / "intent-k0.npz").exists()
    assert not (tmp_path / "intent-k1.npz").exists()


@pytest.mark.parametrize(
    ("text", "asked"),
    [
        ("ok different question, can stretching help night cramps", "can stretching help night cramp"),
        ("quick question b12 dose", "b12 dose"),
        ("hi there", "hi there"),  # nothing left but one word: kept whole
        ("different question", "different question"),
    ],
)  # fmt: skip
def test_an_opening_that_only_announces_a_question_is_not_matched(
    engine: Engine, text: str, asked: str
) -> None:
    assert engine.normalise.asked(engine.normalise(text)) == asked
