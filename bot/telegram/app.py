"""Building the python-telegram-bot Application: transport, limits and handler table.

Everything Telegram-specific about *how* updates flow is decided here: the Bot API URL
(Telegram, a self-hosted Bot API server, or the test suite's fake), AIORateLimiter for
Telegram's outgoing limits (with retries on RetryAfter) wrapped in retries of calls that
fail while Telegram is down (bot/telegram/retry.py), per-chat serialisation with
concurrency across chats, HTML by default, and the order handlers see an update in.
"""

from __future__ import annotations

import hashlib
import logging

from telegram import BotCommand, BotCommandScopeChat, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    Defaults,
    InlineQueryHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.core.engine import Engine
from bot.settings import Settings
from bot.telegram import handlers, texts
from bot.telegram.deps import Deps
from bot.telegram.errors import on_error
from bot.telegram.retry import RetryingRateLimiter, RetryPolicy
from bot.telegram.serial import Applying, PerChatUpdateProcessor
from bot.telegram.updates import UpdatesRequest

log = logging.getLogger(__name__)

#: Update types the bot asks Telegram for. Edited messages are not among them: the original
#: message was already answered, and answering every edit again would spam the chat.
ALLOWED_UPDATES = [
    Update.MESSAGE,
    Update.CALLBACK_QUERY,
    Update.MY_CHAT_MEMBER,
    Update.INLINE_QUERY,
]
#: Updates handled at once (across chats), and HTTP connections to the Bot API: each update's
#: handler makes one call at a time, so the pool never makes a handler wait. 64 serves 500
#: busy users as fast as 256 did (benchmarks/bench_e2e.py) with ~10 MB less memory.
MAX_CONCURRENT_UPDATES = 64
RATE_LIMIT_RETRIES = 3


def build_application(
    settings: Settings, deps: Deps, *, polling: bool = True, retry: RetryPolicy | None = None
) -> Application:  # type: ignore[type-arg]
    application = bare_application(
        settings, polling=polling, retry=retry, applying=deps.storage.applying
    )
    deps.install(application.bot_data)
    add_handlers(application)
    return application


def bare_application(
    settings: Settings,
    *,
    polling: bool = True,
    retry: RetryPolicy | None = None,
    applying: Applying | None = None,
) -> Application:  # type: ignore[type-arg]
    """The Application without our handlers: transport, limits, retries, concurrency and
    defaults. The load benchmark's echo bot is built on it too, so the two compare only what
    the handlers do. `retry`: how outgoing calls are retried while Telegram is down;
    `applying`: the storage's, so each update is applied once (bot/telegram/serial.py)."""
    limiter = RetryingRateLimiter(rate_limiter(settings.telegram_max_rate), retry)
    builder = (
        ApplicationBuilder()
        .token(settings.token)
        .rate_limiter(limiter)
        .concurrent_updates(PerChatUpdateProcessor(MAX_CONCURRENT_UPDATES, applying=applying))
        .connection_pool_size(MAX_CONCURRENT_UPDATES)
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
    )
    if settings.telegram_api_base_url:
        builder = builder.base_url(settings.telegram_api_base_url)
    if settings.telegram_api_base_file_url:
        builder = builder.base_file_url(settings.telegram_api_base_file_url)
    # Polling: an update PTB cannot parse must not block all the others (bot/telegram/updates.py).
    builder = builder.get_updates_request(UpdatesRequest()) if polling else builder.updater(None)
    application = builder.build()
    # A stop (SIGTERM) ends every retry's wait: the shutdown is not held for minutes.
    limiter.stop_when(lambda: not application.running)
    return application


def rate_limiter(max_rate: float) -> AIORateLimiter:
    """Telegram's outgoing limits: `max_rate` sends/second overall (0: none), and PTB's own
    per-group limit; RetryAfter is waited out and retried."""
    return AIORateLimiter(overall_max_rate=max_rate, max_retries=RATE_LIMIT_RETRIES)


def add_handlers(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(
        ChatMemberHandler(handlers.on_my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER), group=-2
    )
    application.add_handler(TypeHandler(Update, handlers.gate), group=-1)
    application.add_handler(CommandHandler("start", handlers.on_start))
    application.add_handler(
        CommandHandler(list(handlers.INTENT_COMMANDS), handlers.on_intent_command)
    )
    application.add_handler(CommandHandler("intake", handlers.on_intake))
    application.add_handler(CommandHandler("privacy", handlers.on_privacy))
    application.add_handler(CommandHandler("forget", handlers.on_forget))
    application.add_handler(CommandHandler("result", handlers.on_result))
    application.add_handler(CommandHandler("cancel", handlers.on_cancel))
    application.add_handler(CommandHandler("stats", handlers.on_stats))
    application.add_handler(MessageHandler(filters.COMMAND, handlers.on_unknown_command))
    application.add_handler(MessageHandler(filters.TEXT, handlers.on_text))
    application.add_handler(MessageHandler(~filters.StatusUpdate.ALL, handlers.on_other_message))
    application.add_handler(CallbackQueryHandler(handlers.on_button))
    application.add_handler(InlineQueryHandler(handlers.on_inline_query))
    application.add_error_handler(on_error)


def startup_problems(engine: Engine) -> list[str]:
    """Texts and menu actions this window relies on that the content lacks."""
    problems = [f"content/messages: missing text {key!r}" for key in texts.missing_texts(engine)]
    actions = [action for _, action in texts.MAIN_MENU] + list(handlers.INTENT_COMMANDS.values())
    if texts.INLINE_POPULAR not in texts.missing_texts(engine):
        actions += engine.message(texts.INLINE_POPULAR).split()
    problems += [
        f"content: no answer for the action {action!r}"
        for action in dict.fromkeys(actions)
        if engine.act(action) is None
    ]
    return problems


def commands_fingerprint(deps: Deps, admin_ids: frozenset[int]) -> str:
    """What `register_commands` sends, hashed: replicas set the menu only when it changed."""
    names = texts.PUBLIC_COMMANDS + texts.ADMIN_COMMANDS
    menu = [(name, deps.text(texts.command_key(name))) for name in names]
    return _digest(repr((menu, sorted(admin_ids))))


def webhook_fingerprint(url: str, secret: str) -> str:
    """What setWebhook sends, hashed (the secret never stored as it is)."""
    return _digest(repr((url, secret, ALLOWED_UPDATES)))


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


async def register_commands(
    application: Application, deps: Deps, admin_ids: frozenset[int]
) -> None:  # type: ignore[type-arg]
    """Fill Telegram's command menu; admins also see /stats (in their private chat)."""

    def commands(names: tuple[str, ...]) -> list[BotCommand]:
        return [BotCommand(name, deps.text(texts.command_key(name))) for name in names]

    await application.bot.set_my_commands(commands(texts.PUBLIC_COMMANDS))
    for admin in sorted(admin_ids):
        try:
            await application.bot.set_my_commands(
                commands(texts.ADMIN_COMMANDS), scope=BotCommandScopeChat(admin)
            )
        except TelegramError as error:  # typically: the admin has not started the bot yet
            log.info("could not set admin commands for %s: %s", admin, error)
