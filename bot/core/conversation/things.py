"""What a message was about: the things a follow-up may point back at.

"I get leg cramps at night and my period cramps are awful too" is about two things though the
model answers one, so each part joined by "and", "or", … (content/conversation.yaml
`joiners`) is read alone; the model's runners-up, what the message names (`entity_topics`)
and two foods count too. A thing is an intent id, a tool's id (lab_result, intake) or
"food:<id>" for one food card. `Things.which` asks which one with the engine's own
did-you-mean reply: buttons for the things and "None of these".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.content import Category
from bot.content.conversation import Conversation
from bot.core.conversation.dialogue import Dialogue
from bot.core.reply import Button, Reply, ReplyKind
from bot.core.tools import labs as lab_tool

if TYPE_CHECKING:
    from bot.core.engine import Engine

FOOD = "food_lookup"
FOOD_TOPIC = "food:"  # a thing that is one food card: "salmon or tuna?" is about two
TOPIC_MIN = 20.0  # a ranked intent at least this sure counts as something the message is about
ANSWERED = (ReplyKind.answer, ReplyKind.food)
MAX_CHOICES = 3
LIST_CHOICES = 5  # "which one?" about a list answer's items (content `list_answers`)
MAX_PARTS = 4  # parts read alone; a longer list ("eggs and milk and …") is one meal or list


def key(topic: str | None, food: str | None) -> str | None:
    """The thing a topic is: a food card is its food; the bare food help is no thing."""
    if topic == FOOD:
        return f"{FOOD_TOPIC}{food}" if food else None
    return topic


class Things:
    def __init__(self, engine: Engine, conversation: Conversation) -> None:
        self.engine, self.spec = engine, conversation
        fold, intents = engine.normalise, engine.content.intents.values()
        stop = set(engine.content.synonyms.stopwords)
        # The words of the content's own example questions (not their numbers): a message
        # with none of them names nothing the bot could answer about.
        words = {w for i in intents for e in i.examples for w in fold(e).split()}
        self.known = {w for w in words - stop if not w.isdigit()}
        # A part of a message is about something only with one that is not a follow-up's
        # filler: "tablets or injections or what" has two parts, not three.
        self._part_words = self.known - {w for f in conversation.filler for w in fold(f).split()}
        joiners = sorted(conversation.joiners, key=len, reverse=True)
        self._joiner = re.compile(
            rf"(?<!\w)(?:{'|'.join(map(re.escape, joiners))})(?!\w)", re.IGNORECASE
        )

    def of(self, reply: Reply, text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """What a message could be about: the answer's intent, its parts' answers, the
        model's runners-up, what it names and its foods, if two. A tool's reply (a lab
        reading, a meal) is about what the tool read: the model's guesses at its words and
        the foods of a meal are not more things. A reply that did not understand is about
        what it offered, if anything: guesses it did not show ("' OR 1=1 --" ranks a remedy
        low) are nothing the user saw, so nothing a follow-up could point back at.
        Returns (all of those, the parts' answers alone): what was asked, not guessed."""
        tool = reply.intent is not None and reply.intent not in self.engine.content.intents
        seen = reply.suggestions if reply.kind is ReplyKind.fallback else None  # its buttons
        guessed = [
            s.intent
            for s in reply.ranked
            if s.score >= TOPIC_MIN
            and self._medical(s.intent)
            and (seen is None or s.intent in seen)
        ]
        named = [
            self.spec.entity_topics[e.value]
            for e in reply.entities
            if e.value in self.spec.entity_topics
        ]
        foods = [f"{FOOD_TOPIC}{e.value}" for e in reply.entities if e.kind == "food"]
        own = (reply.intent,) if reply.intent else ()
        parts = [p for p in self._parts(text) if not (tool and p.startswith(FOOD_TOPIC))]
        several = foods if len(foods) > 1 and not tool else ()
        about = tuple(dict.fromkeys((*own, *parts, *(() if tool else guessed), *named, *several)))
        return about, tuple(parts)

    def in_context(self, live: Dialogue) -> tuple[str, ...]:
        """The different things the last message was about (a food card and its food are
        one thing, not two)."""
        keys = (key(t, live.food) for t in (live.intent, *live.topics) if t)
        return tuple(k for k in dict.fromkeys(keys) if k)

    def topical(self, thing: str) -> bool:
        """A food card or a medical answer: something a "which one?" button can offer."""
        return thing.startswith(FOOD_TOPIC) or self._medical(thing)

    def family(self, thing: str) -> str | None:
        return self.spec.family_of(FOOD if thing.startswith(FOOD_TOPIC) else thing)

    def which(
        self,
        things: Sequence[str],
        live: Dialogue,
        also: str | None = None,
        limit: int = MAX_CHOICES,
    ) -> Reply:
        """Did-you-mean buttons built from the context: the things (a food card or the lab
        reading among them), `also` (what the message alone would get), then the last
        reply's own buttons — `limit` at most, each once."""
        engine, intents = self.engine, self.engine.content.intents
        buttons: list[Button] = []
        shown: list[str] = []
        for thing in (*things[:limit], *((also,) if also else ())):
            food = thing.removeprefix(FOOD_TOPIC) if thing.startswith(FOOD_TOPIC) else None
            if food in engine.content.foods:
                name = engine.content.foods[food].name
                button = Button(engine.message("food_button", name=name), f"f:{food}")
            elif thing == lab_tool.INTENT and live.lab:
                button = Button(self.spec.lab_button, live.lab)
            elif thing in intents:
                button = Button(intents[thing].button, f"i:{thing}")
            else:
                continue
            if len(buttons) < limit and button.action not in {b.action for b in buttons}:
                buttons.append(button)
                shown.append(thing)
        for label, action in live.items:
            if len(buttons) >= limit:
                break
            if action.startswith(("i:", "f:")) and action not in {b.action for b in buttons}:
                buttons.append(Button(label, action))
        buttons.append(Button(engine.message("none_of_these"), "none"))
        return Reply(
            engine.message("fallback_suggest"),
            ReplyKind.fallback,
            suggestions=tuple(shown),
            buttons=tuple(buttons),
        )

    def _parts(self, text: str) -> list[str]:
        """What each part of a message joined by "and", "or", … is about alone: a
        confident medical answer or a food card. Only a message of two parts or more that
        each have a word the content knows is read so: "muscles ' OR 1=1 --" is one word and
        junk, not two things joined by "or"."""
        pieces = [p for p in self._joiner.split(text[:500]) if self._has(self._part_words, p)]
        found: list[tuple[str, float]] = []
        for piece in pieces[:MAX_PARTS] if len(pieces) > 1 else ():
            alone = self.engine.ask(piece)
            thing = key(alone.intent, alone.food)
            if alone.kind in ANSWERED and thing is not None and self._medical(alone.intent):
                found.append((thing, alone.score))
        if len(found) == 1 and found[0][1] < self.engine.thresholds.sure:
            # One part answered, and unsurely ("injections or tablets for b12, which is
            # better?"): the whole message's own answer reads it better than that part.
            return []
        return [thing for thing, _ in found]

    def knows(self, piece: str) -> bool:
        """Has a word the content's questions use, not only stopwords ("asdfgh", "hmm")."""
        return self._has(self.known, piece)

    def _has(self, words: set[str], piece: str) -> bool:
        return not words.isdisjoint(self.engine.normalise(piece).split())

    def _medical(self, intent_id: str | None) -> bool:
        intent = self.engine.content.intents.get(intent_id or "")
        return intent is not None and intent.category is Category.medical
