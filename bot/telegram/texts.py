"""The Telegram window's interface texts: keys into content/messages/telegram.yaml.

Texts are content, not code; this module only names the keys, checks at start-up that they
all exist (a missing text would otherwise surface as an exception mid-conversation), and
describes the command menu and main menu in terms of those keys.
"""

from __future__ import annotations

from bot.core.commands import MAIN_MENU
from bot.core.engine import Engine

WELCOME = "tg_welcome"
DISCLAIMER = "tg_disclaimer"
HELP_COMMANDS = "tg_help_commands"
TEXT_ONLY = "tg_text_only"
SLOW_DOWN = "tg_slow_down"
SLOW_DOWN_TAP = "tg_slow_down_tap"  # the toast of a press over the flood limit
SOMETHING_WRONG = "tg_something_wrong"
CANNOT_SAVE = "tg_cannot_save"
UNKNOWN_COMMAND = "tg_unknown_command"
BUTTON_STALE = "tg_button_stale"
VIEW_STALE = "tg_view_stale"
NONE_RECORDED = "tg_none_recorded"
PRIVACY = "tg_privacy"
FORGET_DONE = "tg_forget_done"
CANCEL_DONE = "tg_cancel_done"
CANCEL_NOTHING = "tg_cancel_nothing"
RESULT_NONE = "tg_result_none"
STATS = "tg_stats"
STATS_NO_QUESTIONS = "tg_stats_no_questions"
STATS_NO_UNANSWERED = "tg_stats_no_unanswered"
INTAKE_USAGE = "tg_intake_usage"
LIFE_STAGE_SAVED = "tg_life_stage_saved"
INLINE_POPULAR = "tg_inline_popular"
INLINE_FOOTER = "tg_inline_footer"

#: The main menu under /start: (label key, engine action), two buttons a row.
#: Commands shown in Telegram's menu, in order. /stats is registered for admins only.
PUBLIC_COMMANDS: tuple[str, ...] = (
    "start",
    "help",
    "check",
    "result",
    "foods",
    "intake",
    "causes",
    "remedies",
    "about",
    "privacy",
    "forget",
    "cancel",
)
ADMIN_COMMANDS: tuple[str, ...] = (*PUBLIC_COMMANDS, "stats")


def command_key(command: str) -> str:
    return f"tg_cmd_{command}"


def required_keys() -> list[str]:
    keys = [value for name, value in globals().items() if name.isupper() and isinstance(value, str)]
    keys += [label for label, _ in MAIN_MENU]
    keys += [command_key(c) for c in ADMIN_COMMANDS]
    return keys


def missing_texts(engine: Engine) -> list[str]:
    """Keys this window needs that the content does not define."""
    missing = []
    for key in required_keys():
        try:
            engine.message(key)
        except KeyError:
            missing.append(key)
    return missing
