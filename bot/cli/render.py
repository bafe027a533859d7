"""Telegram HTML shown readably in a terminal."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from bot.core.reply import Reply

_TAG = re.compile(r"<(/?)(\w[\w-]*)[^>]*>")
_STYLE = {"b": "1", "strong": "1", "i": "3", "em": "3", "u": "4", "ins": "4", "code": "2"}


def to_terminal(text: str, colour: bool) -> str:
    def tag(match: re.Match[str]) -> str:
        closing, name = match.groups()
        if not colour or name not in _STYLE:
            return ""
        return "\033[0m" if closing else f"\033[{_STYLE[name]}m"

    return html.unescape(_TAG.sub(tag, text))


def render(reply: Reply, colour: bool, numbers: Sequence[int] | None = None) -> str:
    """The reply with its buttons numbered 1, 2, 3 … or by `numbers` (the check's own)."""
    lines = [to_terminal(reply.text, colour)]
    if reply.buttons:
        lines.append("")
        shown = numbers or range(1, len(reply.buttons) + 1)
        lines += [f"  [{n}] {button.label}" for n, button in zip(shown, reply.buttons, strict=True)]
    return "\n".join(lines)
