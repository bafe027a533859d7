"""The Telegram handlers: thin glue between updates, the engine and storage.

Every update first passes `gate` (handler group -1): it drops what is not for this bot
(in groups: anything but our commands, mentions and replies to our messages; edited messages
everywhere — the original was already answered), applies flood protection, and records the
user. The handlers in group 0 then only deal with updates worth an answer.

Bookkeeping writes (the user record, the message log, the last meal) are best effort: when
the database refuses writes (`StorageUnavailable`, logged once by the storage) a question is
still answered. Writes the user asked for (a check answer, a life stage, /forget) are not:
their failure reaches `errors.on_error`, which tells the user it could not be saved.
"""

from __future__ import annotations

import contextlib
import html
import logging
import re

from telegram import (
    Bot,
    CallbackQuery,
    Chat,
    ChatMemberUpdated,
    InlineQueryResultArticle,
    InputTextMessageContent,
    LinkPreviewOptions,
    MessageEntity,
    Update,
    User,
)
from telegram.constants import ChatMemberStatus, ChatType, ParseMode
from telegram.error import BadRequest
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot.core import views
from bot.core.commands import INTENT_COMMANDS
from bot.core.conversation import Dialogue
from bot.core.reply import Reply, ReplyKind
from bot.core.tools import intake
from bot.core.turn import ChatState, Press, Text, Turn
from bot.storage import StorageUnavailable
from bot.telegram import callbacks, check, inline, texts
from bot.telegram.deps import deps
from bot.telegram.flood import Verdict
from bot.telegram.send import acknowledge, menu_markup, send_html, send_reply, show_in_place

log = logging.getLogger(__name__)

Context = ContextTypes.DEFAULT_TYPE

_GROUPS = (ChatType.GROUP, ChatType.SUPERGROUP)
INLINE_CACHE_SECONDS = 300  # answers change only with a content release


# -- the gate ---------------------------------------------------------------------------------


def _command(text: str | None, entities: tuple[MessageEntity, ...]) -> tuple[str, str] | None:
    """("start", "somebot") for "/start@SomeBot …", ("start", "") for a bare command."""
    if not text or not entities:
        return None
    first = entities[0]
    if first.type != MessageEntity.BOT_COMMAND or first.offset != 0:
        return None
    name, _, target = text[1 : first.length].partition("@")
    return name.lower(), target.lower()


def _mentions_me(update: Update, bot: Bot) -> bool:
    message = update.message
    assert message is not None  # noqa: S101
    username = f"@{bot.username}".lower()
    for entity, text in message.parse_entities(
        [MessageEntity.MENTION, MessageEntity.TEXT_MENTION]
    ).items():
        if entity.type == MessageEntity.MENTION and text.lower() == username:
            return True
        if entity.type == MessageEntity.TEXT_MENTION and entity.user and entity.user.id == bot.id:
            return True
    return False


def addressed_to_me(update: Update, bot: Bot) -> bool:
    """Whether this bot should act on the update at all."""
    if update.callback_query is not None or update.inline_query is not None:
        return True  # a press on one of our own messages, or "@bot …" typed to us
    message = update.message  # None for edited messages, channel posts, …: ignored
    if message is None or message.from_user is None or message.from_user.is_bot:
        return False
    if message.chat.type == ChatType.PRIVATE:
        return True
    if message.chat.type not in _GROUPS:
        return False
    command = _command(message.text, message.entities)
    if command is not None:
        name, target = command
        if target:
            return target == (bot.username or "").lower()
        return name in texts.ADMIN_COMMANDS  # a bare command only if it is one of ours
    if _mentions_me(update, bot):
        return True
    replied = message.reply_to_message
    return replied is not None and replied.from_user is not None and replied.from_user.id == bot.id


def _who(update: Update) -> tuple[Chat, User]:
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None:
        raise ApplicationHandlerStop
    return chat, user


async def gate(update: object, context: Context) -> None:
    """Taps on the check's buttons count against their own, much higher flood limit; a press
    over a limit is still answered (a "slow down" toast), so no button is left spinning."""
    if not isinstance(update, Update) or not addressed_to_me(update, context.bot):
        raise ApplicationHandlerStop
    if update.inline_query is not None:
        await _gate_inline(update, context)
        return
    user, query = update.effective_user, update.callback_query
    if user is None or (query is None and update.effective_chat is None):
        raise ApplicationHandlerStop
    d = deps(context)
    tap = query is not None and callbacks.parse(query.data).kind is callbacks.Kind.check
    verdict = d.flood.check(user.id, tap=tap)
    if verdict is not Verdict.allow:
        if verdict is Verdict.warn:
            log.info("user %s is flooding; silenced until the burst ends", user.id)
        if query is not None:
            await acknowledge(query, d.text(texts.SLOW_DOWN_TAP))
        elif verdict is Verdict.warn and update.effective_chat is not None:
            await send_html(context.bot, update.effective_chat.id, d.text(texts.SLOW_DOWN))
        raise ApplicationHandlerStop
    with contextlib.suppress(StorageUnavailable):
        await d.storage.touch_user(user.id, user.language_code)


async def _gate_inline(update: Update, context: Context) -> None:
    """Inline queries have no chat to warn in: a flooding user just gets no results."""
    user = update.effective_user
    if user is None or deps(context).flood.check(user.id) is not Verdict.allow:
        raise ApplicationHandlerStop
    with contextlib.suppress(StorageUnavailable):
        await deps(context).storage.touch_user(user.id, user.language_code)


async def on_my_chat_member(update: Update, context: Context) -> None:
    """A private chat's member update tells us the user blocked (or unblocked) the bot."""
    change: ChatMemberUpdated | None = update.my_chat_member
    if change is not None and change.chat.type == ChatType.PRIVATE:
        status = change.new_chat_member.status
        blocked = status in (ChatMemberStatus.BANNED, ChatMemberStatus.LEFT)
        with contextlib.suppress(StorageUnavailable):
            await deps(context).storage.set_blocked(change.from_user.id, blocked)
        log.info("user %s %s the bot", change.from_user.id, "blocked" if blocked else "unblocked")
    raise ApplicationHandlerStop


# -- replying ---------------------------------------------------------------------------------


def _reply_to(update: Update) -> int | None:
    """In groups, quote the message we answer; in a private chat it is obvious."""
    message = update.message
    if message is not None and message.chat.type in _GROUPS:
        return message.message_id
    return None


async def respond(
    update: Update,
    context: Context,
    reply: Reply,
    *,
    question: str | None = None,
    suffix: str = "",
) -> None:
    """Send an engine reply; the start_check reply (/check) hands over to the B12 check."""
    chat, user = _who(update)
    if reply.kind is ReplyKind.start_check:
        running = await check.load(update, context)
        d = deps(context)
        await check.open_check(running, d.turns.start(ChatState(check=running.state), d.clock()))
        return
    await send_reply(
        context.bot,
        deps(context).storage,
        reply,
        chat_id=chat.id,
        user_id=user.id,
        question=question,
        reply_to=_reply_to(update),
        suffix=suffix,
    )


async def _say(update: Update, context: Context, key: str, **values: str) -> None:
    chat, _ = _who(update)
    await send_html(
        context.bot, chat.id, deps(context).text(key, **values), reply_to=_reply_to(update)
    )


async def _log(update: Update, context: Context, kind: str, intent: str | None = None) -> None:
    """Count the message for /stats; best effort, so an outage never costs an answer."""
    chat, user = _who(update)
    with contextlib.suppress(StorageUnavailable):
        await deps(context).storage.log_message(user.id, chat.id, kind, intent)


# -- commands ---------------------------------------------------------------------------------


async def on_start(update: Update, context: Context) -> None:
    chat, _ = _who(update)
    d = deps(context)
    await _log(update, context, "command", "start")
    text = f"{d.text(texts.WELCOME)}\n\n{d.text(texts.DISCLAIMER)}"
    await send_html(
        context.bot, chat.id, text, markup=menu_markup(d.engine), reply_to=_reply_to(update)
    )


async def on_intent_command(update: Update, context: Context) -> None:
    """/help /check /foods /causes /remedies /about: the engine's answer for that topic."""
    message = update.message
    assert message is not None  # noqa: S101 - the gate passes commands as messages only
    command = _command(message.text, message.entities)
    name = command[0] if command else ""
    await _log(update, context, "command", name)
    d = deps(context)
    reply = d.engine.act(INTENT_COMMANDS.get(name, ""))
    if reply is None:
        log.warning("content has no answer for /%s", name)
        await _say(update, context, texts.UNKNOWN_COMMAND)
        return
    if name == "help":  # the commands follow the whole answer: nothing behind More
        await respond(update, context, views.whole(reply), suffix=d.text(texts.HELP_COMMANDS))
        return
    await respond(update, context, reply)


def _command_text(update: Update) -> str:
    """What follows the command: "/intake 3 oz salmon" → "3 oz salmon"."""
    message = update.message
    if message is None or not message.text or not message.entities:
        return ""
    return message.text[message.entities[0].length :].strip()


async def on_intake(update: Update, context: Context) -> None:
    """/intake <meal>: always read as a meal, counted against the user's stored life stage."""
    _, user = _who(update)
    await _log(update, context, "command", "intake")
    text = _command_text(update)
    d = deps(context)
    reply = d.engine.count_intake(text, await d.storage.get_life_stage(user.id)) if text else None
    if reply is None:
        await _say(update, context, texts.INTAKE_USAGE)
        return
    with contextlib.suppress(StorageUnavailable):  # only for re-counting: best effort
        await d.storage.save_last_meal(user.id, text)
    await respond(update, context, reply)


async def on_privacy(update: Update, context: Context) -> None:
    await _log(update, context, "command", "privacy")
    await _say(update, context, texts.PRIVACY)


async def on_forget(update: Update, context: Context) -> None:
    _, user = _who(update)
    await deps(context).storage.forget_user(user.id)  # and log nothing about it afterwards
    log.info("forgot user %s on request", user.id)
    await _say(update, context, texts.FORGET_DONE)


async def on_result(update: Update, context: Context) -> None:
    await _log(update, context, "command", "result")
    await check.show_result(update, context)


async def on_cancel(update: Update, context: Context) -> None:
    await _log(update, context, "command", "cancel")
    stopped = await check.cancel(update, context)
    await _say(update, context, texts.CANCEL_DONE if stopped else texts.CANCEL_NOTHING)


async def on_stats(update: Update, context: Context) -> None:
    _, user = _who(update)
    d = deps(context)
    if user.id not in d.admin_ids:
        await on_unknown_command(update, context)
        return
    await _log(update, context, "command", "stats")
    stats = await d.storage.stats()
    share = stats.answered_share
    answered = (
        f"{share:.0%} ({stats.answered_7d} of {stats.questions_7d})"
        if share is not None
        else d.text(texts.STATS_NO_QUESTIONS)
    )
    lines = [
        f"{n}. {html.escape(_shorten(text))} ×{count}"
        for n, (text, count) in enumerate(stats.top_unanswered, start=1)
    ]
    await _say(
        update,
        context,
        texts.STATS,
        users=str(stats.users),
        blocked=str(stats.blocked_users),
        today=str(stats.messages_today),
        week=str(stats.messages_7d),
        answered=answered,
        unanswered="\n".join(lines) or d.text(texts.STATS_NO_UNANSWERED),
    )


def _shorten(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


async def on_unknown_command(update: Update, context: Context) -> None:
    await _log(update, context, "command", None)
    await _say(update, context, texts.UNKNOWN_COMMAND)


# -- messages ---------------------------------------------------------------------------------


def _without_mention(text: str, username: str | None) -> str:
    if not username:
        return text
    return re.sub(rf"@{re.escape(username)}\b", " ", text, flags=re.IGNORECASE).strip()


async def on_text(update: Update, context: Context) -> None:
    """A typed message: the state loaded once, one `Turns.turn`, what changed saved, then
    shown — the check's step first, then the answer (or the check's question)."""
    message = update.message
    assert message is not None and message.text is not None  # noqa: S101 - filters.TEXT
    text = _without_mention(message.text, context.bot.username)
    chat, user = _who(update)
    d = deps(context)
    running = await check.load(update, context)
    stored = None
    with contextlib.suppress(StorageUnavailable):  # best effort: then answered on its own
        stored = Dialogue.from_dict(await d.storage.load_dialogue(user.id, chat.id))
    before = ChatState(stored, running.state, await d.storage.get_life_stage(user.id))
    turn = d.turns.turn(before, Text(text), d.clock())
    await check.present(running, turn)
    if turn.answer is None and turn.check is None:  # an answer to the running B12 check
        await _log(update, context, "check")
        return
    after = turn.state
    if after.dialogue is not None and after.dialogue != stored:
        with contextlib.suppress(StorageUnavailable):
            await d.storage.save_dialogue(user.id, chat.id, after.dialogue.to_dict())
    reply = turn.answer
    if reply is None:  # the check was asked for
        await _log(update, context, ReplyKind.start_check.value, "start_check")
        await check.open_check(running, turn)
        return
    await _log(update, context, reply.kind.value, reply.intent)
    if reply.intent == intake.INTENT and after.meal:
        with contextlib.suppress(StorageUnavailable):  # for the life-stage buttons
            await d.storage.save_last_meal(user.id, after.meal)
    await respond(update, context, reply, question=text)


async def _press(update: Update, context: Context, action: str) -> Turn:
    """A button for the engine (an answer, a food, a life stage, More or Sources), as one
    `Turns.turn` over what of the chat's stored state the press reads: the dialogue (More and
    Sources leave it alone), and the last meal (and its life stage) only to count a meal."""
    chat, user = _who(update)
    d = deps(context)
    stage_press = action.startswith(f"{callbacks.STAGE_PREFIX}:")
    view = callbacks.parse(action).kind is callbacks.Kind.view
    stored = life_stage = meal = None
    with contextlib.suppress(StorageUnavailable):  # best effort: a card is shown without them
        if not view:
            stored = Dialogue.from_dict(await d.storage.load_dialogue(user.id, chat.id))
        if stage_press or callbacks.counts_a_meal(action):
            meal = await d.storage.last_meal(user.id)
        if callbacks.counts_a_meal(action):
            life_stage = await d.storage.get_life_stage(user.id)
    turn = d.turns.turn(ChatState(stored, None, life_stage, meal), Press(action), d.clock())
    after = turn.state
    if after.life_stage != life_stage and after.life_stage is not None:
        await d.storage.set_life_stage(user.id, after.life_stage)
    if after.dialogue is not None and after.dialogue != stored:
        with contextlib.suppress(StorageUnavailable):
            await d.storage.save_dialogue(user.id, chat.id, after.dialogue.to_dict())
    return turn


async def on_other_message(update: Update, context: Context) -> None:
    """Stickers, photos, voice, documents, locations, …"""
    await _log(update, context, "non_text")
    await _say(update, context, texts.TEXT_ONLY)


# -- buttons ----------------------------------------------------------------------------------


async def on_button(update: Update, context: Context) -> None:
    query = update.callback_query
    assert query is not None  # noqa: S101 - registered as a CallbackQueryHandler
    press = callbacks.parse(query.data)
    if update.effective_chat is None:
        await acknowledge(query)
        return  # a press on an inline-mode message: there is no chat to answer in
    if press.kind is callbacks.Kind.check:
        await check.handle_button(update, context, press.data)  # answers the query itself
        return
    if press.kind is callbacks.Kind.view:
        await _show_view(update, context, press.data)  # answers the query itself
        return
    await acknowledge(query)
    chat, user = _who(update)
    d = deps(context)
    if press.kind in (callbacks.Kind.engine, callbacks.Kind.life_stage):
        is_engine = press.kind is callbacks.Kind.engine
        action = press.data if is_engine else f"{callbacks.STAGE_PREFIX}:{press.data}"
        turn = await _press(update, context, action)
        if turn.check is not None:  # "Check my cramps": the running check, if there is one
            running = await check.load(update, context)
            started = d.turns.start(ChatState(check=running.state), d.clock())
            await check.open_check(running, started)
            return
        if turn.answer is not None:
            await respond(update, context, turn.answer)
            return
    elif press.kind is callbacks.Kind.none_of_these and press.pending_id is not None:
        pending = await d.storage.take_pending_question(press.pending_id, chat.id)
        if pending is not None:
            await d.storage.record_unanswered(pending.user_id, pending.text, pending.best_score)
            await _remove_keyboard(query)
            await send_html(context.bot, chat.id, d.text(texts.NONE_RECORDED))
            return
    log.info("stale or unknown button from user %s: %r", user.id, press.data)
    await send_html(context.bot, chat.id, d.text(texts.BUTTON_STALE))


async def _show_view(update: Update, context: Context, action: str) -> None:
    """More / Sources: the pressed message shows the whole reply or its sources. A day's B12
    is counted again from the user's last meal; a view the engine cannot show any more (an
    earlier meal, a forged press) gets a toast."""
    query = update.callback_query
    assert query is not None  # noqa: S101 - on_button's
    chat, user = _who(update)
    d = deps(context)
    turn = await _press(update, context, action)
    if turn.answer is None or not turn.in_place:
        log.info("stale or unknown view from user %s: %r", user.id, action)
        await acknowledge(query, d.text(texts.VIEW_STALE))
        return
    await acknowledge(query)
    await show_in_place(
        context.bot, d.storage, turn.answer, chat_id=chat.id, user_id=user.id, message=query.message
    )


async def _remove_keyboard(query: CallbackQuery) -> None:
    """The question is recorded: take the buttons off so it is not recorded twice."""
    try:
        await query.edit_message_reply_markup(reply_markup=None)
    except BadRequest as error:  # message too old, or already without buttons
        log.debug("could not remove keyboard: %s", error)


# -- inline mode ------------------------------------------------------------------------------


async def on_inline_query(update: Update, context: Context) -> None:
    """`@bot salmon`: answer cards from the engine, cached here and by Telegram."""
    query = update.inline_query
    assert query is not None  # noqa: S101 - registered as an InlineQueryHandler
    d = deps(context)
    key = inline.query_key(query.query)
    popular = d.text(texts.INLINE_POPULAR)
    cards = d.inline_cache.get(key, lambda: inline.search(d.engine, key, popular))
    footer = d.text(texts.INLINE_FOOTER, username=context.bot.username or "")
    results = []
    for card in cards:
        text = inline.with_footer(card, footer)
        if text is None:
            continue
        content = InputTextMessageContent(
            text,
            parse_mode=ParseMode.HTML,
            link_preview_options=LinkPreviewOptions(is_disabled=True),
        )
        results.append(
            InlineQueryResultArticle(card.id, card.title, content, description=card.description)
        )
    await query.answer(results, cache_time=INLINE_CACHE_SECONDS, is_personal=False)
