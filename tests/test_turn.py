"""One turn for every window (issue 13): `Turns.turn` decides a typed message or a pressed
button in one order — safety, the running check, follow-ups, the check starting — and is
what the console, Telegram and `ask --json --stdin --session` call."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_check_cli import NATURAL, run

from bot.content.questionnaire import load_questionnaire
from bot.core.check import CheckEngine, QuestionView, Status
from bot.core.engine import Engine
from bot.core.reply import ReplyKind
from bot.core.turn import ChatState, Press, Text, Turns

REPO = Path(__file__).resolve().parents[1]
T0 = 1_750_000_000.0


@pytest.fixture(scope="module")
def turns(engine: Engine) -> Turns:
    return Turns(engine, CheckEngine(load_questionnaire(REPO / "content")))


def test_asking_for_the_check_starts_it_and_typed_answers_finish_it(turns: Turns) -> None:
    """Natural typed answers (tests/test_check_cli.py's, hedges and all) through one turn
    each: the check takes every one, and the turn that reaches the result says so once."""
    started = turns.turn(ChatState(), Text("can you check if b12 is behind my cramps"), T0)
    assert started.answer is None and started.check is not None
    state, now, finished = started.state, T0, 0
    assert turns.check is not None and state.check is not None
    while isinstance(view := turns.check.step(state.check), QuestionView):
        for line in NATURAL[view.question.id]:
            now += 5
            taken = turns.turn(state, Text(line), now)
            assert taken.answer is None, line  # the check took it (or asked back)
            state, finished = taken.state, finished + taken.finished
            assert state.check is not None
    assert state.check.status is Status.finished and finished == 1


def test_a_question_mid_check_is_answered_with_a_way_back(turns: Turns) -> None:
    started = turns.turn(ChatState(), Press("i:start_check"), T0).state
    asked = turns.turn(started, Text("why do I get cramps at night"), T0 + 5)
    assert asked.answer is not None and asked.answer.intent == "night_cramps"
    assert asked.detach and asked.state.check == started.check  # nothing recorded
    assert turns.check is not None and started.check is not None
    assert asked.answer.buttons[-1] == turns.check.continue_button(started.check)
    assert asked.state.dialogue is not None  # and it is the chat's context


def test_an_emergency_mid_check_wins_and_records_nothing(turns: Turns) -> None:
    started = turns.turn(ChatState(), Press("i:start_check"), T0).state
    urgent = turns.turn(started, Text("yes and now crushing chest pain, cant breathe"), T0 + 5)
    assert urgent.answer is not None and urgent.answer.kind is ReplyKind.urgent
    assert urgent.step is None and urgent.state.check == started.check


def test_asking_again_continues_the_running_check(turns: Turns) -> None:
    started = turns.turn(ChatState(), Press("i:start_check"), T0)
    again = turns.turn(started.state, Press("i:start_check"), T0 + 5)
    assert again.state.check == started.state.check and again.check is not None


def test_a_life_stage_button_counts_the_last_meal_again_or_says_it_is_kept(
    turns: Turns, engine: Engine
) -> None:
    counted = turns.turn(ChatState(), Text("2 eggs and a glass of milk"), T0)
    assert counted.state.meal and counted.answer is not None
    again = turns.turn(counted.state, Press("ls:pregnancy"), T0 + 5)
    assert again.state.life_stage == "pregnancy"
    assert again.answer is not None and again.answer.intent == counted.answer.intent
    kept = turns.turn(ChatState(), Press("ls:pregnancy"), T0)
    assert kept.answer is not None and kept.answer.intent is None
    assert kept.state.life_stage == "pregnancy" and kept.answer.text != again.answer.text
    assert turns.turn(ChatState(), Press("ls:no_such_stage"), T0).stale


def test_a_session_on_stdin_is_one_conversation_check_included() -> None:
    lines = "start the b12 check\nno\nand what is b12 for\n"
    out = run("ask", "--json", "--stdin", "--session", stdin=lines)
    assert out.returncode == 0, out.stderr
    first, answer, question = (json.loads(line) for line in out.stdout.splitlines())
    assert first["intent"] is None and answer["intent"] is None  # the check's own messages
    assert answer["reply"] != first["reply"]  # "no" answered its first question
    assert question["intent"] == "b12_role"
