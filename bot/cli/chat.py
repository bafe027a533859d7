"""`python -m bot chat`: the bot in a terminal, for trying content without Telegram.

Buttons are shown as numbered choices; typing the number presses the button, so a
curator can walk every path a Telegram user can — More and Sources print the whole reply
and its sources, as Telegram shows them in place — the B12 check included (/check, or ask
for it; /result and /cancel work as on Telegram), and the personal tools: `/intake <meal>`,
lab-unit, food-group and life-stage buttons. The life stage and the last meal live in
memory for the session, where Telegram keeps them in the database.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, replace

from bot.cli.check import ConsoleCheck
from bot.cli.render import render
from bot.core import views
from bot.core.check import CheckEngine
from bot.core.commands import INTENT_COMMANDS, MAIN_MENU
from bot.core.conversation import Dialogue
from bot.core.engine import Engine
from bot.core.reply import Button, Reply, ReplyKind
from bot.core.tools import intake

PROMPT = "you> "
INTAKE_COMMAND = "/intake"


@dataclass(slots=True)
class Personal:
    """What Telegram stores per user for the day's-B12 count, kept for one session here."""

    life_stage: str | None = None
    meal: str | None = None
    dialogue: Dialogue | None = None  # follow-ups in context, as Telegram keeps per chat


def chat(engine: Engine, check: CheckEngine) -> int:
    colour = sys.stdout.isatty()
    console = ConsoleCheck.of(check, engine.message)
    first = start_screen(engine)
    print(render(first, colour))
    last: Reply | None = first
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
            print(render(reply, colour, console.numbers(reply)))
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
    name = command.split(maxsplit=1)[0].lstrip("/") if command.startswith("/") else ""
    if name == "start":
        return [start_screen(engine)]
    if name == "privacy":
        return [Reply(engine.message("tg_privacy"), ReplyKind.answer)]
    if name == "forget":  # what Telegram deletes from the database, this session forgets
        personal.life_stage = personal.meal = personal.dialogue = None
        console.forget()
        return [Reply(engine.message("tg_forget_done"), ReplyKind.answer)]
    if name in INTENT_COMMANDS and name != "check":
        shown = engine.act(INTENT_COMMANDS[name])
        if shown is not None and name == "help":  # the commands follow the whole answer
            whole = views.whole(shown)
            return [replace(whole, text=f"{whole.text}\n\n{engine.message('tg_help_commands')}")]
        if shown is not None:
            return [shown]
    if command == "/check":
        return console.start()
    if command == "/result":
        return console.last_result()
    if command == "/cancel":
        return console.cancel()
    action = console.button(last, line)
    if action is not None and action.startswith("q:"):
        return console.press(action)
    if action == "none" and last is not None:
        return [Reply(engine.message("tg_none_recorded"), last.kind)]
    stage = _stage(engine, action)
    if stage is not None:
        personal.life_stage = stage
        return _intake(engine, personal, personal.meal or "")
    pressed = None
    if action is not None:  # More / Sources of a day's B12 read the meal it counted
        pressed = engine.act(action, meal=personal.meal, life_stage=personal.life_stage)
    if pressed is not None:
        if engine.followups is not None:
            personal.dialogue = engine.followups.pressed(personal.dialogue, pressed, time.time())
        return console.start() if pressed.kind is ReplyKind.start_check else [pressed]
    alone = engine.ask(line, personal.life_stage)
    replies = console.text(line, alone)
    if replies[-1].kind is ReplyKind.start_check:
        return [*replies[:-1], *console.start()]
    if engine.followups is not None and replies[-1].text == alone.text:  # not a check answer
        personal.dialogue, replies[-1] = engine.followups.follow(
            personal.dialogue,
            line,
            alone,
            time.time(),
            shown=replies[-1],
            life_stage=personal.life_stage,
        )
    if replies[-1].intent == intake.INTENT:
        personal.meal = (personal.dialogue.meal if personal.dialogue else None) or line
    return replies


def start_screen(engine: Engine) -> Reply:
    """/start, as on Telegram: the welcome, the disclaimer and the first screen's buttons,
    after a line saying this is the offline console and how to leave it."""
    text = "\n\n".join(engine.message(key) for key in ("cli_intro", "tg_welcome", "tg_disclaimer"))
    buttons = tuple(Button(engine.message(label), action) for label, action in MAIN_MENU)
    return Reply(text, ReplyKind.social, buttons=buttons)


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
