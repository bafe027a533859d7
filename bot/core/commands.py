"""The commands that are a window onto one engine action, shared by Telegram and the console.

`/help` `/check` `/foods` `/causes` `/remedies` `/about` each show what a button with that
action shows, so both windows answer them with the same reply.
"""

from __future__ import annotations

INTENT_COMMANDS: dict[str, str] = {
    "help": "i:help",
    "check": "i:start_check",
    "foods": "fg:menu",  # the food-group browser; its groups lead to the foods
    "causes": "i:causes_overview",
    "remedies": "i:remedies_compare",
    "about": "i:about",
}

#: The first screen's buttons: (message key of the label, action), on Telegram and the console.
MAIN_MENU: tuple[tuple[str, str], ...] = (
    ("tg_menu_check", "i:start_check"),
    ("tg_menu_foods", "i:food_sources"),
    ("tg_menu_causes", "i:causes_overview"),
    ("tg_menu_remedies", "i:remedies_compare"),
    ("tg_menu_tests", "i:deficiency_testing"),
    ("tg_menu_about", "i:about"),
)
