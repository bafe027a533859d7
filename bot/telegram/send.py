"""Turning an engine `Reply` into Telegram messages, and changing messages already sent.

Replies are split to fit Telegram's limit (buttons go on the last part); "None of these" is
given a stored, short callback id that points at the original question, so the question can
be recorded when it is pressed — even after a restart; in groups the reply quotes the
message it answers. Edits tolerate what Telegram refuses for harmless reasons ("message is
not modified", a message too old to edit) so a repeated tap never becomes an error.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence

from telegram import (
    Bot,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MaybeInaccessibleMessage,
    Message,
    ReplyParameters,
)
from telegram.error import BadRequest, NetworkError, RetryAfter

from bot.core.engine import Engine
from bot.core.reply import Button, Reply, ReplyKind
from bot.storage import Storage, StorageUnavailable
from bot.telegram import callbacks, texts
from bot.telegram.split import split_html

log = logging.getLogger(__name__)

_SHORT_LABEL = 20  # two buttons fit side by side on a phone up to about this length


async def send_html(
    bot: Bot,
    chat_id: int,
    html: str,
    *,
    markup: InlineKeyboardMarkup | None = None,
    reply_to: int | None = None,
) -> Message:
    """Send `html` as one or more messages; the keyboard goes on the last one."""
    parts = split_html(html)
    message: Message | None = None
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        message = await bot.send_message(
            chat_id,
            part,
            reply_markup=markup if last else None,
            reply_parameters=(
                ReplyParameters(reply_to, allow_sending_without_reply=True)
                if reply_to is not None and index == 0
                else None
            ),
        )
    assert message is not None  # noqa: S101 - split_html never returns an empty list
    return message


def layout(buttons: Sequence[InlineKeyboardButton]) -> InlineKeyboardMarkup | None:
    """Two short buttons a row, long ones alone."""
    if not buttons:
        return None
    rows: list[list[InlineKeyboardButton]] = []
    for button in buttons:
        short = len(button.text) <= _SHORT_LABEL
        if rows and len(rows[-1]) == 1 and short and len(rows[-1][0].text) <= _SHORT_LABEL:
            rows[-1].append(button)
        else:
            rows.append([button])
    return InlineKeyboardMarkup(rows)


def menu_markup(engine: Engine) -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(engine.message(label), callback_data=action)
        for label, action in texts.MAIN_MENU
    ]
    markup = layout(buttons)
    assert markup is not None  # noqa: S101 - the menu is never empty
    return markup


async def reply_markup(
    storage: Storage,
    buttons: Sequence[Button],
    *,
    user_id: int,
    chat_id: int,
    question: str | None,
    score: float,
) -> InlineKeyboardMarkup | None:
    """The inline keyboard for a reply's buttons; stores the question behind "None of these"."""
    regular: list[InlineKeyboardButton] = []
    extra: list[InlineKeyboardButton] = []
    for button in buttons:
        if button.action == callbacks.NONE_ACTION:
            if question is None:
                continue  # nothing to record (a reply to a button, not to a typed question)
            try:
                pending = await storage.save_pending_question(user_id, chat_id, question, score)
            except StorageUnavailable:
                continue  # the database refuses writes: the answer goes out without the button
            extra.append(
                InlineKeyboardButton(button.label, callback_data=callbacks.none_of_these(pending))
            )
        elif callbacks.fits(button.action):
            regular.append(InlineKeyboardButton(button.label, callback_data=button.action))
        else:
            log.warning("dropping a button whose action is over 64 bytes: %r", button.action)
    markup = layout(regular)
    if not extra:
        return markup
    rows = [list(row) for row in markup.inline_keyboard] if markup else []
    rows += [[button] for button in extra]
    return InlineKeyboardMarkup(rows)


async def send_reply(
    bot: Bot,
    storage: Storage,
    reply: Reply,
    *,
    chat_id: int,
    user_id: int,
    question: str | None = None,
    reply_to: int | None = None,
    suffix: str = "",
) -> Message:
    """Send an engine reply with its buttons. A fallback with nothing to suggest is recorded
    for curators at once, since there is no "None of these" to press."""
    markup = await reply_markup(
        storage,
        reply.buttons,
        user_id=user_id,
        chat_id=chat_id,
        question=question,
        score=reply.score,
    )
    if (
        reply.kind is ReplyKind.fallback
        and question is not None
        and not any(b.action == callbacks.NONE_ACTION for b in reply.buttons)
    ):
        with contextlib.suppress(StorageUnavailable):  # curators' list: best effort
            await storage.record_unanswered(user_id, question, reply.score)
    text = f"{reply.text}\n\n{suffix}" if suffix else reply.text
    return await send_html(bot, chat_id, text, markup=markup, reply_to=reply_to)


async def show_in_place(
    bot: Bot,
    storage: Storage,
    reply: Reply,
    *,
    chat_id: int,
    user_id: int,
    message: MaybeInaccessibleMessage | None,
) -> None:
    """Show `reply` (a More or Sources view) in the pressed message, keeping the buttons this
    window added to it ("Continue the check"). Telegram refuses to edit some messages (too
    old, deleted): the reply then comes as a new message."""
    markup = await reply_markup(
        storage, reply.buttons, user_id=user_id, chat_id=chat_id, question=None, score=reply.score
    )
    kept = _added_buttons(message, reply)
    if kept:
        rows = [list(row) for row in markup.inline_keyboard] if markup else []
        markup = InlineKeyboardMarkup([*rows, *([b] for b in kept)])
    if isinstance(message, Message) and await edit_html(
        bot, chat_id, message.message_id, reply.text, markup
    ):
        return
    await send_html(bot, chat_id, reply.text, markup=markup)


def _added_buttons(
    message: MaybeInaccessibleMessage | None, reply: Reply
) -> list[InlineKeyboardButton]:
    """The buttons of `message` that are neither the reply's own nor one of its views."""
    if not isinstance(message, Message) or message.reply_markup is None:
        return []
    own = {b.action for b in reply.buttons}
    return [
        button
        for row in message.reply_markup.inline_keyboard
        for button in row
        if isinstance(button.callback_data, str)
        and button.callback_data not in own
        and callbacks.parse(button.callback_data).kind is not callbacks.Kind.view
    ]


async def acknowledge(query: CallbackQuery, notice: str | None = None) -> None:
    """Stop the client's spinner, with a short toast if `notice`. A press older than Telegram
    allows cannot be answered, nor one while Telegram is down (after the rate limiter's short
    retries): neither must stop us applying the press and replying to it."""
    try:
        await query.answer(notice)
    except BadRequest as error:
        log.debug("could not answer callback query: %s", error)
    except (NetworkError, RetryAfter) as error:
        log.info("could not answer callback query, going on without: %s", error)


async def edit_html(
    bot: Bot, chat_id: int, message_id: int, html: str, markup: InlineKeyboardMarkup | None
) -> bool:
    """Replace a message's text and keyboard. False when Telegram will not edit it (deleted,
    too old, too long): the caller then sends a new message instead."""
    try:
        await bot.edit_message_text(
            html, chat_id=chat_id, message_id=message_id, reply_markup=markup
        )
    except BadRequest as error:
        if "not modified" in error.message.lower():
            return True  # it already shows exactly this (a repeated or stale tap)
        log.info("could not edit message %s in chat %s: %s", message_id, chat_id, error)
        return False
    return True


async def remove_keyboard(bot: Bot, chat_id: int, message_id: int | None) -> None:
    """Take the buttons off a message, if it still has any."""
    if message_id is None:
        return
    try:
        await bot.edit_message_reply_markup(chat_id=chat_id, message_id=message_id)
    except BadRequest as error:  # already without buttons, or too old
        log.debug("could not remove keyboard of %s: %s", message_id, error)
