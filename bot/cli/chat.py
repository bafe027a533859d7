"""`python -m bot chat`: the bot in a terminal, for trying content without Telegram.

Buttons are shown as numbered choices; typing the number presses the button, so a
curator can walk every path a Telegram user can — the B12 check included (/check, or ask
for it; /result and /cancel work as on Telegram), and the personal tools: `/intake <meal>`,
lab-unit, food-group and life-stage buttons. The life stage and the last meal live in
memory for the session, where Telegram keeps them in the database.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from bot.cli.check import ConsoleCheck
from bot.cli.render import render
from bot.core.check import CheckEngine
from bot.core.engine import Engine
from bot.core.reply import Reply, ReplyKind
from bot.core.tools import intake

PROMPT = "you> "
INTAKE_COMMAND = "/intake"


@dataclass(slots=True)
class Personal:
    """What Telegram stores per user for the day's-B12 count, kept for one session here."""

    life_stage: str | None = None
    meal: str | None = None


def chat(engine: Engine, check: CheckEngine) -> int:
    colour = sys.stdout.isatty()
    console = ConsoleCheck.of(check, engine.message)
    print(render(engine.act("i:greeting") or engine.ask("hi"), colour))
    last: Reply | None = None
    personal = Personal()
    while True:
        try:
            line = input(PROMPT)
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        if line.strip().lower() in {"/quit", "/exit"}:
            return 0
        replies = _turn(engine, console, last, line, personal)
        for reply in replies:
            print(render(reply, colour))
        last = replies[-1]


def _turn(
    engine: Engine,
    console: ConsoleCheck,
    last: Reply | None,
    line: str,
    personal: Personal | None = None,
) -> list[Reply]:
    """The replies to one line: a command, a numbered button, or a typed message."""
    personal = personal if personal is not None else Personal()
    command = line.strip().lower()
    if command.split(maxsplit=1)[:1] == [INTAKE_COMMAND]:
        return _intake(engine, personal, line.strip()[len(INTAKE_COMMAND) :].strip())
    if command == "/check":
        return console.start()
    if command == "/result":
        return console.last_result()
    if command == "/cancel":
        return console.cancel()
    action = _button(last, line)
    if action is not None and action.startswith("q:"):
        return console.press(action)
    if action == "none" and last is not None:
        return [Reply(engine.message("tg_none_recorded"), last.kind)]
    stage = _stage(engine, action)
    if stage is not None:
        personal.life_stage = stage
        return _intake(engine, personal, personal.meal or "")
    pressed = engine.act(action) if action is not None else None
    if pressed is not None:
        return console.start() if pressed.kind is ReplyKind.start_check else [pressed]
    reply = engine.ask(line, personal.life_stage)
    if reply.intent == intake.INTENT:
        personal.meal = line
    replies = console.text(line, reply)
    if replies[-1].kind is ReplyKind.start_check:
        return [*replies[:-1], *console.start()]
    return replies


def _button(last: Reply | None, line: str) -> str | None:
    """The action of the numbered button of the previous reply that `line` picks, if any."""
    if last is None or not line.strip().isdecimal() or len(line.strip()) > 3:
        return None
    number = int(line.strip())
    if not 1 <= number <= len(last.buttons):
        return None
    return last.buttons[number - 1].action


def _intake(engine: Engine, personal: Personal, meal: str) -> list[Reply]:
    """/intake <meal>, or a life-stage button re-counting the last meal."""
    reply = engine.count_intake(meal, personal.life_stage) if meal else None
    if reply is None:
        return [Reply(engine.message("tg_intake_usage"), ReplyKind.answer)]
    personal.meal = meal
    return [reply]


def _stage(engine: Engine, action: str | None) -> str | None:
    if action is None or engine.tools is None:
        return None
    return intake.stage_from_action(action, engine.tools.intake)
