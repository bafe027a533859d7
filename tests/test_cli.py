"""The console windows: `ask --json`, `content --json` and `chat` give the engine's replies."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bot.cli.render import render
from bot.core.engine import Engine

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
        timeout=60,
    )


def test_ask_json_is_the_engines_reply(engine: Engine) -> None:
    text = "does salmon have b12"
    record = json.loads(run("ask", "--json", text).stdout)
    reply = engine.ask(text)
    assert record == {
        "text": text,
        "intent": "food_lookup",
        "food": "salmon",
        "score": reply.score,
        "suggestions": [],
        "reply": reply.full,
        "summary": reply.text,
        "details": None,
        "entities": [
            {"kind": "food", "value": "salmon", "text": "salmon"},
            {"kind": "nutrient", "value": "b12", "text": "b12"},
        ],
    }


def test_ask_json_stdin_answers_each_line_in_order(engine: Engine) -> None:
    lines = ["hi", "why do i cramp at night", "", "what is the capital of france", "<b>&</b>"]
    out = run("ask", "--json", "--stdin", stdin="\n".join(lines) + "\n").stdout.splitlines()
    records = [json.loads(line) for line in out]
    assert [r["text"] for r in records] == lines
    for record, line in zip(records, lines, strict=True):
        reply = engine.ask(line)
        assert (record["intent"], record["reply"], record["suggestions"]) == (
            reply.intent,
            reply.full,
            list(reply.suggestions),
        )
        assert record["summary"] == reply.text


def test_ask_json_carries_what_a_tool_found() -> None:
    record = json.loads(run("ask", "--json", "my b12 came back 180 pg/ml").stdout)
    assert record["intent"] == "lab_result"
    assert record["details"]["test"] == "b12"
    assert record["details"]["value"] == 180
    assert record["details"]["unit"] == "pg"
    meal = json.loads(run("ask", "--json", "today i had 2 eggs and a glass of milk").stdout)
    assert meal["intent"] == "intake"
    assert meal["details"]["total_mcg"] > 0


def test_content_json_lists_intents_and_foods(engine: Engine) -> None:
    data = json.loads(run("content", "--json").stdout)
    assert {i["id"] for i in data["intents"]} == set(engine.content.intents)
    assert {f["id"] for f in data["foods"]} == set(engine.content.foods)
    salmon = next(f for f in data["foods"] if f["id"] == "salmon")
    assert "salmon" in salmon["names"]
    assert all(i["examples"] for i in data["intents"])


def test_chat_answers_and_numbered_buttons_press() -> None:
    out = run("chat", stdin="does salmon have b12\n1\n/quit\n").stdout
    assert "Salmon and B12" in out
    assert "<b>" not in out  # HTML is rendered, not shown
    assert "[1]" in out
    assert "Foods that contain B12" in out  # the first button of the salmon reply


def test_chat_intake_and_the_tools_buttons(engine: Engine) -> None:
    """/intake counts a meal; a life-stage button re-counts it and later meals keep it."""
    stages = engine.count_intake("3 oz salmon, yogurt")
    assert stages is not None
    pregnant = 1 + [b.action for b in stages.buttons].index("ls:pregnancy")
    later = "today I had 2 eggs and a glass of milk"
    lines = ["/intake 3 oz salmon, yogurt", str(pregnant), later, "my b12 came back 180", "1"]
    out = run("chat", stdin="\n".join([*lines, "/quit", ""])).stdout
    need = "The daily need (RDA) for {} is"
    assert need.format("adults") in out  # before a stage is known
    assert out.count(need.format("pregnancy")) == 2  # the re-count and the later meal
    assert "Salmon: 1 × 3 oz" in out
    lab = engine.ask("my b12 came back 180")
    pressed = engine.act(lab.buttons[0].action)
    assert pressed is not None and pressed.intent == "lab_result"
    assert render(pressed, colour=False).splitlines()[0] in out


def test_chat_intake_without_a_meal_explains_itself() -> None:
    out = run("chat", stdin="/intake\n/quit\n").stdout
    assert "/intake 3 oz salmon" in out


def test_chat_shows_more_and_sources_and_prints_what_they_show(engine: Engine) -> None:
    """Pressing More prints the whole answer; then Sources (now the first button) adds the
    Source line, as Telegram edits the message."""
    question = "why do i get leg cramps at night"
    reply = engine.ask(question)
    more = engine.act("m:i:night_cramps")
    both = engine.act("ms:i:night_cramps")
    assert more is not None and both is not None
    out = run("chat", stdin=f"{question}\n1\n1\n/quit\n").stdout
    shown = [render(r, colour=False) for r in (reply, more, both)]
    assert "[1] More" in shown[0] and "[2] Sources" in shown[0]
    assert "[1] Sources" in shown[1] and "More" not in shown[2]
    for text in shown:
        assert text in out
    assert out.index(shown[0]) < out.index(shown[1]) < out.index(shown[2])
    assert "Source:" not in shown[0] and "Source:" in shown[2]


def test_the_console_answers_every_telegram_command_the_same_way(engine: Engine) -> None:
    """Console parity (issue 13): /start's first screen, /privacy, /forget and the commands
    that are a window onto one engine action give the Telegram replies."""
    from bot.cli.chat import Personal, _turn, start_screen
    from bot.content.questionnaire import load_questionnaire
    from bot.core.check import CheckEngine
    from bot.core.commands import INTENT_COMMANDS, MAIN_MENU
    from bot.core.turn import Turns

    content = Path(__file__).resolve().parents[1] / "content"
    console = Turns(engine, CheckEngine(load_questionnaire(content)))
    first = start_screen(engine)
    assert [b.action for b in first.buttons] == [action for _, action in MAIN_MENU]
    assert engine.message("cli_intro") in first.text and "/quit" in first.text
    personal = Personal()
    [privacy] = _turn(console, first, "/privacy", personal)
    assert privacy.text == engine.message("tg_privacy")
    for name in ("causes", "remedies", "foods", "about"):
        [shown] = _turn(console, first, f"/{name}", personal)
        expected = engine.act(INTENT_COMMANDS[name])
        assert expected is not None and shown.text == expected.text, name
    [helped] = _turn(console, first, "/help", personal)
    assert helped.text.endswith(engine.message("tg_help_commands"))
    _turn(console, first, "how much b12 do i need a day", personal)
    assert personal.state.dialogue is not None and personal.state.dialogue.intent == "daily_needs"
    [forgot] = _turn(console, first, "/forget", personal)
    assert forgot.text == engine.message("tg_forget_done") and personal.state.dialogue is None
    [pressed] = _turn(console, first, "3", personal)  # the first screen's buttons work
    assert pressed.intent == MAIN_MENU[2][1].removeprefix("i:")
