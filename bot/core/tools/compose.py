"""Pieces the tools' replies share: a cited-sources line and paragraphs joined into a Reply."""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping

from bot.content.models import Food
from bot.core import views
from bot.core.reply import Button, Reply, ReplyKind


def sources_line(template: str, ids: Iterable[str], titles: Mapping[str, str]) -> str:
    """`template` filled with the unique source titles, in order; "" when nothing is cited."""
    unique = list(dict.fromkeys(ids))
    if not unique:
        return ""
    return template.format(titles="; ".join(html.escape(titles.get(s, s)) for s in unique))


def cautions(foods: Iterable[Food]) -> list[str]:
    """The safety lines (liver in pregnancy) of the foods a reply counts or lists, once each:
    wherever a tool shows a food, its caution goes with it."""
    return list(dict.fromkeys(f.caution.strip() for f in foods if f.caution))


def paragraphs(intent: str, parts: list[str], buttons: tuple[Button, ...]) -> Reply:
    text = "\n\n".join(p.strip() for p in parts if p.strip())
    return Reply(text=text, kind=ReplyKind.answer, intent=intent, buttons=buttons)


def summarised(
    intent: str, parts: list[str], first: list[str], source_line: str, buttons: tuple[Button, ...]
) -> Reply:
    """`parts` as a reply that fits a phone: whole with its source line when short, else
    `first` (a few of the parts) with the rest behind More and the line behind Sources."""
    summary = paragraphs(intent, first, buttons).text
    return views.fit(paragraphs(intent, parts, buttons), summary, source_line)
