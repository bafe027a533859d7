"""Phone-sized replies: a short first message, and the More and Sources buttons that show the rest.

A long reply's `text` is its summary (at most `SUMMARY_LIMIT` characters); `more` is the whole
reply and `sources` its "Source: …" line. Their buttons name a view and what the reply is
about — `m:i:night_cramps` (More), `s:lab:b12:200:pg` (Sources), `ms:…` (both, once one of
them was pressed) — so a window can show a view from the action alone, after a restart too:
`Engine.act` builds the reply again and `show` picks the view. A "!" after the letters
(`m!:i:…`) keeps the safety line that a question about an emergency was given.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from bot.content.models import SUMMARY_LIMIT
from bot.core.reply import Button, Reply

SAFE = "!"
_ACTION = re.compile(r"^(m|s|ms)(!?):(.+)$")


@dataclass(frozen=True, slots=True)
class Labels:
    more: str
    sources: str


@dataclass(frozen=True, slots=True)
class View:
    more: bool  # the whole reply instead of the summary
    sources: bool  # with the Source line
    safe: bool  # with the safety line of a question about an emergency
    ref: str  # what the reply is about: "i:<intent>", "f:<food>", "lab:…", "in:<meal digest>"


def parse(action: str) -> View | None:
    """The view a More or Sources button asks for; None for any other action."""
    match = _ACTION.match(action)
    if match is None:
        return None
    letters, safe, ref = match.groups()
    return View("m" in letters, "s" in letters, bool(safe), ref)


def action(view: View) -> str:
    letters = ("m" if view.more else "") + ("s" if view.sources else "")
    return f"{letters}{SAFE if view.safe else ''}:{view.ref}"


def fit(reply: Reply, first: str, source_line: str) -> Reply:
    """`reply.text` is a whole reply without its source line. Short enough for a phone, it is
    shown whole with the line; longer, `first` is shown and More and Sources keep the rest."""
    if len(reply.text) <= SUMMARY_LIMIT:
        text = f"{reply.text}\n\n{source_line}" if source_line else reply.text
        return replace(reply, text=text)
    return replace(reply, text=first, more=reply.text, sources=source_line or None)


def offer(reply: Reply, ref: str, labels: Labels, *, shown: View | None = None) -> Reply:
    """More and Sources buttons ahead of the reply's own, for what it has not shown yet."""
    shown = shown or View(more=False, sources=False, safe=False, ref=ref)
    buttons = []
    if reply.more:
        buttons.append(Button(labels.more, action(replace(shown, more=True))))
    if reply.sources:
        buttons.append(Button(labels.sources, action(replace(shown, sources=True))))
    return replace(reply, buttons=(*buttons, *_own(reply)))


def show(base: Reply, view: View, labels: Labels) -> Reply:
    """What a press of More or Sources shows, from the reply as first sent (`base`)."""
    expanded = view.more and base.more is not None
    body = base.more if expanded and base.more else base.text
    cited = view.sources and base.sources is not None
    text = f"{body}\n\n{base.sources}" if cited else body
    more = None
    if base.more and not expanded:
        more = f"{base.more}\n\n{base.sources}" if cited else base.more
    shown = replace(
        base, text=text, more=more, sources=None if cited else base.sources, buttons=_own(base)
    )
    return offer(shown, view.ref, labels, shown=view)


def with_line(reply: Reply, line: str) -> Reply:
    """A line (the safety line) under the text and under the whole reply; the view buttons
    are marked to keep it."""
    buttons = tuple(_safe(b) for b in reply.buttons)
    more = f"{reply.more}\n\n{line}" if reply.more else None
    return replace(reply, text=f"{reply.text}\n\n{line}", more=more, buttons=buttons)


def whole(reply: Reply) -> Reply:
    """Everything at once, without More and Sources (for a window that adds to the text)."""
    return replace(reply, text=reply.full, more=None, sources=None, buttons=_own(reply))


def _own(reply: Reply) -> tuple[Button, ...]:
    return tuple(b for b in reply.buttons if parse(b.action) is None)


def _safe(button: Button) -> Button:
    view = parse(button.action)
    return button if view is None else Button(button.label, action(replace(view, safe=True)))
