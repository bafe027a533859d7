"""Follow-ups in context (issue 13): the dialogue sets, the rules' edges, storage and windows.

The dialogue files are run through `Engine.turn`, the path every window takes. dialogues.yaml
(and dialogues_dev2.yaml) are development sets the rules were tuned on; the held-out files
were written by separate authors from the list of follow-up kinds only, and are never tuned
on: their floors are the figures they gave when first run, so a change can only keep or
raise them.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot.cli.dialogue_eval import score_dialogues
from bot.content.conversation import check_conversation
from bot.core.conversation import Dialogue
from bot.core.engine import Engine
from bot.core.reply import ReplyKind
from bot.storage.sqlite import SQLiteStorage

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
CONTENT = ROOT / "content"
T0 = 1_750_000_000.0

FLOORS = {  # file → lowest share of follow-ups answered in context
    "dialogues.yaml": 0.95,  # development
    "dialogues_dev2.yaml": 0.93,  # development (second author)
    "dialogues_holdout.yaml": 0.88,  # held out, seen once (0.800 then); 0.900 at the end
    "dialogues_holdout2.yaml": 0.78,  # held out, misses never read; 0.759 first, 0.793 at the end
}


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_follow_ups_are_answered_in_context(engine: Engine, name: str) -> None:
    scores = score_dialogues(engine, DATA / name)
    assert scores.followups[1] >= 40
    assert scores.in_context >= FLOORS[name], [m.dialogue for m in scores.misses]


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


def talk(engine: Engine, *messages: str, gap: float = 30.0) -> list:
    dialogue, replies, now = None, [], T0
    for message in messages:
        dialogue, reply = engine.turn(dialogue, message, now)
        replies.append(reply)
        now += gap
    return replies


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
    buttons = [b.action for b in first.buttons if b.action.startswith("i:")]
    _, by_number = talk(engine, "what causes muscle cramps", "the second one")
    assert by_number.intent == buttons[1].removeprefix("i:")


def test_a_tapped_answer_is_context_too(engine: Engine) -> None:
    assert engine.followups is not None
    tapped = engine.act("f:salmon")
    assert tapped is not None
    dialogue = engine.followups.pressed(None, tapped, T0)
    _, reply = engine.turn(dialogue, "and tofu?", T0 + 5)
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
        entities=(("food", "eggs"),), life_stage="adult", updated_at=T0,
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
