"""Follow-ups in context (issue 13): the dialogue sets, the rules' edges, storage and windows.

The dialogue files are run through `Engine.turn`, the path every window takes. All five are
development sets now: dialogues.yaml and dialogues_dev2.yaml were tuned on from the start;
dialogues_holdout.yaml and dialogues_holdout2.yaml were written by separate authors from the
list of follow-up kinds only and held out until their figures were reported, then tuned on for
the ambiguous follow-ups; dialogues_dev3.yaml was written with the ambiguity rules to probe
their edges; dialogues_holdout3.yaml was held out until its first run, then tuned on (see
FLOORS). The floors are the figures at the end of that work, so a change can only keep or
raise them.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from bot.cli.dialogue_eval import score_dialogues
from bot.content.conversation import check_conversation
from bot.core.conversation import Dialogue
from bot.core.engine import Engine
from bot.core.reply import Button, Reply, ReplyKind
from bot.core.turn import ChatState, Press, Text, Turns
from bot.storage.sqlite import SQLiteStorage

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
CONTENT = ROOT / "content"
T0 = 1_750_000_000.0

FLOORS = {  # file → lowest share of follow-ups answered in context, ambiguous ones answered
    "dialogues.yaml": (0.98, 4),  # 50/51 (51/51 before session 6's phrasings moved the model)
    "dialogues_dev2.yaml": (0.96, 5),  # 61/63; 0.952 before issue 13's ambiguity work
    "dialogues_dev3.yaml": (0.96, 7),  # 26/27, 7/8 ambiguous; 0.630 and 2/8 before
    "dialogues_holdout.yaml": (0.96, 4),  # 48/50; 0.800 first, 0.900, 0.940 before
    "dialogues_holdout2.yaml": (0.94, 4),  # 56/58, 4/5 ambiguous (55/58, 5/5 before session 7)
    # Held out until its first run (0.682, 0/6 ambiguous): that run printed its misses, so
    # it is a development set from now on, tuned on for bare follow-ups with two readings,
    # meal additions and verdicts, sub-questions.
    "dialogues_holdout3.yaml": (0.88, 3),  # 59/66, 4/6 (56/66 at session 6); 60/66, 3/6 in 10
    # Written in session 7 by another author from the kinds with the tools' ids; tuned on:
    # 0.776 first, 0.918 at the end; 0.908 after session 8's phrasings moved the model, 0.929
    # once a follow-up nothing reads got choices from the context.
    "dialogues_dev4.yaml": (0.92, 3),  # 92/98, 3/8 ambiguous in session 10
    # Written in session 8 by another author (10 of each kind); tuned on: 0.792 first.
    "dialogues_dev5.yaml": (0.91, 6),  # 112/125, 4/10 ambiguous; 114/125, 6/10 in session 9
    "dialogues_dev6.yaml": (0.94, 5),  # session 8; 0.867 first, 112/120, 113/120 in session 9
    # Written in session 9 by another author, 30 ambiguous and 9 of each other kind; tuned on:
    # 0.741 first (9/35 ambiguous), 120/143 = 0.839 (18/35) at the end.
    "dialogues_dev7.yaml": (0.86, 18),  # 120/143, 17/35 in session 10; 124/143, 18/35 in 12
    # Written in session 10 by another author (8 of each kind); tuned on: 0.873 first (89/102,
    # 6/11 ambiguous, list choices 5/9), 98/102 = 0.961, 8/11 at the end.
    "dialogues_dev8.yaml": (0.95, 8),
    # Written in session 12 by another author (8 of each kind); tuned on: 99/111 = 0.892 first
    # (10/16 ambiguous), 104/111 = 0.937 (11/16) after its round, 103/111 once phrasings equal
    # to held-out rows came out. Its folate result is no lab the bot reads (no sourced folate
    # cut-offs), so that verdict stays a miss.
    "dialogues_dev9.yaml": (0.92, 11),
    # Written in session 13 by another author (40 ambiguous follow-ups, 23 sub-questions);
    # tuned on: 110/138 = 0.797 first (23/40 ambiguous), 117/138 = 0.848 (24/40) at the end.
    "dialogues_dev10.yaml": (0.84, 24),
}
# Held out: committed unread, run only to report (their miss lines are not read). holdout6's
# author was not told the tools' ids, so its lab verdicts expect deficiency_testing.
HELD_OUT = {
    # 62/68, 4/6 ambiguous (0.897 midway in session 8); 64/68 in session 11, 63/68 and 3/6
    # after session 12's rounds (not looked into: it is held out); 65/68, 4/6 in session 13
    "dialogues_holdout4.yaml": (0.95, 4),
    "dialogues_holdout5.yaml": (0.97, 7),  # 78/80, 7/7 in 13 (77/80 in session 8, 75/80 in 7)
    # first run 66/94 = 0.702; 71/94, 76/94, 75/94 (2/8); 77/94 (3/8) in session 12
    "dialogues_holdout6.yaml": (0.81, 3),
    # first run, after the round: 76/91; 79/91 in session 8, 78/91 in 9, 80/91 (3/8) in 12,
    # 82/91 (3/8) in 13
    "dialogues_holdout7.yaml": (0.90, 3),
    # Session 8, committed unread: first run 92/103 = 0.893 (6/8 ambiguous); 95/103 at the end;
    # 97/103 (6/8) in session 12, 98/103 (5/8) in 13.
    "dialogues_holdout8.yaml": (0.95, 5),
    # Session 8, committed unread, first run midway: 89/100 (1/8 ambiguous); 90/100 at the end.
    # 90/100, 1/8 ambiguous in session 9; 89/100 in 10; 91/100 (2/8) in 13
    "dialogues_holdout9.yaml": (0.91, 2),
    # Session 10, committed unread: first run 80/97 = 0.825 (6/8 ambiguous); 85/97 at the end;
    # 88/97 in session 12, 89/97 (6/8) in 13.
    "dialogues_holdout10.yaml": (0.91, 6),
    # Session 11, committed unread: first run 95/104 = 0.913 (4/9 ambiguous); 94/104 = 0.904
    # (4/9) at the end of session 12.
    "dialogues_holdout11.yaml": (0.90, 4),
    # Session 13, committed unread: first run on the session-start layer 93/104 = 0.894 (13/16
    # ambiguous); 95/104 = 0.913 (14/16) at the end.
    "dialogues_holdout12.yaml": (0.91, 14),
}


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_follow_ups_are_answered_in_context(engine: Engine, name: str) -> None:
    scores = score_dialogues(engine, DATA / name)
    floor, ambiguous = FLOORS[name]
    assert scores.followups[1] >= 25
    assert scores.in_context >= floor, [m.dialogue for m in scores.misses]
    assert scores.per_kind["ambiguous"][0] >= ambiguous, [m.dialogue for m in scores.misses]


@pytest.mark.parametrize("name", sorted(HELD_OUT))
def test_held_out_dialogue_floors(engine: Engine, name: str) -> None:
    """Floors against regressions, never targets: their misses are not printed here."""
    scores = score_dialogues(engine, DATA / name)
    floor, ambiguous = HELD_OUT[name]
    # Figures only: a failing assertion must not print the held-out dialogues (pytest shows
    # the objects an assertion reads, and the scores hold the misses).
    figures = (scores.in_context, scores.followups, scores.per_kind["ambiguous"])
    del scores
    assert figures[0] >= floor, figures
    assert figures[2][0] >= ambiguous, figures


def test_every_kind_of_follow_up_is_in_the_sets() -> None:
    kinds = {
        d["kind"]
        for name in FLOORS
        for d in yaml.safe_load((DATA / name).read_text(encoding="utf-8"))["dialogues"]
    }
    assert kinds >= {
        "another_food", "another_remedy", "another_cause", "another_life_stage", "sub_question",
        "lab_verdict", "meal_verdict", "meal_add", "list_choice", "fresh_question", "ambiguous",
    }  # fmt: skip


def test_without_context_the_same_messages_do_much_worse(engine: Engine) -> None:
    """The measure can fail: the engine alone (no follow-ups) answers few of them."""
    followups, engine.followups = engine.followups, None
    try:
        alone = score_dialogues(engine, DATA / "dialogues.yaml")
    finally:
        engine.followups = followups
    assert alone.in_context < 0.6


def answer(engine: Engine, dialogue: Dialogue | None, message: str, now: float) -> Reply:
    """The reply to one message of a chat whose dialogue so far is `dialogue`."""
    reply = Turns(engine, None).turn(ChatState(dialogue), Text(message), now).answer
    assert reply is not None
    return reply


def talk(engine: Engine, *messages: str, gap: float = 30.0) -> list:
    turns, state, replies, now = Turns(engine, None), ChatState(), [], T0
    for message in messages:
        taken = turns.turn(state, Text(message), now)
        state = taken.state
        replies.append(taken.answer)
        now += gap
    return replies


@pytest.mark.parametrize(
    ("first", "follow_up", "intent", "heading"),
    [
        # session 7: sections for the medical answers that had none
        ("what causes cramps", "what can i do about it", "remedies_compare", None),
        ("does b12 help period cramps", "what helps then", "period_cramps", "What usually helps"),
        ("who is at risk of low b12", "what should i do", "deficiency_testing", None),
        ("can a pinched nerve cause cramps", "do i need a doctor for it", "cause_nerve_compression",
         "See a doctor right away"),
        # session 10: when to see a doctor about B12 signs is their own paragraph, not the
        # red flags of cramps; "see the gp" is that sub-question
        ("signs of low b12", "when should she see the gp about it", "deficiency_symptoms", None),
        ("why do i get leg cramps at night", "when i should go to doctor for this",
         "night_cramps", None),
    ],
)  # fmt: skip
def test_a_sub_question_gets_its_section_of_the_answer(
    engine: Engine, first: str, follow_up: str, intent: str, heading: str | None
) -> None:
    reply = talk(engine, first, follow_up)[1]
    assert reply.intent == intent
    whole = engine.answer_intent(intent, 100.0)
    if heading is not None:  # that part alone, the whole answer behind More
        assert f"<b>{heading}</b>" in reply.text and reply.text != whole.text


def test_a_sub_question_naming_nothing_stays_with_the_topic(engine: Engine) -> None:
    """ "how much shud i take a day" alone is unsurely daily B12 needs; after magnesium it asks
    how much magnesium (dialogues_holdout2, session 7)."""
    reply = talk(engine, "does magnesium help with cramps", "how much shud i take a day")[1]
    assert reply.intent == "remedy_magnesium" and (reply.details or {}).get("section") == "how_much"


@pytest.mark.parametrize(
    ("first", "verdict"),
    [
        ("my level was 210 ng/l, the nurse said borderline?", "so am i deficient or not"),
        ("b12 test: 650 pg/mL", "normal right?"),
    ],
)
def test_a_verdict_on_a_reading_told_by_its_unit(engine: Engine, first: str, verdict: str) -> None:
    replies = talk(engine, first, verdict)
    assert [r.intent for r in replies] == ["lab_result", "lab_result"]


def test_a_unit_typed_after_the_bot_asked_for_it_completes_the_reading(engine: Engine) -> None:
    """ "my b12 is 240" gets unit buttons; typing "pg/ml i think" is the same as tapping one."""
    asked, reading = talk(engine, "my b12 is 240", "pg/ml i think")
    assert (asked.details or {}).get("status") == "needs_unit"
    details = reading.details or {}
    assert (details.get("value"), details.get("unit"), details.get("status")) == (
        240.0,
        "pg",
        "placed",
    )


def test_another_food_after_a_food_card(engine: Engine) -> None:
    _, reply = talk(engine, "does salmon have b12", "and yoghurt?")
    assert (reply.intent, reply.food) == ("food_lookup", "yogurt")


def test_a_new_life_stage_gets_that_stages_amount(engine: Engine) -> None:
    _, reply = talk(engine, "how much b12 do i need a day", "for a 10 year old?")
    assert reply.intent == "daily_needs" and (reply.details or {})["life_stage"] == "child_9_13"
    assert "1.8 mcg" in reply.text


def test_a_meal_follow_up_adds_to_the_running_total(engine: Engine) -> None:
    first, second = talk(engine, "i had 2 eggs and a glass of milk", "and a tin of tuna")
    foods = [i["food"] for i in (second.details or {})["items"]]
    assert foods == ["eggs", "milk", "tuna"]
    assert (second.details or {})["total_mcg"] > (first.details or {})["total_mcg"]


def test_a_verdict_on_the_last_lab_number(engine: Engine) -> None:
    first, second = talk(engine, "my b12 came back at 210 pg/ml", "so is it low?")
    assert second.intent == "lab_result" and second.text == first.text


def test_a_sub_question_gets_that_section_of_the_topic(engine: Engine) -> None:
    _, reply = talk(engine, "will b12 pills stop my cramps", "are they safe?")
    assert reply.intent == "supplement_safety" and (reply.details or {})["section"] == "safety"
    assert "<b>Safety</b>" in reply.text
    assert len(reply.text) < len(engine.content.intents["supplement_safety"].answer)


def test_a_message_about_two_things_then_a_sub_question_asks_which(engine: Engine) -> None:
    _, reply = talk(engine, "magnesium or potassium, which is better for cramps", "side effects?")
    assert reply.kind is ReplyKind.fallback
    actions = {b.action for b in reply.buttons}
    assert {"i:remedy_magnesium", "i:remedy_potassium"} <= actions


def which(reply: Reply) -> set[str]:
    """The choices of a "which one do you mean?" reply: the engine's own did-you-mean kind,
    its buttons but "None of these", which comes last."""
    assert reply.kind is ReplyKind.fallback and reply.buttons[-1].action == "none"
    actions = [b.action for b in reply.buttons[:-1]]
    assert len(actions) == len(set(actions)), actions
    return set(actions)


def test_a_follow_up_pointing_at_one_of_two_things_asks_which(engine: Engine) -> None:
    """ "would magnesium help?" after two kinds of cramps: which one is it about?"""
    _, reply = talk(
        engine, "my calves cramp at night and i get period cramps too", "would magnesium help?"
    )
    assert {"i:night_cramps", "i:period_cramps", "i:remedy_magnesium"} <= which(reply)


@pytest.mark.xfail(
    strict=True,
    reason="session 6: the phrasings written from dev3.jsonl moved the intent model here; open, see the closing note",
)
def test_the_parts_of_a_message_are_the_things_it_was_about(engine: Engine) -> None:
    """Each part joined by "or" is read alone: two causes, though the model saw one."""
    first, second = talk(
        engine, "is it dehydration or low magnesium thats giving me cramps", "how do i fix that"
    )
    assert first.intent == "cause_electrolytes"
    assert {"i:cause_dehydration", "i:cause_electrolytes"} <= which(second)


def test_it_after_two_foods_asks_which_each_food_once(engine: Engine) -> None:
    for follow_up in ("is it a good source?", "how much"):
        _, reply = talk(engine, "do clams and eggs have b12", follow_up)
        assert {"f:clams", "f:eggs"} <= which(reply), follow_up


def test_after_asking_which_the_context_is_still_the_two_things(engine: Engine) -> None:
    _, _, again = talk(
        engine, "do clams and eggs have b12", "is it a good source?", "and how much is in it"
    )
    assert {"f:clams", "f:eggs"} <= which(again)


def test_the_same_follow_ups_after_one_thing_are_answered(engine: Engine) -> None:
    _, reply = talk(engine, "i get leg cramps at night", "would magnesium help?")
    assert reply.intent == "remedy_magnesium"
    _, reply = talk(engine, "do clams have b12", "is it a good source?")
    assert reply.food == "clams"
    _, reply = talk(engine, "does stretching help with cramps", "does it actually work?")
    assert reply.intent == "remedy_stretching" and reply.more is None  # the whole answer


@pytest.mark.parametrize(
    ("first", "second", "choices"),
    [
        # the last question of it (can low magnesium cause cramps?) or its own (magnesium)
        ("can low b12 cause cramps", "and magnesium?", {"i:cause_electrolytes", "i:remedy_magnesium"}),
        # only when: stretching at night, or night cramps
        ("is stretching good for cramps", "and at night?", {"i:night_cramps", "i:remedy_stretching"}),
    ],
)  # fmt: skip
def test_a_bare_follow_up_with_two_readings_asks_which(
    engine: Engine, first: str, second: str, choices: set[str]
) -> None:
    _, reply = talk(engine, first, second)
    assert choices <= which(reply)


def test_a_bare_follow_up_the_last_question_does_not_fit_asks_which(engine: Engine) -> None:
    """ "can potassium cause cramps" is read as potassium for cramps, not a cause: so "and
    potassium?" after the causes is that, or the causes (or low minerals, their nearest)."""
    _, reply = talk(engine, "what causes leg cramps", "and potassium?")
    choices = which(reply)
    assert "i:remedy_potassium" in choices
    assert choices & {"i:causes_overview", "i:cause_electrolytes"}


@pytest.mark.parametrize(
    ("first", "second", "intent", "food"),
    [
        ("does salmon have b12", "and a banana?", "food_lookup", "banana"),  # another food
        ("does magnesium help with cramps", "ok and potassium?", "remedy_potassium", None),
        ("does potassium help cramps", "and water?", "remedy_hydration", None),  # no own topic
        ("is b12 safe to take", "and magnesium?", "remedy_magnesium", None),  # no family: its own
        # "at the gym" says when, but "overdoing it" says what: another cause
        ("can dehydration cause cramps", "and overdoing it at the gym", "cause_overuse", None),
    ],
)  # fmt: skip
def test_a_bare_follow_up_with_one_reading_is_answered(
    engine: Engine, first: str, second: str, intent: str, food: str | None
) -> None:
    _, reply = talk(engine, first, second)
    assert (reply.kind, reply.intent, reply.food) != (ReplyKind.fallback, None, None)
    assert (reply.intent, reply.food) == (intent, food)


def test_one_unsure_part_is_not_a_second_thing(engine: Engine) -> None:
    """ "injections or tablets for b12, which is better?": "injections" alone is not answered
    and the rest only unsurely, so the message is about what it was answered with."""
    first, reply = talk(
        engine,
        "injections or tablets for b12, which is better? my husband was told he needs it",
        "how often would he need the jabs",
    )
    assert first.intent == "supplement_safety"
    assert reply.intent == "supplement_safety" and reply.kind is ReplyKind.answer


def test_a_longer_sub_question_that_points_back_is_about_the_topic(engine: Engine) -> None:
    """ "is it safe to take high doses of it long term" is B12 supplements' safety alone, and
    long; its "of it" makes it a sub-question of the last topic all the same."""
    for follow_up in (
        "is it safe to take a lot of it",
        "is it safe to take high doses of it long term",
    ):
        _, reply = talk(engine, "potassium for cramps, does it work", follow_up)
        assert reply.intent == "remedy_potassium", follow_up
        assert (reply.details or {})["section"] == "safety", follow_up


def test_a_section_can_be_the_paragraph_that_says_it(engine: Engine) -> None:
    """The signs of low B12 have no headings: "what should i do" gets the paragraph that says."""
    _, reply = talk(
        engine, "what are the signs of b12 deficiency", "ok so what should i do about it"
    )
    assert (
        reply.intent == "deficiency_symptoms" and (reply.details or {})["section"] == "what_to_do"
    )
    assert "see a doctor soon" in reply.text and "Pins and needles" not in reply.text


def test_the_next_meal_of_the_day_adds_to_the_running_total(engine: Engine) -> None:
    """ "lunch a ham sandwich" alone is a food card; after a meal it is more of the day."""
    *_, reply = talk(
        engine, "breakfast was greek yoghurt", "lunch a ham sandwich", "and salmon for tea"
    )
    assert [i["food"] for i in (reply.details or {})["items"]] == ["yogurt", "ham", "salmon"]


@pytest.mark.parametrize(
    ("first", "second", "intent"),
    [
        ("had 2 eggs and a glass of milk", "enough?", "intake"),
        ("dinner was a salmon fillet with spinach", "so have i hit my daily amount", "intake"),
        # no verdict cue, but alone it asks the day's need: the meal's count shows it
        ("had 2 eggs and a glass of milk", "and how much do i need a day", "intake"),
        ("my mums b12 is 150 ng/l", "should she worry", "lab_result"),
        ("my b12 came back at 210 pg/ml", "so i'm fine then?", "lab_result"),
    ],
)  # fmt: skip
def test_a_verdict_in_few_words_shows_the_meal_or_reading_again(
    engine: Engine, first: str, second: str, intent: str
) -> None:
    _, reply = talk(engine, first, second)
    assert reply.intent == intent


def test_a_verdict_before_the_unit_is_known_asks_for_the_unit_again(engine: Engine) -> None:
    """ "b12 650" gets unit buttons; "good or bad?" cannot be answered without one, so the
    question comes back with its buttons — and a unit typed then completes the reading."""
    asked, again, reading = talk(engine, "blood test says b12 650", "good or bad?", "pg/ml")
    assert (again.details or {}).get("status") == "needs_unit"
    assert again.text == asked.text and again.buttons == asked.buttons
    assert (reading.details or {}).get("status") == "placed"


@pytest.mark.parametrize("verdict", ["low?", "bad?", "concerning?"])
def test_a_verdict_of_one_word_after_a_reading(engine: Engine, verdict: str) -> None:
    first, second = talk(engine, "my b12 came back at 180 ng/l", verdict)
    assert second.intent == "lab_result" and second.text == first.text


@pytest.mark.parametrize(
    "first",
    [
        "mum had cheese on toast for lunch, how much b12 is that",
        "how much b12 in my breakfast, porridge made with milk",
        "count b12 for a bowl of fortified cereal",
        "ham and eggs for brunch, how much b12",
    ],
)
def test_a_question_about_what_was_just_listed_counts_it_as_a_meal(
    engine: Engine, first: str
) -> None:
    meal, added = talk(engine, first, "and a banana")
    assert meal.intent == "intake" and added.intent == "intake"
    foods = [i["food"] for i in (added.details or {})["items"]]
    assert foods[-1] == "banana" and len(foods) >= 2


def test_thanks_after_an_answer_is_thanks_not_a_follow_up(engine: Engine) -> None:
    _, reply = talk(engine, "does stretching help cramps", "ta")
    assert reply.intent == "thanks"
    *_, stage = talk(engine, "how much b12 per day for adults", "cheers", "and for a 10 year old?")
    assert (stage.details or {}).get("life_stage") == "child_9_13"


@pytest.mark.parametrize(
    ("first", "second", "intent"),
    [
        (
            "can my mums medication be causing her cramps? she's on metformin",
            "could it be her thyroid instead",
            "cause_medical_conditions",
        ),
        ("does kidney failure cause cramps? his dad is on dialysis", "could his meds be doing it too",
         "cause_medications"),
        # two things in context (low potassium: a cause and a remedy), and the message alone a
        # sure answer of the cause family with "too": another cause, not which of the two
        ("low potassium cramps?", "can meds do it too", "cause_medications"),
    ],
)  # fmt: skip
def test_another_cause_that_points_back_is_answered_as_that_cause(
    engine: Engine, first: str, second: str, intent: str
) -> None:
    """Its "it" is the cramps: another of the family ("instead", "too"), not which one of the
    last message's things, nor the last answer again."""
    _, reply = talk(engine, first, second)
    assert reply.intent == intent


def test_a_life_stage_that_points_back_is_read_in_context(engine: Engine) -> None:
    """Nine words, answered alone with confidence as something else, but it says an age and
    points back ("for her"): the need at that age."""
    _, reply = talk(
        engine, "whats the daily amount of b12 for an adult", "my mum is 80 is it different for her"
    )
    assert (reply.details or {}).get("life_stage") == "adult_51"


def test_a_part_of_only_filler_is_no_second_thing(engine: Engine) -> None:
    """ "…tablets or injections or what": "what" alone is no thing the message was about, so
    "any side effects?" is the supplements' side effects, not "which one?"."""
    _, reply = talk(
        engine, "what kinds of b12 supplements are there, tablets or injections or what",
        "any side effects?",
    )  # fmt: skip
    assert reply.intent == "supplement_safety"
    assert (reply.details or {}).get("section") == "side_effects"


def test_a_follow_up_nothing_reads_gets_choices_from_the_context(engine: Engine) -> None:
    """ "what should i take" after "im vegan and i get cramps" alone gets "I didn't get that"
    with no guess; in context, buttons for what the last message was about. Junk does not."""
    _, reply = talk(engine, "im vegan and i get cramps", "what should i take")
    assert reply.kind is ReplyKind.fallback and reply.suggestions
    _, junk = talk(engine, "does salmon have b12", "asdfgh")
    assert not junk.suggestions


def test_a_message_surely_outside_the_bot_is_no_sub_question(engine: Engine) -> None:
    """ "what's the weather tomorrow" holds "what's", a sub-question's cue, but after salmon it
    is not what a word of the salmon card means: the out-of-scope reply, as alone."""
    _, reply = talk(engine, "does salmon have b12", "what's the weather tomorrow")
    assert reply.intent is None and not reply.suggestions
    assert shape(reply) == shape(engine.ask("what's the weather tomorrow"))


def test_an_age_after_at_is_a_life_stage(engine: Engine) -> None:
    _, reply = talk(engine, "b12 per day for a 10 year old", "and at 16?")
    assert (reply.details or {}).get("life_stage") == "teen_14_18"


def test_a_verdict_word_in_a_question_of_its_own_is_not_a_verdict(engine: Engine) -> None:
    _, reply = talk(engine, "my b12 is 250 pg/ml", "is b12 from food enough or do i need pills")
    assert reply.intent != "lab_result"


def test_an_age_said_plainly_is_a_life_stage(engine: Engine) -> None:
    _, reply = talk(engine, "b12 daily amount for a 15 yr old girl?", "and her sister is 11")
    assert (reply.details or {}).get("life_stage") == "child_9_13"
    _, lab = talk(engine, "how much b12 do i need a day", "my b12 is 90")
    assert lab.intent == "lab_result"  # a reading, not a 90-year-old


def test_a_sub_question_after_a_meal_or_lab_number_is_about_it(engine: Engine) -> None:
    _, meal = talk(engine, "had 2 eggs and a slice of cheese today", "how much b12 is that")
    assert meal.intent == "intake" and {i["food"] for i in (meal.details or {})["items"]} == {
        "eggs",
        "cheese",
    }
    first, lab = talk(engine, "my b12 came back at 190 pg/ml", "what does that mean")
    assert lab.intent == "lab_result" and lab.text == first.text


@pytest.mark.parametrize(
    ("first", "second", "intent"),
    [
        # names a thing of the kind the last message named: the same question of it
        ("does magnesium help with cramps at night and after running",
         "would potassium help with that", "remedy_potassium"),
        # one more of the same family as both things ("that" = what they do)
        ("magnesium or potassium for cramps", "could quinine do that too", "quinine"),
        # "help" asks about a problem: after a food and a remedy it is a question of its own
        ("does salmon have b12 and does magnesium help cramps", "does stretching help?",
         "remedy_stretching"),
        # "is it safe to …": that "it" stands for what follows, not for the last message
        ("i get cramps at night and after running", "is it safe to take magnesium every day",
         "remedy_magnesium"),
        # picks one by its topic
        ("who is most at risk of b12 deficiency, and why", "the vegan bit, thats me",
         "vegan_vegetarian"),
        # names one of the two: that one's part
        ("magnesium or potassium for cramps", "is it safe to take magnesium every day",
         "remedy_magnesium"),
    ],
)  # fmt: skip
def test_after_two_things_a_clear_follow_up_is_not_asked_about(
    engine: Engine, first: str, second: str, intent: str
) -> None:
    _, reply = talk(engine, first, second)
    assert reply.intent == intent and reply.kind is not ReplyKind.fallback


def shape(reply: Reply) -> tuple[object, ...]:
    return reply.kind, reply.intent, reply.food, reply.suggestions, reply.buttons


def test_a_fallback_that_offered_nothing_leaves_nothing_to_point_back_at(
    engine: Engine,
) -> None:
    """The model ranks a remedy low for "' OR 1=1 --", but the user saw only "I didn't get
    that": what comes next is read alone, not as a question about that remedy."""
    for junk, follow_up in [
        ("' OR 1=1 --", "muscles ' OR 1=1 --"),  # a fallback with suggestions of its own
        ("' OR 1=1 --", "does it work?"),
        ("' OR '1'='1", "is it safe?"),
    ]:
        first, reply = talk(engine, junk, follow_up)
        assert first.kind is ReplyKind.fallback and not first.suggestions
        assert shape(reply) == shape(engine.ask(follow_up)), (junk, follow_up)


def test_after_did_you_mean_only_a_follow_up_by_its_form_takes_the_offered_family(
    engine: Engine,
) -> None:
    """ "what about tempeh then" after buttons that offered the food lookup is a food; a
    message that gets did-you-mean buttons of its own keeps them."""
    offered = Dialogue(  # did-you-mean buttons offering a food card ("None of these" last)
        items=(("Tofu", "f:tofu"), ("Vegan diets", "i:vegan_vegetarian"), ("None", "none")),
        topics=("food:tofu", "vegan_vegetarian"),
        updated_at=T0,
    )
    reply = answer(engine, offered, "what about tempeh then", T0 + 30)
    assert (reply.intent, reply.food) == ("food_lookup", "tempeh")
    # ("b12 cramps maybe" and "muscles ' OR 1=1 --" got did-you-mean until session 7's
    # phrasings, "cramps tiredness maybe" and "muscles b12 hmm" until session 8's, "what about
    # cramps and stuff hmm" until session 10's; now they are answered. Each retraining moves
    # such vague messages, so the premise is checked.)
    for offered in ("cramps and stuff hmm", "calf b12 thing"):
        for own in ("calf b12 thing", "what about b12 and stuff hmm"):
            first, reply = talk(engine, offered, own)
            assert first.suggestions and reply.suggestions, (offered, own)
            assert shape(reply) == shape(engine.ask(own)), (offered, own)


def test_junk_joined_by_or_is_not_a_second_thing(engine: Engine) -> None:
    """ "' OR '1'='1" holds "or", but its junk part is about nothing: the message is about
    one thing, so "is it safe?" is not asked back as which of two."""
    _, reply = talk(engine, "cramps b12 tiredness ' OR '1'='1", "is it safe?")
    assert reply.intent == "supplement_safety" and reply.kind is ReplyKind.answer


def test_a_self_contained_question_wins_over_the_context(engine: Engine) -> None:
    _, reply = talk(
        engine, "does tuna have b12", "ok different question, can stretching help night cramps"
    )
    assert reply.intent in {"night_cramps", "remedy_stretching"}


def test_an_emergency_wins_over_any_context(engine: Engine) -> None:
    _, reply = talk(engine, "does salmon have b12", "and my chest hurts and i cant breathe")
    assert reply.kind is ReplyKind.urgent


def test_the_context_expires_after_30_minutes_of_silence(engine: Engine) -> None:
    fresh = talk(engine, "how much b12 do i need a day", "for a 10 year old?", gap=60)
    stale = talk(engine, "how much b12 do i need a day", "for a 10 year old?", gap=31 * 60)
    assert (fresh[1].details or {}).get("life_stage") == "child_9_13"
    assert (stale[1].details or {}).get("life_stage") is None


def test_choosing_an_item_of_the_list_just_shown(engine: Engine) -> None:
    first, second = talk(engine, "what causes muscle cramps", "tell me about the thyroid one")
    assert first.intent == "causes_overview" and second.intent == "cause_medical_conditions"


@pytest.mark.parametrize(
    ("first", "pick", "item"),
    [
        # after a list answer, its items in the order the answer lists them (content
        # `list_answers`), not the related buttons under it
        ("what causes muscle cramps", "the second one", "cause_dehydration"),
        ("what causes muscle cramps", "the 2nd one", "cause_dehydration"),
        ("remedies for cramps side by side", "4th", "remedy_potassium"),
        ("remedies for cramps side by side", "go on then, number 1", "remedy_stretching"),
        ("compare the cramp remedies", "the last one on your list", "b12_supplement_for_cramps"),
    ],
)
def test_an_item_of_a_list_answer_by_its_number(
    engine: Engine, first: str, pick: str, item: str
) -> None:
    listed, chosen = talk(engine, first, pick)
    assert listed.intent in ("causes_overview", "remedies_compare")
    assert chosen.intent == item


def test_a_count_of_a_food_is_no_choice_of_an_item(engine: Engine) -> None:
    """ "two eggs" names the second item only in words; it is a meal, not the second one."""
    _, eggs = talk(engine, "remedies for cramps side by side", "two eggs")
    assert eggs.intent == "intake"


@pytest.mark.parametrize(
    ("first", "second", "question"),
    [
        ("does magnesium help cramps", "and potassium?", "how much should i take"),
        ("can statins cause cramps", "and thyroid problems?", "what should i do about it"),
    ],
)
def test_a_sub_question_after_two_items_of_a_list_asks_which(
    engine: Engine, first: str, second: str, question: str
) -> None:
    one, other, asked = talk(engine, first, second, question)
    assert asked.kind is ReplyKind.fallback
    assert {f"i:{one.intent}", f"i:{other.intent}"} <= which(asked)


def test_and_another_remedy_with_that_is_the_other_remedy(engine: Engine) -> None:
    """ "and stretching, does that help" after water: "that" is stretching, not the water."""
    water, stretching = talk(
        engine,
        "will drinking lots of water stop my cramps",
        "and stretching, does that actualy help",
    )
    assert water.intent == "remedy_hydration" and stretching.intent == "remedy_stretching"


def test_an_age_to_come_is_a_life_stage(engine: Engine) -> None:
    _, later = talk(engine, "im 16 how much b12 should i get a day", "and once i turn 19?")
    assert later.intent == "daily_needs" and (later.details or {}).get("life_stage") == "adult"


def test_a_plus_sign_adds_to_the_meal(engine: Engine) -> None:
    """ "+ a slice of cheese" once lost its "+" and counted the cheese as a meal of its own."""
    _, _, added = talk(engine, "had lamb today", "+ 2 eggs", "+ a slice of cheese")
    foods = [i["food"] for i in (added.details or {}).get("items", [])]
    assert foods == ["lamb", "eggs", "cheese"]


def test_i_also_had_adds_to_the_meal(engine: Engine) -> None:
    _, added = talk(engine, "2 eggs and beans on toast this morning. b12?", "i also had ham")
    foods = [i["food"] for i in (added.details or {}).get("items", [])]
    assert foods == ["eggs", "ham"]


@pytest.mark.parametrize("verdict", ["borderline?", "so borderline then", "borderline or not"])
def test_borderline_after_a_reading_is_a_verdict_on_it(engine: Engine, verdict: str) -> None:
    reading, again = talk(engine, "got my bloods back, b12 is 210 ng/l", verdict)
    assert reading.intent == again.intent == "lab_result"


def test_a_guess_of_this_bot_alone_leaves_the_choices_to_the_context(engine: Engine) -> None:
    """ "what about fish" alone once got one guess, "About this bot" (by its word "about"),
    and so no choices from the context: a guess that is no topic is no guess."""
    assert engine.followups is not None
    shown = engine.answer_intent("period_cramps", 100.0)
    dialogue, _ = engine.followups.pressed(None, shown, T0)
    alone = engine.ask("what about fish")
    guessed = replace(
        alone,
        kind=ReplyKind.fallback,
        intent=None,
        suggestions=("about",),
        buttons=(Button("About this bot", "i:about"), Button("None of these", "none")),
    )
    _, lost = engine.followups.follow(dialogue, "what about fish", guessed, T0 + 5)
    assert "i:period_cramps" in which(lost)


def test_a_tapped_answer_is_context_too(engine: Engine) -> None:
    assert engine.followups is not None
    tapped = engine.act("f:salmon")
    assert tapped is not None
    dialogue, _ = engine.followups.pressed(None, tapped, T0)
    reply = answer(engine, dialogue, "and tofu?", T0 + 5)
    assert reply.food == "tofu"


@pytest.mark.parametrize(
    "stored",
    [None, "", 3, [], {"intent": 5, "items": "xx"}, {"items": [[1]]}, {"updated_at": "soon"}],
)
def test_a_stored_dialogue_that_does_not_fit_is_no_dialogue(stored: object) -> None:
    assert Dialogue.from_dict(stored).intent is None


def test_a_dialogue_survives_its_json_form() -> None:
    dialogue = Dialogue(
        intent="intake", meal="2 eggs", items=(("Adult", "ls:adult"),), topics=("intake",),
        entities=(("food", "eggs"),), life_stage="adult", previous="food:salmon", updated_at=T0,
    )  # fmt: skip
    assert Dialogue.from_dict(json.loads(json.dumps(dialogue.to_dict()))) == dialogue


async def test_sqlite_keeps_the_dialogue_per_chat_and_forget_deletes_it(tmp_path: Path) -> None:
    storage = await SQLiteStorage.open(tmp_path / "d.sqlite3")
    try:
        await storage.save_dialogue(1, 10, {"intent": "daily_needs"})
        await storage.save_dialogue(1, 11, {"intent": "food_lookup"})
        await storage.save_dialogue(1, 10, {"intent": "intake"})
        assert await storage.load_dialogue(1, 10) == {"intent": "intake"}
        assert await storage.load_dialogue(1, 11) == {"intent": "food_lookup"}
        assert await storage.load_dialogue(2, 10) is None
        await storage.forget_user(1)
        assert await storage.load_dialogue(1, 10) is None
    finally:
        await storage.close()


def test_ask_session_reads_the_lines_as_one_conversation() -> None:
    lines = "how much b12 do i need a day\nfor a 10 year old?\n"

    def run(*flags: str) -> list[dict]:
        done = subprocess.run(
            [sys.executable, "-m", "bot", "ask", "--json", "--stdin", *flags],
            input=lines, capture_output=True, text=True, cwd=ROOT, check=True, timeout=120,
        )  # fmt: skip
        return [json.loads(line) for line in done.stdout.splitlines()]

    assert (run("--session")[1]["details"] or {}).get("life_stage") == "child_9_13"
    assert (run()[1]["details"] or {}).get("life_stage") is None


def test_content_check_names_a_section_heading_the_answer_lacks(tmp_path: Path) -> None:
    content = tmp_path / "content"
    shutil.copytree(CONTENT, content)
    path = content / "conversation.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('{heading: "Safety"}', '{heading: "No such part"}', 1))
    problems = [str(p) for p in check_conversation(content)]
    assert any("No such part" in p and "supplement_safety" in p for p in problems), problems


def test_content_check_names_a_section_paragraph_the_answer_lacks(tmp_path: Path) -> None:
    content = tmp_path / "content"
    shutil.copytree(CONTENT, content)
    path = content / "conversation.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace('{paragraph: "see a doctor soon"}', '{paragraph: "no such words"}')
    )
    problems = [str(p) for p in check_conversation(content)]
    assert any("no such words" in p and "deficiency_symptoms" in p for p in problems), problems


def test_content_check_names_an_unknown_family_of_not_problems(tmp_path: Path) -> None:
    content = tmp_path / "content"
    shutil.copytree(CONTENT, content)
    path = content / "conversation.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("not_problems: [food, remedy]", "not_problems: [food, remedys]"))
    problems = [str(p) for p in check_conversation(content)]
    assert any("remedys" in p for p in problems), problems


# -- session 9 (dialogues_dev7.yaml's round) -------------------------------------------------


@pytest.mark.parametrize(
    ("listing", "follow_up"),
    [
        ("compare the cramp remedies", "is it safe?"),
        ("compare the cramp remedies", "how often"),
        ("what causes muscle cramps", "ok how do i fix that one"),
    ],
)
def test_a_vague_follow_up_to_a_list_asks_which_of_its_items(
    engine: Engine, listing: str, follow_up: str
) -> None:
    """ "is it safe?" after the remedies side by side: which remedy (content `list_answers`),
    not the comparison again."""
    _, reply = talk(engine, listing, follow_up)
    assert len(which(reply)) >= 4


def test_a_sub_question_with_its_own_part_of_a_list_answer_gets_it(engine: Engine) -> None:
    """ "what can i do about it" after the causes: the causes' what-to-do part is the remedies."""
    _, reply = talk(engine, "what causes cramps", "what can i do about it")
    assert reply.intent == "remedies_compare"


def test_which_is_better_after_two_answers_of_one_family_asks_which(engine: Engine) -> None:
    _, _, reply = talk(engine, "does salmon have b12", "and tuna?", "which is better?")
    assert {"f:salmon", "f:tuna"} <= which(reply)


def test_the_longest_stage_word_names_the_stage(engine: Engine) -> None:
    """ "im breastfeeding her baby brother": the speaker's stage, not the baby's."""
    _, reply = talk(
        engine,
        "my daughter is 8 how much b12 she need",
        "and me, im breastfeeding her baby brother",
    )
    assert (reply.details or {}).get("life_stage") == "breastfeeding"


def test_a_serving_question_is_a_sub_question_however_far_outside_its_words_are(
    engine: Engine,
) -> None:
    """ "how much in a tin" after tuna: its words alone read as outside the bot (nothing
    about B12 or cramps), yet it asks about the tuna card."""
    _, _, reply = talk(engine, "does salmon have b12", "and tuna?", "how much in a tin")
    assert reply.food == "tuna" and (reply.details or {}).get("section") == "how_much"


def test_a_bare_food_after_a_medical_answer_asks_which_reading(engine: Engine) -> None:
    """ "and bananas?" after potassium: the banana's B12 card or potassium (in bananas)? After a
    food card or the vegan answer the same words are simply that food's card."""
    _, reply = talk(engine, "does potassium help with cramps", "and bananas?")
    assert {"f:banana", "i:remedy_potassium"} <= which(reply)
    _, tofu = talk(engine, "im vegan how do i get b12", "and tofu?")
    assert tofu.food == "tofu"


def test_eating_more_with_a_food_card_counts_a_meal(engine: Engine) -> None:
    """ "+ a glass of milk" after the haddock card (dialogues_dev9): the two as a meal; a bare
    "and yoghurt?" after a card is still another card."""
    _, added = talk(engine, "haddock and chips how much b12", "+ a glass of milk")
    assert [i["food"] for i in (added.details or {}).get("items", [])] == ["haddock", "milk"]
    _, other = talk(engine, "does turkey have b12", "and yoghurt?")
    assert (other.intent, other.food) == ("food_lookup", "yogurt")


def test_an_it_with_nothing_after_its_verb_is_the_last_topic(engine: Engine) -> None:
    """ "is it safe to use" after potassium: potassium's safety, not B12 supplements' (which
    the message alone gets, surely)."""
    _, safe = talk(engine, "should i take potassium for cramps", "is it safe to use")
    assert (safe.intent, (safe.details or {}).get("section")) == ("remedy_potassium", "safety")


def test_a_sub_question_of_two_minerals_asks_which(engine: Engine) -> None:
    _, which = talk(engine, "can low electrolytes cause cramps", "how much should i take")
    # asked which (not the electrolytes answer, whose own buttons name both too)
    assert which.intent is None
    assert [b.action for b in which.buttons][:2] == ["i:remedy_magnesium", "i:remedy_potassium"]


def test_how_to_find_out_after_the_signs_is_the_blood_test(engine: Engine) -> None:
    _, found = talk(engine, "what are the signs of low b12", "how can i find out")
    assert found.intent == "deficiency_testing"


def test_do_i_need_more_after_a_meal_is_its_verdict(engine: Engine) -> None:
    _, verdict = talk(engine, "steak and a glass of milk, how much b12", "do i need more?")
    assert verdict.intent == "intake"


def _section(reply: Reply) -> tuple[str | None, object]:
    return reply.intent, (reply.details or {}).get("section")


def test_a_serving_after_a_food_and_another_topic_is_the_foods(engine: Engine) -> None:
    """ "a serving" outweighs "how much" (dialogues_dev10), and of a food card and the vegan
    answer only the card has a serving (`card_parts`)."""
    _, serving = talk(
        engine, "is there b12 in tempeh or is that just vegan hype", "how big is a serving"
    )
    assert (serving.food, (serving.details or {}).get("section")) == ("tempeh", "serving")


def test_a_sub_question_goes_to_the_one_answer_that_has_its_part(engine: Engine) -> None:
    """ "why tho" after low potassium: the potassium remedy it names has no "why", low
    minerals has. Two things the message asked in parts stay a choice."""
    _, why = talk(engine, "does being low on potassium give you cramps", "but why")
    assert _section(why) == ("cause_electrolytes", "why")
    _, which = talk(engine, "my calves cramp after football and also in bed at night", "why")
    assert which.intent is None and which.kind is ReplyKind.fallback


def test_a_sub_question_of_a_word_or_two_stays_with_the_topic(engine: Engine) -> None:
    """ "how much a day tho" alone is surely daily B12 needs; after magnesium it is magnesium's
    dose. A domain word of its own asks anew: "when should i see a doctor about cramps"."""
    _, dose = talk(engine, "will magnesium tablets stop my cramps", "how much per day then")
    assert _section(dose) == ("remedy_magnesium", "how_much")
    _, doctor = talk(engine, "does cod have b12", "when do i see a gp about my cramps")
    assert doctor.intent == "see_a_doctor"


def test_a_long_sure_question_after_an_opener_is_its_own(engine: Engine) -> None:
    _, own = talk(
        engine, "is stretching good for cramps", "and what does b12 even do in your body anyway"
    )
    assert own.intent == "b12_role"


def test_a_daily_needs_question_that_names_an_age_gets_that_stage(engine: Engine) -> None:
    [first] = talk(engine, "how much b12 should my 6 year old be getting")
    assert (first.intent, (first.details or {}).get("life_stage")) == ("daily_needs", "child_4_8")


def test_had_with_it_too_adds_to_the_meal(engine: Engine) -> None:
    _, added = talk(engine, "tuna on toast for tea, b12?", "had some cheese with it too")
    assert [i["food"] for i in (added.details or {}).get("items", [])] == ["tuna", "cheese"]


def test_two_foods_and_whats_the_b12_is_a_meal(engine: Engine) -> None:
    [meal] = talk(engine, "cheese and ham on rye, whats the b12")
    assert meal.intent == "intake"


def test_the_pick_after_which_gets_the_part_asked(engine: Engine) -> None:
    """ "any side effects?" after magnesium or B12 asked which; the pick — typed, or its
    button — shows that one's side effects, not its whole answer again."""
    _, _, typed = talk(
        engine, "is magnesium or b12 better for leg cramps", "side effects?", "the b12"
    )
    assert _section(typed) == ("supplement_safety", "side_effects")
    turns, state = Turns(engine, None), ChatState()
    for message in ("is magnesium or b12 better for leg cramps", "side effects?"):
        state = turns.turn(state, Text(message), T0).state
    pressed = turns.turn(state, Press("i:remedy_magnesium"), T0 + 5).answer
    assert _section(pressed) == ("remedy_magnesium", "side_effects")
