"""Pieces the tools' replies share: a cited-sources line and paragraphs joined into a Reply."""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping

from bot.core.reply import Button, Reply, ReplyKind


def sources_line(template: str, ids: Iterable[str], titles: Mapping[str, str]) -> str:
    """`template` filled with the unique source titles, in order; "" when nothing is cited."""
    unique = list(dict.fromkeys(ids))
    if not unique:
        return ""
    return template.format(titles="; ".join(html.escape(titles.get(s, s)) for s in unique))


def paragraphs(intent: str, parts: list[str], buttons: tuple[Button, ...]) -> Reply:
    text = "\n\n".join(p.strip() for p in parts if p.strip())
    return Reply(text=text, kind=ReplyKind.answer, intent=intent, buttons=buttons)
