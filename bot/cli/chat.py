"""`python -m bot chat`: the bot in a terminal, for trying content without Telegram.

Buttons are shown as numbered choices; typing the number presses the button, so a
curator can walk every path a Telegram user can.
"""

from __future__ import annotations

import sys

from bot.cli.render import render
from bot.core.engine import Engine
from bot.core.reply import Reply

PROMPT = "you> "


def chat(engine: Engine) -> int:
    colour = sys.stdout.isatty()
    print(render(engine.act("i:greeting") or engine.ask("hi"), colour))
    last: Reply | None = None
    while True:
        try:
            line = input(PROMPT)
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        if line.strip().lower() in {"/quit", "/exit"}:
            return 0
        reply = _press(engine, last, line) or engine.ask(line)
        print(render(reply, colour))
        last = reply


def _press(engine: Engine, last: Reply | None, line: str) -> Reply | None:
    """The reply to a numbered button of the previous reply, if `line` picks one."""
    if last is None or not line.strip().isdigit():
        return None
    number = int(line.strip())
    if not 1 <= number <= len(last.buttons):
        return None
    action = last.buttons[number - 1].action
    if action == "none":
        return Reply(engine.message("tg_none_recorded"), last.kind)
    return engine.act(action)
