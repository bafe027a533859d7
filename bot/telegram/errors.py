"""What happens when handling an update fails.

- The user blocked the bot (Forbidden in a private chat): mark them blocked, nothing else.
- Network trouble (timeouts, 5xx, connection errors, RetryAfter) that outlasted the rate
  limiter's retries (bot/telegram/retry.py: up to 10 minutes, less for short-lived answers
  or when the bot is stopping): log one warning and carry on — the next update will work.
- The database refuses writes (read-only, disk full): tell the user their answer could not
  be saved. The storage already logged the outage once; logging every update would flood
  the log during an outage.
- Anything else is a bug: log it once, with the update id and traceback, and tell the user
  "something went wrong" so they are not left waiting.
The handler then stops the update's other handlers, so a failed update gets no second reply.
"""

from __future__ import annotations

import contextlib
import logging

from telegram import Update
from telegram.constants import ChatType
from telegram.error import Forbidden, TelegramError
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot.storage import StorageUnavailable
from bot.telegram import texts
from bot.telegram.deps import deps
from bot.telegram.retry import is_transient
from bot.telegram.send import send_html

log = logging.getLogger(__name__)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    error = context.error
    update_id = update.update_id if isinstance(update, Update) else None
    chat = update.effective_chat if isinstance(update, Update) else None
    user = update.effective_user if isinstance(update, Update) else None

    if isinstance(error, Forbidden):
        if user is not None and chat is not None and chat.type == ChatType.PRIVATE:
            with contextlib.suppress(StorageUnavailable):  # best effort: logged by storage
                await deps(context).storage.set_blocked(user.id, True)
            log.info("update %s: user %s has blocked the bot", update_id, user.id)
        else:
            log.info("update %s: not allowed to write to chat: %s", update_id, error)
    elif is_transient(error):
        log.warning("update %s: network error: %s", update_id, error)
    elif isinstance(error, StorageUnavailable):
        log.debug("update %s: not saved, the database refuses writes: %s", update_id, error)
        if chat is not None:
            try:
                await send_html(context.bot, chat.id, deps(context).text(texts.CANNOT_SAVE))
            except TelegramError as send_error:
                log.warning("update %s: could not tell the user: %s", update_id, send_error)
    else:
        log.error("update %s failed: %r", update_id, error, exc_info=error)
        if chat is not None:
            try:
                await send_html(context.bot, chat.id, deps(context).text(texts.SOMETHING_WRONG))
            except TelegramError as send_error:
                log.warning("update %s: could not tell the user: %s", update_id, send_error)
    if isinstance(update, Update):
        if update.callback_query is not None:
            # Every press is acknowledged, even one whose handling failed early.
            with contextlib.suppress(TelegramError):
                await update.callback_query.answer()
        raise ApplicationHandlerStop


def on_polling_error(error: TelegramError) -> None:
    """getUpdates failed; the updater retries by itself. One line, no traceback."""
    log.warning("polling for updates failed (will retry): %s", error)
