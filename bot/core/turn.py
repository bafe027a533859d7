"""One turn of a chat — a typed message or a pressed button — decided in one place for every
window (Telegram, the console, `ask --json --stdin --session`, the dialogue evaluation).

`Turns.turn(chat, message, now)` is pure: it takes what the chat carries between messages
(`ChatState`: the follow-up dialogue, the running check, the life stage and the last meal
counted) and returns the state after the message and what to show (`Turn`). The order of
decisions lives here and nowhere else: the safety layer first (inside `Engine.ask`), then the
running check (an answer to its question, a garbled answer asked again, or a question of
the user's own with "Continue the check"), then follow-ups read against the dialogue, then
the check starting when it was asked for.

A window loads the state once, calls `turn` once, saves what changed, and shows the `Turn`
in its order: `step`, `hint`, `answer`, `check`. Where a step is shown (the check's own
message edited in place, or a new one) is the window's business; so are its commands that
touch only storage (/forget, /stats) and the doctor summary kept with the last result.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, replace

from bot.core import views
from bot.core.check import CheckEngine, State, Status, Transition, Typed
from bot.core.conversation import Dialogue
from bot.core.engine import Engine
from bot.core.reply import Reply, ReplyKind
from bot.core.tools import intake

#: The life-stage key of content/messages (a stage button pressed with no meal to count).
LIFE_STAGE_SAVED = "tg_life_stage_saved"


@dataclass(frozen=True, slots=True)
class ChatState:
    """What one chat carries from one message to the next."""

    dialogue: Dialogue | None = None
    check: State | None = None
    life_stage: str | None = None
    meal: str | None = None  # the last meal counted, for the life-stage and More buttons


@dataclass(frozen=True, slots=True)
class Text:
    """A typed message."""

    text: str


@dataclass(frozen=True, slots=True)
class Press:
    """A pressed button: its action (callback data)."""

    action: str


@dataclass(frozen=True, slots=True)
class Turn:
    """The state after a message and what to show, in this order:

    - `step`: what the check did (an answer, a command, "this check expired"), shown on the
      check's own message (its `notice` is a toast where a window has them);
    - `hint`: the current question again on the check's message ("didn't catch that");
    - `detach`: the chat moved on, so the check's message loses its buttons and its next
      step goes in a new message;
    - `answer`: a reply to send (`in_place`: in the pressed message instead — More, Sources);
    - `check`: the check's current question, sent as a new check message (it was asked for).

    `stale` says a pressed button meant nothing any more; `finished` that the check reached
    its result in this turn (store the result before anything is shown)."""

    state: ChatState
    step: Transition | None = None
    hint: Reply | None = None
    detach: bool = False
    answer: Reply | None = None
    in_place: bool = False
    check: Reply | None = None
    stale: bool = False
    finished: bool = False

    @property
    def replies(self) -> list[Reply]:
        """Everything shown, in order, for windows that print rather than edit."""
        shown = [self.step.reply] if self.step is not None else []
        return shown + [r for r in (self.hint, self.answer, self.check) if r is not None]


class Turns:
    """The engine and the B12 check together: one turn of a chat."""

    def __init__(self, engine: Engine, check: CheckEngine | None) -> None:
        self.engine = engine
        self.check = check

    def turn(self, chat: ChatState, message: Text | Press, now: float) -> Turn:
        if isinstance(message, Press):
            return self._press(chat, message.action, now)
        return self._text(chat, message.text, now)

    def running(self, chat: ChatState, now: float) -> bool:
        state = chat.check
        return (
            self.check is not None
            and state is not None
            and state.status is Status.active
            and not self.check.is_expired(state, now)
        )

    def cancel(self, chat: ChatState, now: float) -> State | None:
        """/cancel: the running check stopped; None when none is running."""
        if self.check is None or chat.check is None or not self.running(chat, now):
            return None
        stopped = self.check.stop(chat.check, now=now)
        return stopped if isinstance(stopped, State) else None

    def start(self, chat: ChatState, now: float) -> Turn:
        """/check or a request for it: a running check continues where it was, otherwise a
        new one starts; either way its question is sent again at the bottom of the chat."""
        if self.check is None:
            return Turn(chat, stale=True)
        state = chat.check if self.running(chat, now) and chat.check else self.check.start(now)
        return Turn(replace(chat, check=state), check=self.check.render(state))

    # -- typed messages ------------------------------------------------------------------------

    def _text(self, chat: ChatState, text: str, now: float) -> Turn:
        alone = self.engine.ask(text, chat.life_stage)
        typed = Typed(answer=alone)
        if self.check is not None:
            typed = self.check.read_typed(chat.check, text, alone, now)
        after = self._stepped(chat, typed.step)
        finished = finished_now(chat.check, after.check)
        turn = Turn(after, typed.step, typed.hint, typed.detach, finished=finished)
        if typed.answer is None:  # the check took the message
            return turn
        dialogue, answer = after.dialogue, typed.answer
        if self.engine.followups is not None:
            dialogue, answer = self.engine.followups.follow(
                after.dialogue, text, alone, now, shown=answer, life_stage=after.life_stage
            )
        meal = after.meal
        if answer.intent == intake.INTENT:
            meal = (dialogue.meal if dialogue else None) or text
        after = replace(after, dialogue=dialogue, meal=meal)
        if answer.kind is ReplyKind.start_check and self.check is not None:
            started = self.start(after, now)
            return replace(started, step=turn.step, hint=turn.hint, finished=turn.finished)
        return replace(turn, state=after, answer=answer)

    # -- buttons -------------------------------------------------------------------------------

    def _press(self, chat: ChatState, action: str, now: float) -> Turn:
        if action.startswith("q:") and self.check is not None:
            step = self.check.handle_action(chat.check, action, now)
            after = self._stepped(chat, step)
            return Turn(after, step=step, finished=finished_now(chat.check, after.check))
        stage = self._stage(action)
        if stage is not None:
            return self._life_stage(replace(chat, life_stage=stage), stage)
        engine = self.engine
        reply = engine.act(action, meal=chat.meal, life_stage=chat.life_stage)
        if reply is None:
            return Turn(chat, stale=True)
        if views.parse(action) is not None:  # More / Sources: the pressed message changes
            return Turn(chat, answer=reply, in_place=True)
        if engine.followups is not None:
            dialogue, reply = engine.followups.pressed(chat.dialogue, reply, now)
            chat = replace(chat, dialogue=dialogue)
        if reply.kind is ReplyKind.start_check and self.check is not None:
            return self.start(chat, now)
        return Turn(chat, answer=reply)

    def _life_stage(self, chat: ChatState, stage: str) -> Turn:
        """A life-stage button: the last meal counted again for it, or the stage confirmed."""
        reply = self.engine.count_intake(chat.meal, stage) if chat.meal else None
        if reply is not None:
            return Turn(chat, answer=reply)
        tools = self.engine.tools
        found = tools.intake.stage(stage) if tools is not None else None
        label = html.escape(found.label if found else stage)
        saved = Reply(self.engine.message(LIFE_STAGE_SAVED, stage=label), ReplyKind.answer)
        return Turn(chat, answer=saved)

    def _stage(self, action: str) -> str | None:
        tools = self.engine.tools
        return intake.stage_from_action(action, tools.intake) if tools is not None else None

    @staticmethod
    def _stepped(chat: ChatState, step: Transition | None) -> ChatState:
        if step is None or step.state is None:
            return chat
        return replace(chat, check=step.state)


def finished_now(before: State | None, after: State | None) -> bool:
    """The check reached its result just now (not: it was finished already)."""
    if after is None or after.status is not Status.finished:
        return False
    return before is None or before.status is not Status.finished
