"""Where the B12 check (the questionnaire, issue 4) plugs into the Telegram window.

Until `bot/core/questionnaire.py` exists, "start the check" shows the engine's start_check
reply, a `q:` button is answered as an ended check, typed text is never taken as an answer,
and /cancel ends a stored session if there is one. The questionnaire issue replaces the
bodies of these four functions; handlers already call them at the right moments:

- `start`: /check, the "Check my cramps" button, or a message the engine classifies as
  start_check;
- `handle_text`: every typed message, before the engine sees it (typed answers mid-check);
- `handle_button`: every `q:` callback;
- `cancel`: /cancel.

State belongs in `Storage.save_session` / `load_session` (read on every update, written on
every answer), never only in memory.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.core.reply import Reply
from bot.telegram.deps import deps
from bot.telegram.send import send_reply


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE, reply: Reply) -> None:
    """Begin a check. For now: the start_check text and its buttons."""
    chat, user = update.effective_chat, update.effective_user
    assert chat is not None and user is not None  # noqa: S101 - the gate lets no other through
    d = deps(context)
    await send_reply(context.bot, d.storage, reply, chat_id=chat.id, user_id=user.id)


async def handle_text(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str) -> bool:
    """True when the text was an answer to a running check (and has been handled)."""
    return False


async def handle_button(update: Update, context: ContextTypes.DEFAULT_TYPE, data: str) -> bool:
    """True when a `q:` press was handled; False makes the caller say the button is stale."""
    return False


async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """End the running check in this chat; True when there was one."""
    chat, user = update.effective_chat, update.effective_user
    assert chat is not None and user is not None  # noqa: S101
    return await deps(context).storage.delete_session(user.id, chat.id)
