"""Inline mode: `@bot salmon` in any chat offers answer cards the user can send there.

The cards are the engine's own answers, found without the conversation's thresholds: an
inline query is a search, so a list of good candidates (foods whose names fuzzy-match, and
intents ranked by the engine's matcher) serves better than one verdict. Computing them is
pure and cached per query in a small LRU, because clients send a query per keystroke.
"""

from __future__ import annotations

import html
import re
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from rapidfuzz import fuzz

from bot.content import Category
from bot.core.engine import FOOD_LOOKUP, START_CHECK, Engine
from bot.core.reply import Reply

MAX_CARDS = 10
FOOD_MIN_SCORE = 85.0  # rapidfuzz ratio: "salmn" finds salmon, "chest" not cheese
PREFIX_SCORE = 90.0  # "salm" starts "salmon": a user still typing
MIN_PREFIX = 3
DESCRIPTION_CHARS = 100
MAX_TEXT = 4096  # Telegram's limit on the message a card sends
_SKIPPED = {FOOD_LOOKUP, START_CHECK}  # foods have their own cards; the check needs a chat
_TAG = re.compile(r"<[^>]+>")


@dataclass(frozen=True, slots=True)
class Card:
    """One inline result: `html` is the engine's answer, without the footer."""

    id: str  # the engine action, unique and ≤ 64 bytes
    title: str
    description: str
    html: str


def query_key(query: str) -> str:
    """Queries that differ only in case and spacing share a cache entry."""
    return " ".join(query.lower().split())


def search(engine: Engine, query: str, popular: str, limit: int = MAX_CARDS) -> tuple[Card, ...]:
    """Up to `limit` cards for `query`, best first; `popular` actions for an empty query."""
    key = query_key(query)
    if not key:
        return _cards(engine, [(a, 100.0) for a in popular.split()], limit)
    normalised = engine.normalise(key)
    if not normalised:
        return ()
    analysis = engine.matcher.analyse(normalised)
    found: dict[str, float] = {f"f:{food}": 100.0 for food in analysis.foods}
    for food in engine.content.foods.values():
        score = max(_food_score(normalised, engine.normalise(n)) for n in food.names)
        if score >= FOOD_MIN_SCORE:
            found.setdefault(f"f:{food.id}", score)
    for scored in engine.matcher.rank(analysis):
        if scored.score >= engine.thresholds.suggest and _searchable(engine, scored.intent):
            found.setdefault(f"i:{scored.intent}", scored.score)
    ranked = sorted(found.items(), key=lambda item: item[1], reverse=True)
    return _cards(engine, ranked, limit)


def _food_score(query: str, name: str) -> float:
    """Whole-name similarity, or a name word the query's last word is the start of."""
    last = query.split()[-1]
    typing = len(last) >= MIN_PREFIX and any(w.startswith(last) for w in name.split())
    return max(fuzz.ratio(query, name), PREFIX_SCORE if typing else 0.0)


def _searchable(engine: Engine, intent_id: str) -> bool:
    category = engine.content.intents[intent_id].category
    return intent_id not in _SKIPPED and category in (Category.medical, Category.service)


def _cards(engine: Engine, ranked: list[tuple[str, float]], limit: int) -> tuple[Card, ...]:
    cards: list[Card] = []
    for action, _ in ranked:
        card = _card(engine, action)
        if card is not None:
            cards.append(card)
        if len(cards) == limit:
            break
    return tuple(cards)


def _card(engine: Engine, action: str) -> Card | None:
    kind, _, ident = action.partition(":")
    reply: Reply | None = engine.act(action)
    if reply is None or kind not in ("i", "f"):
        return None
    if kind == "f":
        title = engine.content.foods[ident].name
    else:
        title = engine.content.intents[ident].button
    # An inline message has no More or Sources to press: the card sends the whole answer.
    return Card(action, title, _plain(reply.text, DESCRIPTION_CHARS), reply.full)


def _plain(markup: str, limit: int) -> str:
    text = " ".join(html.unescape(_TAG.sub(" ", markup)).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def with_footer(card: Card, footer: str) -> str | None:
    """The message a card sends; None if it would not fit in one Telegram message."""
    text = f"{card.html}\n\n{footer}"
    return text if len(text) <= MAX_TEXT else None


class InlineCache:
    """A small LRU of computed cards per query key; `hits` and `misses` are for tests."""

    def __init__(self, size: int = 256) -> None:
        self._size = size
        self._entries: OrderedDict[str, tuple[Card, ...]] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(self, key: str, compute: Callable[[], tuple[Card, ...]]) -> tuple[Card, ...]:
        if key in self._entries:
            self.hits += 1
            self._entries.move_to_end(key)
            return self._entries[key]
        self.misses += 1
        cards = compute()
        self._entries[key] = cards
        if len(self._entries) > self._size:
            self._entries.popitem(last=False)
        return cards
