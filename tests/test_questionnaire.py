"""The B12 check: content validation, scoring profiles, typed answers, actions, properties."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.content.questionnaire import QuestionnaireError, check_questionnaire, load_questionnaire
from bot.core.check import (
    MAX_ACTION_BYTES,
    AskBack,
    CheckEngine,
    Ended,
    Outcome,
    QuestionView,
    Rejected,
    Rejection,
    Result,
    State,
    Status,
    parse_typed_answer,
    read_answer,
)

CONTENT = Path(__file__).resolve().parents[1] / "content"
T0 = 1_750_000_000.0
ENGINE = CheckEngine(load_questionnaire(CONTENT))
SPEC = ENGINE.spec
QUESTIONS = {q.id: q for q in SPEC.questions}
SLOW = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def default_answer(question_id: str) -> tuple[str, ...]:
    """ "No", "None of these" or the first option: a person with nothing to report."""
    ids = [o.id for o in QUESTIONS[question_id].options]
    for candidate in ("no", "none", "neither", "under_51", "meat_fish"):
        if candidate in ids:
            return (candidate,)
    return (ids[0],)


def run(profile: dict[str, tuple[str, ...]], *, fallback: str | None = None) -> State:
    """Answer every question the check asks, from `profile` or a default."""
    state = ENGINE.start(T0)
    for _ in range(len(SPEC.questions)):
        view = ENGINE.step(state)
        if not isinstance(view, QuestionView):
            return state
        qid = view.question.id
        given_ids = profile.get(qid) or ((fallback,) if fallback else default_answer(qid))
        new = ENGINE.answer(state, qid, given_ids, now=T0 + 60)
        assert isinstance(new, State), (qid, given_ids, new)
        state = new
    return state


def asked(state: State) -> list[str]:
    return [a.q for a in state.answers]


# ----------------------------------------------------------------------------- content


def test_content_loads_and_cross_references_resolve() -> None:
    ids = [q.id for q in SPEC.questions]
    assert len(ids) == len(set(ids))
    for index, question in enumerate(SPEC.questions):
        earlier = {q.id: q for q in SPEC.questions[:index]}
        conditions = [question.ask_if, *(o.show_if for o in question.options)]
        for cond in filter(None, conditions):
            for qid, option_ids in cond.references():
                assert qid in earlier
                assert all(earlier[qid].option(o) for o in option_ids)
        for option in question.options:
            assert set(option.signals) <= set(SPEC.signals)
            assert set(option.notes) <= set(SPEC.notes)
    assert not SPEC.levels[-1].when


def test_red_flags_come_first_and_any_yes_is_urgent() -> None:
    red = [q for q in SPEC.questions if any(o.urgent for o in q.options)]
    assert len(red) == 7
    assert list(SPEC.questions[: len(red)]) == red
    for question in red:
        assert question.option("yes").urgent


def test_every_scoring_rule_cites_a_known_source() -> None:
    known = set(ENGINE.content.source_titles)
    for question in SPEC.questions:
        for option in question.options:
            if option.b12 or option.signals or option.notes or option.urgent or option.tags:
                assert option.sources
    assert {sid for _, sid in SPEC.all_sources()} <= known


def _broken_copy(tmp_path: Path, edit) -> Path:
    shutil.copy(CONTENT / "sources.yaml", tmp_path / "sources.yaml")
    data = yaml.safe_load((CONTENT / "questionnaire.yaml").read_text(encoding="utf-8"))
    edit(data)
    (tmp_path / "questionnaire.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    return tmp_path


def _question(data: dict, qid: str) -> dict:
    return next(q for q in data["questions"] if q["id"] == qid)


def _option(data: dict, qid: str, oid: str) -> dict:
    return next(o for o in _question(data, qid)["options"] if o["id"] == oid)


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            lambda d: _option(d, "tingling", "yes").update(sources=["no_such_source"]),
            "unknown source 'no_such_source'",
        ),
        (lambda d: d["notes"]["metformin"].update(sources=["made_up"]), "unknown source 'made_up'"),
        (lambda d: _option(d, "tingling", "yes").update(sources=[]), "must cite `sources`"),
        (
            lambda d: _question(d, "fortified").update(
                ask_if={"question": "diet", "any_of": ["carnivore"]}
            ),
            "has no option 'carnivore'",
        ),
        (
            lambda d: _question(d, "fortified").update(
                ask_if={"question": "lifestyle", "any_of": ["none"]}
            ),
            "not an earlier question",
        ),
        (
            lambda d: _option(d, "when", "exercise").update(signals={"gravity": 2}),
            "unknown signal 'gravity'",
        ),
        (
            lambda d: _option(d, "where", "chest_arms_belly").update(notes=["nope"]),
            "unknown note 'nope'",
        ),
        (lambda d: d["levels"][0]["when"].append({"tags": ["ghost"]}), "tag 'ghost' is on no"),
        (lambda d: d["levels"].reverse(), "must have no `when`"),
        (lambda d: _question(d, "tongue").update(text="Sore <tongue>?"), "tag <tongue>"),
        (lambda d: _question(d, "tongue").update(text="Sore & red?"), "unescaped &"),
        (lambda d: d["ui"].update(progress="{n} of {all}"), "unknown placeholder {all}"),
        (lambda d: _question(d, "tongue").update(extra="field"), "Extra inputs"),
    ],
)
def test_broken_content_is_reported(tmp_path: Path, edit, expected: str) -> None:
    with pytest.raises(QuestionnaireError) as error:
        load_questionnaire(_broken_copy(tmp_path, edit))
    assert expected in str(error.value)


def test_check_reports_problems_without_raising(tmp_path: Path) -> None:
    def edit(d: dict) -> None:
        _option(d, "tingling", "yes").update(sources=["ghost_one"])
        _option(d, "tongue", "yes").update(sources=["ghost_two"])

    questionnaire, problems = check_questionnaire(_broken_copy(tmp_path, edit))
    assert questionnaire is None
    assert {p.message for p in problems} == {
        "unknown source 'ghost_one'",
        "unknown source 'ghost_two'",
    }
    assert all(p.file.endswith("questionnaire.yaml") for p in problems)
    assert check_questionnaire(CONTENT) == (ENGINE.content, [])


def test_every_action_fits_telegram() -> None:
    state = ENGINE.start(T0)
    for _ in range(len(SPEC.questions) + 1):
        reply = ENGINE.render(state)
        assert all(len(b.action.encode()) <= MAX_ACTION_BYTES for b in reply.buttons)
        assert len(reply.text) <= 4096
        view = ENGINE.step(state)
        if not isinstance(view, QuestionView):
            break
        state = ENGINE.answer(state, view.question.id, default_answer(view.question.id))


def test_longest_result_fits_one_message() -> None:
    """Every sign, every risk, every cause ticked: the result still fits 4096 characters."""

    def heaviest(qid: str) -> tuple[str, ...]:
        question = QUESTIONS[qid]
        if qid.startswith("rf_"):
            return ("unsure",)
        if question.choice == "multi":
            return tuple(o.id for o in question.options if not o.exclusive and not o.show_if)
        return (
            max(question.options, key=lambda o: (o.b12, len(o.notes), sum(o.signals.values()))).id,
        )

    state = run({qid: heaviest(qid) for qid in QUESTIONS})
    result = ENGINE.result(state)
    assert result.level == "b12_soon"
    assert len(result.text) <= 4096
    assert len(result.summary) <= 4096


# ----------------------------------------------------------------------------- profiles

PROFILES = {
    "vegan with tingling and tiredness": (
        {
            "diet": ("vegan",),
            "fortified": ("no",),
            "tingling": ("yes",),
            "tiredness": ("yes",),
            "when": ("night_rest",),
        },
        "b12_soon",
    ),
    "young runner after a long race in the heat": (
        {
            "age": ("under_51",),
            "diet": ("meat_fish",),
            "when": ("exercise",),
            "lifestyle": ("fluids_sweat", "hard_exercise"),
        },
        "other_likely",
    ),
    "67-year-old on metformin with numb feet": (
        {
            "age": ("age_51_74",),
            "tingling": ("yes",),
            "medicines": ("metformin",),
            "conditions": ("diabetes",),
        },
        "b12_soon",
    ),
    "night cramps and nothing else": ({"when": ("night_rest",)}, "other_likely"),
    "nothing to report": ({"when": ("any_time",)}, "no_clear"),
    "vegetarian taking B12, tired": (
        {
            "diet": ("vegetarian",),
            "fortified": ("yes",),
            "tiredness": ("yes",),
            "when": ("any_time",),
        },
        "no_clear",
    ),
}


@pytest.mark.parametrize("name", PROFILES)
def test_profiles(name: str) -> None:
    answers, level = PROFILES[name]
    state = run(answers)
    assert state.status == Status.finished
    result = ENGINE.result(state)
    assert result.level == level, (result.b12, result.tags, result.signals)
    assert "not a diagnosis" in result.text


def test_vegan_profile_explains_itself() -> None:
    result = ENGINE.result(run(PROFILES["vegan with tingling and tiredness"][0]))
    assert "Numbness or tingling in your hands or feet" in result.reasons_for
    assert any("supplement" in r for r in result.reasons_for)
    assert "Serum B12" in result.text and "MMA" in result.text and "Homocysteine" in result.text
    assert "Food ideas" in result.text and "some plant milks" in result.text


def test_runner_gets_other_causes_and_advice() -> None:
    result = ENGINE.result(run(PROFILES["young runner after a long race in the heat"][0]))
    assert set(result.contributors) >= {"dehydration", "overuse"}
    assert "No numbness or tingling" in result.reasons_against
    assert "Serum B12" not in result.text
    assert SPEC.signals["dehydration"].advice in result.text


def test_metformin_profile_reasons() -> None:
    result = ENGINE.result(run(PROFILES["67-year-old on metformin with numb feet"][0]))
    assert any("metformin" in r for r in result.reasons_for)
    assert SPEC.notes["metformin"].text in result.text


def test_not_sure_to_everything_is_possible_with_tests() -> None:
    state = run({}, fallback="unsure")
    result = ENGINE.result(state)
    assert result.level == "b12_possible"
    assert "Serum B12" in result.text and "MMA" in result.text
    assert SPEC.notes["red_flag_unsure"].text in result.text


@pytest.mark.parametrize("flag", [q.id for q in SPEC.questions if q.id.startswith("rf_")])
def test_any_red_flag_is_urgent_and_ends_the_check(flag: str) -> None:
    state = run({flag: ("yes",)})
    assert state.status == Status.urgent
    assert asked(state)[-1] == flag
    result = ENGINE.step(state)
    assert isinstance(result, Result) and result.level == "urgent"
    assert QUESTIONS[flag].option("yes").urgent in result.text
    reply = ENGINE.render(state)
    assert reply.kind == "urgent" and reply.buttons == ()
    assert isinstance(ENGINE.back(state), Rejected)
    assert ENGINE.handle_action(state, f"q:{state.token}:6:0", T0).outcome == Outcome.ended


def test_plant_pregnancy_only_for_plant_based_eaters() -> None:
    assert "plant_pregnancy" not in asked(run({"diet": ("meat_fish",)}))
    assert "fortified" not in asked(run({"diet": ("meat_fish",)}))
    vegan = run({"diet": ("vegan",), "fortified": ("no",)})
    assert {"fortified", "plant_pregnancy"} <= set(asked(vegan))


def test_pregnancy_is_not_asked_twice() -> None:
    state = ENGINE.start(T0)
    answers = {"diet": ("vegan",), "plant_pregnancy": ("pregnant",)}
    while (view := ENGINE.step(state)) and isinstance(view, QuestionView):
        if view.question.id == "lifestyle":
            assert "pregnant" not in {o.option.id for o in view.options}
            assert ENGINE.answer(state, "lifestyle", ("pregnant",)) == Rejected(Rejection.invalid)
            return
        state = ENGINE.answer(
            state,
            view.question.id,
            answers.get(view.question.id) or default_answer(view.question.id),
        )
    pytest.fail("lifestyle question not reached")


def test_progress_counts_only_reachable_questions() -> None:
    omnivore = run({"diet": ("meat_fish",)})
    assert len(omnivore.answers) == len(SPEC.questions) - 2
    first = ENGINE.step(ENGINE.start(T0))
    assert isinstance(first, QuestionView)
    assert first.number == 1 and first.total == len(SPEC.questions)
    state = ENGINE.start(T0)
    while (view := ENGINE.step(state)) and isinstance(view, QuestionView):
        if view.question.id == "age":
            assert view.total == len(SPEC.questions)
        if view.question.id == "medicines":
            assert view.total == len(SPEC.questions) - 2
        state = ENGINE.answer(state, view.question.id, default_answer(view.question.id))
    assert "Question 1 of" in ENGINE.render(ENGINE.start(T0)).text


def test_doctor_summary_lists_answers() -> None:
    state = run(PROFILES["67-year-old on metformin with numb feet"][0])
    summary = ENGINE.result(state).summary
    assert "Numbness or tingling in hands or feet: Yes" in summary
    assert "Metformin" in summary and "51 to 74" in summary and "Diabetes" in summary
    assert "1 calf" not in summary and "One leg painful" not in summary  # "no" red flags skipped
    transition = ENGINE.handle_action(state, f"q:{state.token}:r:sum", T0 + 120)
    assert transition.outcome == Outcome.summary and transition.new_message
    assert transition.reply.text == summary


# ----------------------------------------------------------------------------- typed answers

YES_NO = QUESTIONS["tingling"]


@pytest.mark.parametrize(
    ("question", "text", "expected"),
    [
        ("tingling", "yes", ("yes",)),
        ("tingling", "Y", ("yes",)),
        ("tingling", "Yeah!", ("yes",)),
        ("tingling", "yep", ("yes",)),
        ("tingling", "yes, in my toes", ("yes",)),
        ("tingling", "nah", ("no",)),
        ("tingling", "Nope.", ("no",)),
        ("tingling", "n", ("no",)),
        ("tingling", "not sure", ("unsure",)),
        ("tingling", "dunno", ("unsure",)),
        ("tingling", "IDK", ("unsure",)),
        ("tingling", "no idea", ("unsure",)),
        ("tingling", "not shure", ("unsure",)),
        ("tingling", "2", ("no",)),
        ("tingling", "7", None),
        ("tingling", "purple", None),
        ("tingling", "what foods have b12?", None),
        ("tingling", "", None),
        ("tingling", "   ", None),
        ("tingling", "²", ("no",)),
        ("tingling", "9" * 5000, None),
        ("tingling", "\U00010a40", None),
        ("diet", "vegetarain", ("vegetarian",)),
        ("diet", "Vegan", ("vegan",)),
        ("age", "67", ("age_51_74",)),
        ("age", "80", ("age_75",)),
        ("age", "34", ("under_51",)),
        ("age", "1", ("under_51",)),
        ("when", "at night", ("night_rest",)),
        ("medicines", "1, 5", ("metformin", "statin")),
        ("medicines", "1 5", ("metformin", "statin")),
        ("medicines", "metformin and statins", ("metformin", "statin")),
        ("medicines", "none", ("none",)),
        ("medicines", "no", ("none",)),
        ("medicines", "none, metformin", None),
        ("medicines", "metformin, purple", None),
        ("plant_pregnancy", "no", ("neither",)),
    ],
)
def test_parse_typed_answer(question: str, text: str, expected: tuple[str, ...] | None) -> None:
    assert parse_typed_answer(QUESTIONS[question], text) == expected


def test_typed_answers_and_commands_through_the_engine() -> None:
    state = ENGINE.start(T0)
    moved = ENGINE.handle_text(state, "nope", T0 + 1)
    assert moved is not None and moved.outcome == Outcome.question
    assert moved.state.current == SPEC.questions[1].id
    back = ENGINE.handle_text(moved.state, "back", T0 + 2)
    assert back is not None and back.state.current == SPEC.questions[0].id
    assert back.state.pending == ("no",)
    assert ENGINE.handle_text(back.state, "can dehydration cause cramps?", T0 + 3) is None
    button = ENGINE.continue_button(back.state)
    assert button is not None
    again = ENGINE.handle_action(back.state, button.action, T0 + 4)
    assert again.outcome == Outcome.question and again.state == back.state
    why = ENGINE.handle_text(back.state, "why?", T0 + 5)
    assert why is not None and QUESTIONS["rf_leg"].why in why.reply.text
    confirm = ENGINE.handle_text(back.state, "stop", T0 + 6)
    assert confirm is not None and confirm.outcome == Outcome.confirm
    stop = ENGINE.handle_text(confirm.state, "yes", T0 + 7)  # "Yes, stop": not a "yes" answer
    assert stop is not None and stop.outcome == Outcome.stopped and not stop.state.answers
    assert ENGINE.handle_text(stop.state, "yes", T0 + 7) is None
    hint = ENGINE.not_understood(back.state)
    assert hint is not None and "Not sure" in hint.text


# ----------------------------------------------------------------------------- natural answers

ASK = "ask back"

#: (question, what a person types, the options recorded — or ASK: a short question back and
#: nothing recorded; None: not an answer, so the engine answers it as a question)
NATURAL_ANSWERS: list[tuple[str, str, tuple[str, ...] | str | None]] = [
    ("tingling", "yess", ("yes",)),
    ("tingling", "yeah i do", ("yes",)),
    ("tingling", "Yes, sometimes in my feet", ("yes",)),
    ("tingling", "both", ("yes",)),
    ("tingling", "neither", ("no",)),
    ("tingling", "noooo", ("no",)),
    ("tingling", "kinda", ASK),
    ("tingling", "sort of", ASK),
    ("tingling", "sometimes in my toes", ASK),
    ("tingling", "a little", ASK),
    ("tingling", "kind of yes", ASK),
    ("tingling", "maybe", ("unsure",)),
    ("tingling", "idk", ("unsure",)),
    ("tingling", "i have no idea", ("unsure",)),
    ("tingling", "I'm not sure", ("unsure",)),
    ("tingling", "i do not know", ("unsure",)),
    ("tingling", "i have a question about salmon", None),
    ("tiredness", "sometimes", ASK),
    ("memory", "a bit", ASK),
    ("alcohol", "now and then", ASK),
    ("rf_leg", "kinda", ASK),
    ("rf_leg", "both legs", None),  # never "yes" to one painful, swollen leg
    ("rf_chest", "I don't think so", ("no",)),
    ("rf_chest", "no, only a bit short of breath going up the stairs", ("no",)),
    ("how_often", "a couple of times a week", ("weekly",)),
    ("how_often", "most nights", ("daily",)),
    ("how_often", "3 times a week", ("weekly",)),
    ("how_often", "five nights a week", ("daily",)),
    ("how_often", "sometimes", ("rarely",)),
    ("how_often", "once a month", ("rarely",)),
    ("when", "mostly after running", ("exercise",)),
    ("when", "when i walk", ("walking",)),
    ("when", "usually at night", ("night_rest",)),
    ("age", "I'm 78", ("age_75",)),
    ("age", "78 years old", ("age_75",)),
    ("age", "im in my 60s", ("age_51_74",)),
    ("age", "in my late 70s", ("age_75",)),
    ("age", "34", ("under_51",)),
    ("how_long", "maybe 5 minutes", ("medium",)),
    ("how_long", "a few seconds", ("short",)),
    ("how_long", "about 20 minutes", ("long",)),
    ("how_long", "two hours", ("long",)),
    ("where", "sometimes in my toes", ("calves_feet",)),
    ("where", "my calves and feet", ("calves_feet",)),
    ("where", "sort of", ASK),
    ("diet", "vegan mostly", ("vegan",)),
    ("diet", "I'm vegetarian", ("vegetarian",)),
    ("diet", "i eat meat", ("meat_fish",)),
    ("fortified", "no i dont", ("no",)),
    ("plant_pregnancy", "both", ("pregnant",)),
    ("plant_pregnancy", "neither", ("neither",)),
    ("medicines", "i take metformin and omeprazole", ("metformin", "acid_reducer")),
    ("medicines", "statins and water tablets", ("diuretic", "statin")),
    ("medicines", "neither", ("none",)),
    ("conditions", "i have diabetes and thyroid problems", ("diabetes", "thyroid")),
    ("lifestyle", "kinda", ASK),
    ("lifestyle", "can dehydration cause cramps?", None),
]


@pytest.mark.parametrize(("question", "text", "expected"), NATURAL_ANSWERS)
def test_natural_answers_map_to_the_nearest_option_or_ask_back(
    question: str, text: str, expected: tuple[str, ...] | str | None
) -> None:
    reading = read_answer(QUESTIONS[question], text, SPEC.typed)
    if expected == ASK:
        assert isinstance(reading, AskBack), reading
    else:
        assert reading == expected


def test_the_natural_answers_cover_the_check() -> None:
    assert len(NATURAL_ANSWERS) >= 40
    assert len({q for q, _, _ in NATURAL_ANSWERS}) >= 15


YES_NO_QUESTIONS = [q.id for q in SPEC.questions if {"yes", "no"} <= {o.id for o in q.options}]


@pytest.mark.parametrize("hedge", SPEC.typed.hedges)
def test_a_hedge_is_never_recorded_as_not_sure(hedge: str) -> None:
    """Only the unsure option's own words record "Not sure": a hedge said alone, or with
    something else, to any yes/no question is asked back."""
    unsure_words = set(SPEC.option_defaults["unsure"].synonyms)
    for qid in YES_NO_QUESTIONS:
        for text in (hedge, f"{hedge} in my feet", f"i get them {hedge}"):
            reading = read_answer(QUESTIONS[qid], text, SPEC.typed)
            if text in unsure_words:
                assert reading == ("unsure",)
            else:
                assert reading is AskBack.yes_no, (qid, text, reading)


def test_a_hedge_gets_a_short_question_back_and_nothing_is_recorded() -> None:
    state = run({}, fallback=None)
    state = ENGINE.start(T0)
    asked_back = ENGINE.handle_text(state, "kinda", T0 + 1)
    assert asked_back is not None and asked_back.state == state
    assert asked_back.reply.text.startswith(SPEC.ui.ask_yes_no)
    assert asked_back.reply.text.endswith(ENGINE.render(state).text)
    assert asked_back.reply.buttons == ENGINE.render(state).buttons
    assert "kinda" not in asked_back.reply.text and "kinda" not in asked_back.state.to_json()
    lifestyle = run_until("lifestyle")
    closest = ENGINE.handle_text(lifestyle, "sort of", T0 + 2)
    assert closest is not None and closest.state == lifestyle
    assert closest.reply.text.startswith(SPEC.ui.ask_closest)


def run_until(question_id: str, profile: dict[str, tuple[str, ...]] | None = None) -> State:
    """Answer from `profile` (else by default) until `question_id` is asked."""
    state = ENGINE.start(T0)
    while (view := ENGINE.step(state)) and isinstance(view, QuestionView):
        if view.question.id == question_id:
            return state
        qid = view.question.id
        state = ENGINE.answer(state, qid, (profile or {}).get(qid) or default_answer(qid))
        assert isinstance(state, State)
    raise AssertionError(f"{question_id} was not asked")


#: A 78-year-old vegetarian on metformin with tingling feet, answering only in words.
NATURAL_CHECK = {
    "rf_leg": "nope",
    "rf_chest": "no not really",
    "rf_one_side": "nah",
    "rf_dark_urine": "no never",
    "rf_heat": "nope",
    "rf_wound": "No.",
    "rf_quinine": "I don't think so",
    "where": "my calves and feet",
    "when": "mostly at night",
    "how_often": "a couple of times a week",
    "how_long": "maybe 5 minutes",
    "tingling": "yeah i do",
    "tiredness": "yess",
    "tongue": "neither",
    "memory": "not really",
    "balance": "nope",
    "vision": "no",
    "pale": "dont think so",
    "age": "I'm 78",
    "diet": "vegetarian mostly",
    "fortified": "no i dont",
    "medicines": "i take metformin and omeprazole",
    "conditions": "none of them",
    "nitrous": "never",
    "alcohol": "nah",
    "lifestyle": "none of these",
}


def test_a_whole_check_answered_only_in_natural_words() -> None:
    state = ENGINE.start(T0)
    hedge = ENGINE.handle_text(state, "sort of", T0)  # first a hedge: asked back
    assert hedge is not None and hedge.state == state
    while isinstance(view := ENGINE.step(state), QuestionView):
        step = ENGINE.handle_text(state, NATURAL_CHECK[view.question.id], T0 + 1)
        assert step is not None and step.state is not None, view.question.id
        assert len(step.state.answers) == len(state.answers) + 1, view.question.id
        state = step.state
    assert state.status == Status.finished
    answers = {a.q: a.o for a in state.answers}
    assert answers["where"] == ("calves_feet",) and answers["how_long"] == ("medium",)
    assert answers["how_often"] == ("weekly",) and answers["age"] == ("age_75",)
    assert answers["medicines"] == ("metformin", "acid_reducer")
    assert "plant_pregnancy" not in answers  # 78: the pregnancy question does not apply
    result = ENGINE.result(state)
    assert result.level == "b12_soon"
    assert "Milk, yogurt and cheese" in result.text


# ----------------------------------------------------------------------------- what applies


def test_pregnancy_questions_are_skipped_at_75_or_over() -> None:
    plant = {"diet": ("vegan",), "fortified": ("no",)}
    assert "plant_pregnancy" not in asked(run(plant | {"age": ("age_75",)}))
    assert "plant_pregnancy" in asked(run(plant | {"age": ("age_51_74",)}))
    for age, shown in (("age_75", False), ("age_51_74", True), ("unsure", True)):
        state = run_until("lifestyle", {"age": (age,)})
        view = ENGINE.step(state)
        assert isinstance(view, QuestionView)
        assert ("pregnant" in {o.option.id for o in view.options}) is shown, age


def _food(diet: str) -> str:
    result = ENGINE.result(run({"diet": (diet,), "fortified": ("no",), "tingling": ("yes",)}))
    assert result.level in {"b12_soon", "b12_possible"}
    return result.text


def test_food_ideas_for_a_vegetarian_differ_from_a_vegans() -> None:
    vegan, vegetarian = _food("vegan"), _food("vegetarian")
    assert "Plant foods have no B12 unless it is added" in vegan
    assert "Plant foods have no B12 unless it is added" not in vegetarian
    assert "Milk, yogurt and cheese give some B12" in vegetarian
    assert "eggs seems to be poorly absorbed" in vegetarian


def test_the_result_lists_every_reason() -> None:
    profile = {
        "tingling": ("yes",),
        "tiredness": ("yes",),
        "tongue": ("yes",),
        "memory": ("yes",),
        "balance": ("yes",),
        "vision": ("yes",),
        "pale": ("yes",),
        "age": ("age_51_74",),
        "medicines": ("metformin", "acid_reducer"),
    }
    result = ENGINE.result(run(profile))
    assert len(result.reasons_for) == 10
    for reason in result.reasons_for:
        assert reason in result.text
    assert "more" not in result.text.split(SPEC.result.reasons_for_title)[1].split("\n\n")[0]


def test_ticked_medicines_linked_with_cramps_are_named_in_the_other_causes() -> None:
    result = ENGINE.result(run({"medicines": ("statin", "diuretic"), "when": ("any_time",)}))
    assert "medication" in result.contributors
    medicines = {o.id: o.label for o in QUESTIONS["medicines"].options}
    labels = f"{medicines['diuretic']}; {medicines['statin']}"
    label = SPEC.signals["medication"].label
    line = next(line for line in result.text.splitlines() if label in line)
    assert line.endswith(SPEC.result.ticked.format(options=labels))
    assert "You ticked" not in ENGINE.result(run({"when": ("any_time",)})).text
    runner = ENGINE.result(run({"lifestyle": ("hard_exercise",), "when": ("exercise",)}))
    assert "overuse" in runner.contributors and "You ticked" not in runner.text  # not named


# ----------------------------------------------------------------------------- stop


def test_stop_asks_first_and_resume_goes_on() -> None:
    state = run_until("tingling")
    confirm = _tap(state, SPEC.ui.button_stop)
    assert confirm.outcome == Outcome.confirm and confirm.state.stopping
    assert confirm.reply.text == SPEC.ui.stop_confirm
    assert [b.label for b in confirm.reply.buttons] == [
        SPEC.ui.button_stop_yes,
        SPEC.ui.button_resume,
    ]
    assert ENGINE.restore(confirm.state.to_json()) == confirm.state  # survives a restart
    resumed = _tap(confirm.state, SPEC.ui.button_resume)
    assert resumed.outcome == Outcome.question and not resumed.state.stopping
    assert resumed.state.answers == state.answers
    assert resumed.reply == ENGINE.render(state)
    # Typed: "no" to "Stop the check?" resumes — it is not a "no" to the question.
    typed = ENGINE.handle_text(confirm.state, "no", T0 + 1)
    assert typed is not None and typed.state.answers == state.answers
    assert typed.state.current == "tingling" and not typed.state.stopping
    hint = ENGINE.not_understood(confirm.state)
    assert hint is not None and SPEC.ui.button_resume in hint.text
    # An answer tapped on the question meanwhile goes on as usual.
    answered = ENGINE.handle_action(confirm.state, f"q:{state.token}:{_at('tingling')}:0", T0)
    assert answered.state.answers[-1].o == ("yes",) and not answered.state.stopping
    stopped = ENGINE.handle_text(confirm.state, "yes", T0 + 2)
    assert stopped is not None and stopped.outcome == Outcome.stopped
    assert stopped.state.answers == state.answers


def _at(question_id: str) -> int:
    return [q.id for q in SPEC.questions].index(question_id)


# ----------------------------------------------------------------------------- actions


def _tap(state: State, label: str, now: float = T0 + 10):
    reply = ENGINE.render(state)
    button = next(b for b in reply.buttons if b.label.endswith(label))
    return ENGINE.handle_action(state, button.action, now)


def test_buttons_drive_a_whole_check() -> None:
    state = ENGINE.start(T0)
    for _ in range(len(SPEC.questions) * 3):
        view = ENGINE.step(state)
        if not isinstance(view, QuestionView):
            break
        if view.question.choice == "multi":
            state = _tap(state, "None of these").state
            state = _tap(state, SPEC.ui.button_done).state
        else:
            state = _tap(state, ENGINE.render(state).buttons[1].label).state
    assert state.status == Status.finished
    reply = ENGINE.render(state)
    assert [b.label for b in reply.buttons] == [SPEC.ui.button_summary, SPEC.ui.button_back]


def test_multi_choice_toggles_and_done() -> None:
    state = run({}, fallback=None)
    state = ENGINE.back(state)
    while state.current != "medicines":
        state = ENGINE.back(state)
    assert state.pending == ("none",)
    ticked = _tap(state, "Metformin").state
    assert ticked.pending == ("metformin",)  # ticking a real option clears "None of these"
    ticked = _tap(ticked, "Statins (for cholesterol)").state
    assert ticked.pending == ("metformin", "statin")
    assert "✓ Metformin" in [b.label for b in ENGINE.render(ticked).buttons]
    untick = _tap(ticked, "✓ Statins (for cholesterol)").state
    assert untick.pending == ("metformin",)
    empty = _tap(_tap(untick, "✓ Metformin").state, SPEC.ui.button_done)
    assert empty.notice == SPEC.ui.empty_choice_notice and empty.state.current == "medicines"
    done = _tap(ticked, SPEC.ui.button_done)
    assert done.state.answers[-1].o == ("metformin", "statin") and done.state.current != "medicines"


def test_stale_forged_and_ended_actions() -> None:
    state = ENGINE.start(T0)
    first_button = ENGINE.render(state).buttons[1].action
    moved = ENGINE.handle_action(state, first_button, T0 + 1)
    stale = ENGINE.handle_action(moved.state, first_button, T0 + 2)
    assert stale.outcome == Outcome.stale and stale.state == moved.state
    assert stale.notice == SPEC.ui.stale_notice
    other_check = ENGINE.handle_action(ENGINE.start(T0 + 500), first_button, T0 + 3)
    assert other_check.outcome == Outcome.ended and other_check.reply.text == SPEC.ui.ended
    assert other_check.state == ENGINE.start(T0 + 500)  # the newer check is left alone
    assert ENGINE.handle_action(None, first_button, T0).outcome == Outcome.ended
    for forged in [
        "",
        "q:",
        "q:back",
        f"q:{state.token}:99:0",
        f"q:{state.token}:1:9",
        f"q:{state.token}:1:t0",
        f"q:{state.token}:1:rm",
        "i:cause_dehydration",
        f"q:{state.token}:r:sum",
        None,
        42,
        "q:" + "a" * 100,
    ]:
        result = ENGINE.handle_action(moved.state, forged, T0 + 4)
        assert result.outcome in {Outcome.invalid, Outcome.stale, Outcome.ended}
        assert result.state == moved.state
    confirm = ENGINE.handle_action(moved.state, ENGINE.render(moved.state).buttons[-1].action, T0)
    assert confirm.outcome == Outcome.confirm and confirm.state.status == Status.active
    stopped = _tap(confirm.state, SPEC.ui.button_stop_yes)
    assert stopped.outcome == Outcome.stopped and stopped.state.status == Status.stopped
    after = ENGINE.handle_action(stopped.state, first_button, T0 + 5)
    assert after.outcome == Outcome.ended and after.reply.text == SPEC.ui.ended
    assert ENGINE.restore(stopped.state.to_json()) == stopped.state


def test_idle_check_expires_after_24_hours() -> None:
    state = ENGINE.start(T0)
    button = ENGINE.render(state).buttons[1].action
    fresh = ENGINE.handle_action(state, button, T0 + 23 * 3600)
    assert fresh.outcome == Outcome.question
    idle = ENGINE.handle_action(
        fresh.state, ENGINE.render(fresh.state).buttons[1].action, T0 + 23 * 3600 + 24 * 3600
    )
    assert idle.outcome == Outcome.expired and idle.state.status == Status.expired
    assert "24 hours" in idle.reply.text
    later = ENGINE.handle_action(idle.state, button, T0 + 50 * 3600)
    assert later.outcome == Outcome.ended
    typed = ENGINE.handle_text(fresh.state, "yes", T0 + 60 * 3600)
    assert typed is not None and typed.outcome == Outcome.expired


def test_back_from_result_and_from_first_question() -> None:
    state = run({})
    back = ENGINE.handle_action(state, f"q:{state.token}:r:back", T0 + 100)
    assert back.outcome == Outcome.question
    assert back.state.current == state.answers[-1].q and back.state.pending == state.answers[-1].o
    first = ENGINE.start(T0)
    result = ENGINE.handle_action(first, f"q:{first.token}:0:back", T0)
    assert result.notice == SPEC.ui.first_question_notice and result.state == first


def test_restore_rejects_states_that_no_longer_fit() -> None:
    state = run({"diet": ("vegan",)})
    assert ENGINE.restore(state.to_json()) == state
    assert ENGINE.restore("not json") is None
    assert ENGINE.restore("{}") is None
    bogus = state.model_copy(update={"answers": (*state.answers[:3], *state.answers[4:])})
    assert ENGINE.restore(bogus.to_json()) is None
    assert State.from_json(b"\xff") is None


# ----------------------------------------------------------------------------- properties


def _random_choice(data: st.DataObject, view: QuestionView) -> tuple[str, ...]:
    options = [o.option for o in view.options]
    if view.question.choice == "single":
        return (data.draw(st.sampled_from(options)).id,)
    exclusive = [o for o in options if o.exclusive]
    if exclusive and data.draw(st.booleans()):
        return (data.draw(st.sampled_from(exclusive)).id,)
    combinable = [o.id for o in options if not o.exclusive]
    return tuple(data.draw(st.lists(st.sampled_from(combinable), min_size=1, unique=True)))


@SLOW
@given(st.data())
def test_every_answer_sequence_reaches_a_result(data: st.DataObject) -> None:
    state = ENGINE.start(data.draw(st.floats(0, 2e9)))
    for _ in range(len(SPEC.questions)):
        view = ENGINE.step(state)
        if not isinstance(view, QuestionView):
            break
        assert 1 <= view.number <= view.total <= len(SPEC.questions)
        state = ENGINE.answer(state, view.question.id, _random_choice(data, view))
        assert isinstance(state, State)
        assert State.from_json(state.to_json()) == state
        assert ENGINE.restore(state.to_json()) == state
        assert ENGINE.restore(json.loads(json.dumps(state.to_dict()))) == state
    view = ENGINE.step(state)
    assert isinstance(view, Result)
    assert json.loads(json.dumps(view.to_dict()))["level"] == view.level
    assert view.level in {level.id for level in SPEC.levels} | {"urgent"}
    assert len(view.text) <= 4096


@SLOW
@given(st.data())
def test_back_returns_to_the_previous_question_with_its_answer(data: st.DataObject) -> None:
    state = ENGINE.start(T0)
    for _ in range(data.draw(st.integers(1, len(SPEC.questions)))):
        view = ENGINE.step(state)
        if not isinstance(view, QuestionView):
            break
        previous = state
        state = ENGINE.answer(state, view.question.id, _random_choice(data, view), now=T0 + 1)
        if state.status == Status.urgent:
            assert isinstance(ENGINE.back(state), Rejected)
            return
        back = ENGINE.back(state)
        assert isinstance(back, State)
        assert back.current == previous.current == view.question.id
        assert back.answers == previous.answers
        assert back.pending == state.answers[-1].o
        marked = {b.label for b in ENGINE.render(back).buttons if b.label.startswith("✓ ")}
        labels = {SPEC.ui.selected_mark + view.question.option(i).label for i in back.pending}
        assert marked == labels
        assert State.from_json(back.to_json()) == back


_COMMANDS = st.sampled_from(
    ["ok", "back", "why", "stop", "sum", "go", "0", "1", "3", "9", "t0", "t2", "t9", "x", ""]
)


@SLOW
@given(
    st.data(),
    st.lists(
        st.one_of(
            st.text(max_size=50),
            st.tuples(
                st.sampled_from(["own", "other"]),
                st.sampled_from(["r", "0", "5", "19", "22", "23", "98", "-1", "x"]),
                _COMMANDS,
            ),
        ),
        max_size=25,
    ),
)
def test_random_and_forged_actions_never_raise(data: st.DataObject, actions: list) -> None:
    state: State | None = ENGINE.start(T0)
    now = T0
    for item in actions:
        now += data.draw(st.sampled_from([1, 60, 3600, 30 * 3600]))
        if isinstance(item, tuple):
            whose, where, command = item
            token = state.token if state is not None and whose == "own" else "zz9"
            action = f"q:{token}:{where}:{command}"
        else:
            action = item
        if data.draw(st.booleans()):
            transition = ENGINE.handle_action(state, action, now)
        else:
            transition = ENGINE.handle_text(state, action, now)
            if transition is None:
                continue
        assert isinstance(transition.outcome, Outcome)
        assert transition.reply.text
        state = transition.state
        if state is not None:
            assert State.from_json(state.to_json()) == state
            assert ENGINE.restore(state.to_json()) == state
            assert isinstance(ENGINE.step(state), QuestionView | Result | Ended)


def test_a_check_that_expires_while_asking_to_stop_restores_to_itself() -> None:
    """Found by the property test above: Stop asked ("Stop the check here?"), then 30 hours of
    silence; the expired state kept `stopping`, which a restored one never has."""
    state = ENGINE.start(T0)
    asked = ENGINE.handle_action(state, f"q:{state.token}:0:stop", T0 + 1)
    assert asked.state is not None and asked.state.stopping
    expired = ENGINE.handle_text(asked.state, "", T0 + 30 * 3600)
    assert expired is not None and expired.state is not None
    assert ENGINE.restore(expired.state.to_json()) == expired.state
