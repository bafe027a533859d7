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
from dataclasses import dataclass, field, replace

from bot.cli.check import LAST_SUMMARY, button, numbers, shown
from bot.cli.render import render
from bot.core import views
from bot.core.check import CheckEngine
from bot.core.commands import INTENT_COMMANDS, MAIN_MENU
from bot.core.engine import Engine
from bot.core.reply import Button, Reply, ReplyKind
from bot.core.turn import ChatState, Press, Text, Turn, Turns

PROMPT = "you> "
INTAKE_COMMAND = "/intake"


@dataclass(slots=True)
class Personal:
    """What Telegram stores for a user and a chat (the chat's state, the last check result),
    kept for one session here."""

    state: ChatState = field(default_factory=ChatState)
    result: tuple[str, str] | None = None  # (text, doctor summary) of the last result


def chat(engine: Engine, check: CheckEngine) -> int:
    colour = sys.stdout.isatty()
    turns = Turns(engine, check)
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
        replies = _turn(turns, last, line, personal)
        for reply in replies:
            print(render(reply, colour, numbers(check, reply.buttons)))
        last = replies[-1]


def _turn(turns: Turns, last: Reply | None, line: str, personal: Personal) -> list[Reply]:
    """The replies to one line: a console command, or a numbered button or typed message
    for `Turns.turn` — the one turn every window takes."""
    engine, check = turns.engine, turns.check
    assert check is not None  # noqa: S101 - chat() builds it with the check
    command = line.strip().lower()
    if command.split(maxsplit=1)[:1] == [INTAKE_COMMAND]:
        return _intake(engine, personal, line.strip()[len(INTAKE_COMMAND) :].strip())
    name = command.split(maxsplit=1)[0].lstrip("/") if command.startswith("/") else ""
    now = time.time()
    if name == "start":
        return [start_screen(engine)]
    if name == "privacy":
        return [Reply(engine.message("tg_privacy"), ReplyKind.answer)]
    if name == "forget":  # what Telegram deletes from the database, this session forgets
        personal.state, personal.result = ChatState(), None
        return [Reply(engine.message("tg_forget_done"), ReplyKind.answer)]
    if name in INTENT_COMMANDS and name != "check":
        shown = engine.act(INTENT_COMMANDS[name])
        if shown is not None and name == "help":  # the commands follow the whole answer
            whole = views.whole(shown)
            return [replace(whole, text=f"{whole.text}\n\n{engine.message('tg_help_commands')}")]
        if shown is not None:
            return [shown]
    if command == "/check":
        return _apply(turns.start(personal.state, now), personal, check)
    if command == "/result":
        return [_last(engine, check, personal, 0)]
    if command == "/cancel":
        return [_cancel(turns, personal, now)]
    action = button(check, last, line)
    if action == LAST_SUMMARY:
        return [_last(engine, check, personal, 1)]
    if action == "none" and last is not None:
        return [Reply(engine.message("tg_none_recorded"), last.kind)]
    message = Press(action) if action is not None else Text(line)
    turn = turns.turn(personal.state, message, now)
    if turn.stale:  # a button that means nothing now: the line is read as a message
        turn = turns.turn(personal.state, Text(line), now)
    return _apply(turn, personal, check)


def _apply(turn: Turn, personal: Personal, check: CheckEngine) -> list[Reply]:
    """Keep the turn's state (and a result reached in it); the replies to print."""
    personal.state = turn.state
    if turn.finished and turn.state.check is not None:
        result = check.result(turn.state.check)
        personal.result = (result.text, result.summary)
    return shown(turn)


def _cancel(turns: Turns, personal: Personal, now: float) -> Reply:
    stopped = turns.cancel(personal.state, now)
    if stopped is None:
        return Reply(turns.engine.message("tg_cancel_nothing"), ReplyKind.answer)
    personal.state = replace(personal.state, check=stopped)
    return Reply(turns.engine.message("tg_cancel_done"), ReplyKind.answer)


def _last(engine: Engine, check: CheckEngine, personal: Personal, part: int) -> Reply:
    """/result (part 0, with its doctor-summary button) or that summary (part 1)."""
    if personal.result is None:
        return Reply(engine.message("tg_result_none"), ReplyKind.answer)
    buttons = (Button(check.ui.button_summary, LAST_SUMMARY),) if part == 0 else ()
    return Reply(personal.result[part], ReplyKind.answer, buttons=buttons)


def start_screen(engine: Engine) -> Reply:
    """/start, as on Telegram: the welcome, the disclaimer and the first screen's buttons,
    after a line saying this is the offline console and how to leave it."""
    text = "\n\n".join(engine.message(key) for key in ("cli_intro", "tg_welcome", "tg_disclaimer"))
    buttons = tuple(Button(engine.message(label), action) for label, action in MAIN_MENU)
    return Reply(text, ReplyKind.social, buttons=buttons)


def _intake(engine: Engine, personal: Personal, meal: str) -> list[Reply]:
    """/intake <meal>: always read as a meal, counted for the session's life stage."""
    reply = engine.count_intake(meal, personal.state.life_stage) if meal else None
    if reply is None:
        return [Reply(engine.message("tg_intake_usage"), ReplyKind.answer)]
    personal.state = replace(personal.state, meal=meal)
    return [reply]
