"""The B12 check (issue 4) in the Telegram window: one message per check, edited in place.

The check itself is the pure state machine in `bot.core.check`; this module reads its
state from storage on every update and writes it on every step — *before* the message is
edited, so a crash between the two loses no answer (the old buttons are then merely stale,
and a stale tap shows the current question). ConversationHandler persistence is not used
because it only writes every minute and at shutdown.

Where a step is shown:
- taps and typed answers edit the *check message* (`Session.message_id`) in place;
- a free-text question mid-check gets its normal answer plus "Continue the check", and the
  check message loses its buttons (it is detached: message id None); the next step is then
  sent as a new check message at the bottom of the chat, so only one message ever carries
  live answer buttons;
- the doctor summary and the "expired" notice are new messages; a tap on a check that no
  longer exists is answered "this check has ended — /check to start again".

What a message or a press does is decided by `bot.core.turn` (the order every window
shares); this module shows a `Turn`'s check parts: `present` (its step, hint and detach,
before the answer is sent) and `open` (the check's question in a new message). The hooks
`load`, `handle_button`, `cancel` and `show_result` are called by `bot.telegram.handlers`.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatType
from telegram.ext import ContextTypes

from bot.core.check import Outcome, State, Status, Transition
from bot.core.reply import Button, Reply
from bot.core.turn import ChatState, Press, Turn, finished_now
from bot.storage import StorageUnavailable
from bot.telegram import texts
from bot.telegram.deps import Deps, deps
from bot.telegram.send import acknowledge, edit_html, layout, remove_keyboard, send_html

log = logging.getLogger(__name__)

Context = ContextTypes.DEFAULT_TYPE

#: /result's "Summary for my doctor": the summary stored with the last result. (The check's
#: own summary button names its check, so it stops working once a new check starts.)
LAST_SUMMARY = "q:last:sum"
_CONTROLS = frozenset({"back", "why", "stop"})


def markup(buttons: Sequence[Button]) -> InlineKeyboardMarkup | None:
    """Answers two short ones a row, as elsewhere; Back, Why? and Stop share the last row."""
    controls = [b for b in buttons if b.action.rsplit(":", 1)[-1] in _CONTROLS]
    answers = [b for b in buttons if b not in controls]
    grid = layout([InlineKeyboardButton(b.label, callback_data=b.action) for b in answers])
    rows = [list(row) for row in grid.inline_keyboard] if grid else []
    if controls:
        rows.append([InlineKeyboardButton(b.label, callback_data=b.action) for b in controls])
    return InlineKeyboardMarkup(rows) if rows else None


class _Check:
    """One user's check in one chat: its stored state and the message that shows it."""

    def __init__(self, context: Context, chat_id: int, user_id: int, *, private: bool) -> None:
        self.d: Deps = deps(context)
        self.bot: Bot = context.bot
        self.chat_id, self.user_id = chat_id, user_id
        self.private = private  # in a group, others may tap someone's check: stay quiet
        self.state: State | None = None
        self.message_id: int | None = None

    @classmethod
    async def load(cls, update: Update, context: Context) -> _Check:
        chat, user = update.effective_chat, update.effective_user
        assert chat is not None and user is not None  # noqa: S101 - the gate lets no other through
        check = cls(context, chat.id, user.id, private=chat.type == ChatType.PRIVATE)
        session = await check.d.storage.load_session(user.id, chat.id)
        if session is None:
            return check
        state = check.d.check.restore(session.state)
        if state is None:  # saved by another version of the content: it cannot continue
            log.info("dropping a stored check of user %s that no longer fits", user.id)
            await check.d.storage.delete_session(user.id, chat.id)
            await remove_keyboard(check.bot, chat.id, session.message_id)
            return check
        check.state, check.message_id = state, session.message_id
        return check

    async def save(self, state: State, message_id: int | None) -> None:
        """Write the state (and a new result first, so a crash cannot lose it)."""
        if finished_now(self.state, state):
            result = self.d.check.result(state).to_dict() | {"token": state.token}
            await self.d.storage.add_result(self.user_id, result)
        await self.d.storage.save_session(self.user_id, self.chat_id, state.to_dict(), message_id)
        self.state, self.message_id = state, message_id

    async def send(self, reply: Reply) -> Message:
        return await send_html(self.bot, self.chat_id, reply.text, markup=markup(reply.buttons))

    async def show(self, reply: Reply, *, in_place: bool) -> None:
        """Edit the check message, or send a new one (and make it the check message) when the
        check is detached, the tap came from another message, or the edit was refused."""
        current = self.message_id
        keyboard = markup(reply.buttons)
        if in_place and current is not None:
            if await edit_html(self.bot, self.chat_id, current, reply.text, keyboard):
                return
        else:
            await remove_keyboard(self.bot, self.chat_id, current)
        message = await self.send(reply)
        if self.state is not None:
            await self.save(self.state, message.message_id)

    async def apply(self, step: Transition, *, in_place: bool) -> None:
        """Persist a step, then show it."""
        if step.outcome is Outcome.expired and step.state is not None:
            shown = self.message_id
            await self.save(step.state, None)
            await remove_keyboard(self.bot, self.chat_id, shown)
            await self.send(step.reply)  # "This check expired after 24 hours …"
            return
        if step.state is not None and step.state != self.state:
            await self.save(step.state, self.message_id)
        if step.new_message:  # the doctor summary
            await self.send(step.reply)
        elif _ended(step):  # the toast says it too; in a group, only the toast
            if self.private:
                await self.send(step.reply)  # "This check has ended — /check to start again."
        else:
            await self.show(step.reply, in_place=in_place)

    async def detach(self) -> None:
        """The chat moves on (a question was asked): the next step goes in a new message."""
        if self.state is not None and self.message_id is not None:
            await remove_keyboard(self.bot, self.chat_id, self.message_id)
            # Best effort: if this is not saved, the next answer edits the old message in
            # place instead; the user's question still gets its answer during an outage.
            with contextlib.suppress(StorageUnavailable):
                await self.save(self.state, None)


def _ended(step: Transition) -> bool:
    """A press that belongs to no live check (another check's, or one that is over)."""
    live = step.state is not None and step.state.status in (Status.active, Status.finished)
    return step.outcome is Outcome.ended or (step.outcome is Outcome.invalid and not live)


def _only_check_buttons(message: object) -> bool:
    keyboard = getattr(message, "reply_markup", None)
    rows = keyboard.inline_keyboard if isinstance(keyboard, InlineKeyboardMarkup) else ()
    data = [button.callback_data for row in rows for button in row]
    return bool(data) and all(isinstance(d, str) and d.startswith("q:") for d in data)


async def load(update: Update, context: Context) -> _Check:
    """This chat's check: its stored state and the message that shows it."""
    return await _Check.load(update, context)


async def present(check: _Check, turn: Turn) -> None:
    """A turn's check parts that come before its answer: persist and show the step (an
    answer, a command, "this check expired"), show the hint on the check message, and take
    the check message's buttons off when the chat moved on."""
    if turn.step is not None:
        await check.apply(turn.step, in_place=True)
    if turn.hint is not None:
        await check.show(turn.hint, in_place=True)
    if turn.detach:
        await check.detach()


async def open_check(check: _Check, turn: Turn) -> None:
    """The check was asked for (/check, the button, "start the check"): its question in a new
    message at the bottom of the chat — the running check where it was, or a new one."""
    state = turn.state.check
    if turn.check is None or state is None:
        return
    if state != check.state:
        await remove_keyboard(check.bot, check.chat_id, check.message_id)
        await check.save(state, None)
        log.info("user %s started a check", check.user_id)
    await check.show(turn.check, in_place=False)


async def handle_button(update: Update, context: Context, data: str) -> None:
    """Every `q:` press, forged ones included. Answers the callback query itself, so the
    engine's notice ("that button was from an earlier question") can be its toast."""
    query = update.callback_query
    assert query is not None  # noqa: S101 - called for callback queries only
    check = await _Check.load(update, context)
    if data == LAST_SUMMARY:
        await acknowledge(query)
        await _send_last_summary(check)
        return
    turn = check.d.turns.turn(ChatState(check=check.state), Press(data), check.d.clock())
    step = turn.step
    assert step is not None  # noqa: S101 - every q: press is the check's
    await acknowledge(query, step.notice)
    pressed = query.message.message_id if query.message is not None else None
    await check.apply(step, in_place=pressed is not None and pressed == check.message_id)
    if _ended(step) and check.private and pressed and _only_check_buttons(query.message):
        await remove_keyboard(check.bot, check.chat_id, pressed)  # nothing there works now


async def cancel(update: Update, context: Context) -> bool:
    """/cancel: stop the running check in this chat; True when there was one."""
    check = await _Check.load(update, context)
    stopped = check.d.turns.cancel(ChatState(check=check.state), check.d.clock())
    if stopped is None:
        return False
    shown = check.message_id
    await check.save(stopped, shown)
    if shown is not None:  # a detached check has no message to update
        await check.show(check.d.check.render(stopped), in_place=True)
    return True


async def show_result(update: Update, context: Context) -> None:
    """/result: the last finished check's result again, with its doctor summary button."""
    check = await _Check.load(update, context)
    latest = await check.d.storage.latest_result(check.user_id)
    text = latest.result.get("text") if latest else None
    if not isinstance(text, str) or not text:
        await send_html(check.bot, check.chat_id, check.d.text(texts.RESULT_NONE))
        return
    summary = latest is not None and bool(latest.result.get("summary"))
    buttons = [Button(check.d.check.ui.button_summary, LAST_SUMMARY)] if summary else []
    await send_html(check.bot, check.chat_id, text, markup=markup(buttons))


async def _send_last_summary(check: _Check) -> None:
    latest = await check.d.storage.latest_result(check.user_id)
    summary = latest.result.get("summary") if latest else None
    if isinstance(summary, str) and summary:
        await send_html(check.bot, check.chat_id, summary)
    else:  # forgotten (/forget) since the result was shown
        await send_html(check.bot, check.chat_id, check.d.text(texts.RESULT_NONE))
