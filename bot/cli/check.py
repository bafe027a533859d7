"""The B12 check in the console (`python -m bot chat`), with its state in memory.

The same state machine, texts and order of decisions as the Telegram window
(bot/telegram/check.py): an emergency is answered first; typed answers ("yes", "nah", "2")
and commands ("back", "why", "stop") go to the check; a question asked mid-check gets its
normal answer plus "Continue the check". Nothing is stored — the console is for trying
content, so closing it ends the check.

Buttons are typed by number. A question's numbers are its own and never move: an option is
numbered by its place in the questionnaire (whatever is hidden, ticked or asked again after
Back), and Done, Back, Why? and Stop have fixed places after the options (`numbers`).
"""

from __future__ import annotations

import html
import time
from collections.abc import Callable, Sequence
from dataclasses import replace

from bot.core.check import CheckEngine, State, Status, Transition
from bot.core.check.state import ACTION, OPTION
from bot.core.reply import Button, Reply, ReplyKind

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


class ConsoleCheck:
    """One person's check. Every method returns the replies to print, in order."""

    def __init__(
        self, check: CheckEngine, texts: Callable[[str], str], clock: Callable[[], float]
    ) -> None:
        self.check = check
        self.texts = texts  # the Telegram window's texts (tg_…), shared by the console
        self.clock = clock
        self.state: State | None = None
        self.result: tuple[str, str] | None = None  # (text, doctor summary) of the last result

    @classmethod
    def of(cls, check: CheckEngine, texts: Callable[[str], str]) -> ConsoleCheck:
        return cls(check, texts, time.time)

    def numbers(self, reply: Reply) -> list[int]:
        return numbers(self.check, reply.buttons)

    def button(self, reply: Reply | None, line: str) -> str | None:
        """The action of the button of `reply` whose number `line` is, if any."""
        typed = line.strip()
        if reply is None or not typed.isdecimal() or len(typed) > 3:
            return None
        pressed = dict(zip(self.numbers(reply), reply.buttons, strict=True)).get(int(typed))
        return pressed.action if pressed is not None else None

    @property
    def running(self) -> bool:
        state = self.state
        return (
            state is not None
            and state.status is Status.active
            and not self.check.is_expired(state, self.clock())
        )

    def start(self) -> list[Reply]:
        """A running check continues where it was; otherwise a new one starts."""
        if not self.running or self.state is None:
            self.state = self.check.start(self.clock())
        return [self.check.render(self.state)]

    def press(self, action: str) -> list[Reply]:
        if action == LAST_SUMMARY:
            return [self._last(1)]
        return [self._apply(self.check.handle_action(self.state, action, self.clock()))]

    def text(self, text: str, reply: Reply) -> list[Reply]:
        """What to show for a typed message, given the engine's `reply` to it (decided by
        `CheckEngine.read_typed`, as on Telegram)."""
        typed = self.check.read_typed(self.state, text, reply, self.clock())
        shown = [self._apply(typed.step)] if typed.step is not None else []
        return shown + [r for r in (typed.hint, typed.answer) if r is not None]

    def cancel(self) -> list[Reply]:
        if not self.running or self.state is None:
            return [Reply(self.texts("tg_cancel_nothing"), ReplyKind.answer)]
        stopped = self.check.stop(self.state, now=self.clock())
        if isinstance(stopped, State):
            self.state = stopped
        return [Reply(self.texts("tg_cancel_done"), ReplyKind.answer)]

    def last_result(self) -> list[Reply]:
        return [self._last(0)]

    def forget(self) -> None:
        """/forget: the running check and the last result go, as Telegram deletes them."""
        self.state, self.result = None, None

    def _last(self, part: int) -> Reply:
        if self.result is None:
            return Reply(self.texts("tg_result_none"), ReplyKind.answer)
        buttons = (Button(self.check.ui.button_summary, LAST_SUMMARY),) if part == 0 else ()
        return Reply(self.result[part], ReplyKind.answer, buttons=buttons)

    def _apply(self, step: Transition) -> Reply:
        before = self.state
        if step.state is not None:
            self.state = step.state
        state = self.state
        if (
            state is not None
            and state.status is Status.finished
            and (before is None or before.status is not Status.finished)
        ):
            result = self.check.result(state)
            self.result = (result.text, result.summary)
        reply = step.reply
        if step.notice and step.notice != reply.text:  # Telegram shows it as a toast
            notice = f"<i>{html.escape(step.notice, quote=False)}</i>"
            reply = replace(reply, text=f"{notice}\n\n{reply.text}")
        return reply
