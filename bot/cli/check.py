"""The B12 check's buttons in the console (`python -m bot chat`).

What a typed line or a pressed button does to the check is decided by `bot.core.turn`, as
on Telegram; this module numbers the buttons and prints a step's toast with it. Nothing is
stored — the console is for trying content, so closing it ends the check.

Buttons are typed by number. A question's numbers are its own and never move: an option is
numbered by its place in the questionnaire (whatever is hidden, ticked or asked again after
Back), and Done, Back, Why? and Stop have fixed places after the options (`numbers`).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import replace

from bot.core.check import CheckEngine
from bot.core.check.state import ACTION, OPTION
from bot.core.reply import Button, Reply
from bot.core.turn import Turn

#: /result's "Summary for my doctor" (the same callback data as on Telegram).
LAST_SUMMARY = "q:last:sum"
#: The controls' places after a question's options.
_CONTROLS = ("ok", "back", "why", "stop")


def numbers(check: CheckEngine, buttons: Sequence[Button]) -> list[int]:
    """The number to type for each button. A question's buttons: option k of the question is
    k (the same when re-asked, after Back, or with an option hidden), then Done, Back, Why?
    and Stop at fixed places after the last option. Anything else: 1, 2, 3, …"""
    counted = list(range(1, len(buttons) + 1))
    found = [ACTION.fullmatch(b.action) for b in buttons]
    matches = [m for m in found if m is not None]
    places = {m.group(2) for m in matches}
    if len(matches) != len(found) or len(places) != 1 or not (place := places.pop()).isdecimal():
        return counted
    questions = check.spec.questions
    if int(place) >= len(questions):
        return counted
    question = questions[int(place)]
    controls = _CONTROLS if question.choice == "multi" else _CONTROLS[1:]
    out = []
    for match in matches:
        command = match.group(3)
        option = OPTION.fullmatch(command)
        if option is not None:
            out.append(int(option.group(2)) + 1)
        elif command in controls:
            out.append(len(question.options) + 1 + controls.index(command))
        else:  # "Stop the check?": Yes, stop / Resume
            return counted
    return out


def button(check: CheckEngine, reply: Reply | None, line: str) -> str | None:
    """The action of the button of `reply` whose number `line` is, if any."""
    typed = line.strip()
    if reply is None or not typed.isdecimal() or len(typed) > 3:
        return None
    pressed = dict(zip(numbers(check, reply.buttons), reply.buttons, strict=True)).get(int(typed))
    return pressed.action if pressed is not None else None


def shown(turn: Turn) -> list[Reply]:
    """A turn's replies as the console prints them: a check step's toast (Telegram's
    callback answer) goes above the step it belongs to."""
    replies = turn.replies
    step = turn.step
    if step is not None and step.notice and step.notice != step.reply.text:
        notice = f"<i>{html.escape(step.notice, quote=False)}</i>"
        replies[0] = replace(step.reply, text=f"{notice}\n\n{step.reply.text}")
    return replies
