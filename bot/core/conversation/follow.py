"""Follow-ups in context: the reply to a message that only makes sense after the last one.

`FollowUps.follow(dialogue, text, reply, now)` takes the engine's reply to the message on
its own and, when the message is shaped like a follow-up and the dialogue is still fresh,
reads it against the dialogue instead (the order is explained at the top of
content/conversation.yaml). It returns the new dialogue and the reply to send. An urgent,
invalid or check-starting reply is never replaced: emergencies win over any context.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from bot.content.conversation import Conversation, Section
from bot.core import views
from bot.core.conversation.dialogue import Dialogue
from bot.core.conversation.things import (
    ANSWERED,
    FOOD,
    FOOD_TOPIC,
    LIST_CHOICES,
    MAX_CHOICES,
    TOPIC_MIN,
    Things,
    key,
)
from bot.core.reply import Button, Reply, ReplyKind
from bot.core.tools import intake as intake_tool
from bot.core.tools import labs as lab_tool

if TYPE_CHECKING:
    from bot.core.engine import Engine

LAB_INTENT = lab_tool.INTENT
MEAL_INTENT = intake_tool.INTENT
_KEEPS = (ReplyKind.urgent, ReplyKind.invalid, ReplyKind.start_check)
MAX_SOCIAL_WORDS = 4
# The model is this sure a message is outside what the bot covers: "what's the weather
# tomorrow" (99.5) is a new message, "what should i do" (87: short follow-ups look out of
# scope to it) is not.
SURELY_OUTSIDE = 95.0
WHICH = "which"  # `Dialogue.asked` after a plain "which one?": no part asked
PICK_WORDS = 3  # at most this many words of its own name a button picked by name
OWN_WORDS = 2  # a sub-question with more words of its own than this may ask anew
_TOPIC_KINDS = frozenset(
    {"food", "nutrient", "medicine", "condition", "test", "body_part", "time_of_day"}
)


@dataclass(frozen=True, slots=True)
class _Read:
    """One message as the follow-up rules see it."""

    words: tuple[str, ...]
    joined: str  # " word word " — phrases are found as whole words
    foods: tuple[str, ...]
    ages: tuple[int, ...]
    things: tuple[tuple[str, str], ...]  # (kind, value) of the topics it names
    named: bool  # names a topic of its own (a food, nutrient, medicine, condition, …)
    intent: str | None  # what the engine answered it with alone
    spans: tuple[tuple[str, str], ...]  # (kind, words) of each thing it names, as found

    def has(self, phrase: str) -> bool:
        return f" {phrase} " in self.joined


class FollowUps:
    """The follow-up rules of one engine's content."""

    def __init__(self, engine: Engine, conversation: Conversation) -> None:
        self.engine, self.spec = engine, conversation
        self.things = Things(engine, conversation)
        fold = engine.normalise
        self._openers = sorted({fold(o) for o in conversation.openers if fold(o)}, key=len)[::-1]
        self._fresh = [fold(c) for c in conversation.fresh_cues if fold(c)]
        self._anaphora = {fold(w) for w in conversation.anaphora} | set(conversation.anaphora)
        self._stop = set(engine.content.synonyms.stopwords)
        self._filler = {fold(w) for w in conversation.filler} | set(conversation.filler)
        self._verdict = [fold(c) for c in conversation.verdict_cues if fold(c)]
        self._verdict_words = [fold(c) for c in conversation.verdict_words if fold(c)]
        self._meal_add = [fold(o) for o in conversation.meal_add_openers if fold(o)]
        self._card_meal = [fold(o) for o in conversation.card_meal_openers if fold(o)]
        self._sub = {
            name: sorted({fold(c) for c in cues if fold(c)}, key=len)[::-1]
            for name, cues in conversation.sub_questions.items()
        }
        self._stage_words = {
            stage: [fold(w) for w in words] for stage, words in conversation.stage_words.items()
        }
        for stage in engine.tools.intake.life_stages if engine.tools else ():
            self._stage_words.setdefault(stage.id, []).extend(fold(w) for w in stage.words)
        self._list_cues = [fold(c) for c in conversation.list_cues if fold(c)]
        # the words of a message that only picks an item by its number ("4th", "number 2")
        self._number_only = frozenset(
            {*conversation.ordinals, *conversation.number_words, *_ORDINAL_ENDS}
        )
        self._months = {fold(w) for w in conversation.month_words} | set(conversation.month_words)
        self._age_cues = {fold(w) for w in conversation.age_cues} | set(conversation.age_cues)
        self._another_words = [fold(w) for w in conversation.another_words if fold(w)]
        self._open_ends = [fold(o) for o in conversation.open_ends if fold(o)]
        self._more_asks = [fold(o) for o in conversation.more_asks if fold(o)]
        self._picks = {fold(w) for w in conversation.picks} | set(conversation.picks)
        # words of a typed pick that are not a button's name ("the b12 one": "b12")
        self._not_names = self._filler | self._stop | self._picks
        self._expletive = {fold(w) for w in conversation.expletive_pronouns}
        self._then = {fold(w) for w in conversation.expletive_then}
        self._compare = [fold(c) for c in conversation.compare_cues if fold(c)]
        self._one_of = [fold(c) for c in conversation.one_of_list if fold(c)]
        self._food_family = conversation.family_of(FOOD)

    # -- the one entry point ---------------------------------------------------------------

    def follow(
        self,
        dialogue: Dialogue | None,
        text: str,
        reply: Reply,
        now: float,
        *,
        shown: Reply | None = None,
        life_stage: str | None = None,
    ) -> tuple[Dialogue, Reply]:
        """`reply` is the engine's reply to `text` alone. A window that added to it (the
        check's "Continue the check" button) passes what it would show as `shown`: those
        buttons stay on whatever is sent. `life_stage` is the one the window stored."""
        live = dialogue or Dialogue()
        if live.expired(now, self.spec.expire_after_minutes):
            live = replace(Dialogue(), life_stage=live.life_stage)
        if live.life_stage is None and life_stage:
            live = replace(live, life_stage=life_stage)
        dialogue, answer = self._follow(live, text, reply, now)
        if shown is None:
            return dialogue, answer
        if answer is reply:
            return dialogue, shown
        added = tuple(b for b in shown.buttons if b not in reply.buttons)
        return dialogue, replace(answer, buttons=(*answer.buttons, *added))

    def _follow(
        self, live: Dialogue, text: str, reply: Reply, now: float
    ) -> tuple[Dialogue, Reply]:
        read = self._read(text, reply)
        meal, resolved = None, None
        known = live.intent or live.topics or live.lab or live.meal
        # "so am i deficient or not" alone starts the check; after a lab number or a meal it
        # asks for the verdict on that number.
        verdict = live.intent in (LAB_INTENT, MEAL_INTENT) and self._verdict_asked(live, read)
        if (
            (reply.kind not in _KEEPS or (reply.kind is ReplyKind.start_check and verdict))
            and known
            and not self._closing(read, reply)
        ):
            if self._shaped(live, read, reply):
                resolved = self._resolve(live, read, text, reply)
            else:  # answered confidently alone, yet it may point back ("is it a good source?")
                pointing = self._unclear(live, read, reply) or self._again(live, read, reply)
                resolved = _same_meal(live, pointing)
            if resolved is not None:
                reply, meal = resolved
        if resolved is not None or len(read.words) <= self.spec.max_followup_words:
            reply = self._part_of(live, reply)  # "the b12 one" after "any side effects?"
        if resolved is None and reply.kind in ANSWERED and reply.intent in self.spec.stage_intents:
            # "how much b12 does a 5 year old need", context or none: that stage's need
            stage = self._stage(read)
            reply = self._stage_need(stage) if stage is not None else reply
        dialogue = self._remember(live, text, reply, now, meal)
        if resolved is not None and reply.intent:
            # A follow-up answered in context is about what it was answered with, not about
            # what its few words would mean on their own.
            dialogue = replace(dialogue, topics=(reply.intent,), parts=())
        elif resolved is not None:  # asked which one: still about the same things
            kept = ("intent", "food", "topics", "parts", "entities")
            dialogue = replace(dialogue, **{k: getattr(live, k) for k in kept})
        return dialogue, reply

    def pressed(
        self, dialogue: Dialogue | None, reply: Reply, now: float
    ) -> tuple[Dialogue, Reply]:
        """A button's reply becomes the context too ("and tofu?" after a tapped food card);
        one of the buttons "any side effects?" asked which with shows that part of its answer."""
        live = dialogue or Dialogue()
        if not live.expired(now, self.spec.expire_after_minutes):
            reply = self._part_of(live, reply)
        return self._remember(live, "", reply, now, None), reply

    # -- reading ------------------------------------------------------------------------------

    def _read(self, text: str, reply: Reply) -> _Read:
        """The message's words; what it names comes from the engine's reply to it (`ask`
        found the entities already), so it is not read twice."""
        words = tuple(self.engine.normalise(text[:500]).split())
        found = reply.entities
        foods = tuple(e.value for e in found if e.kind == "food")
        ages = tuple(int(e.value) for e in found if e.kind == "age" and e.value.isdigit())
        things = tuple((e.kind, e.value) for e in found if e.kind in _TOPIC_KINDS)
        joined = f" {' '.join(words)} "
        spans = tuple((e.kind, e.text) for e in found)  # found in the normalised text
        return _Read(words, joined, foods, ages, things, bool(things), reply.intent, spans)

    def _opens(self, read: _Read) -> bool:
        return any(read.joined.startswith(f" {o} ") for o in self._openers)

    def _closing(self, read: _Read, reply: Reply) -> bool:
        """ "ta", "cheers mate", "ok bye": a few words of thanks or goodbye (`closing_intents`),
        surely so, that name nothing and open like no follow-up — never re-read as a question
        about the topic. ("normal right?" after a lab number is a verdict, not an "ok".)"""
        return (
            reply.intent in self.spec.closing_intents
            and reply.score >= self.engine.thresholds.sure
            and len(read.words) <= MAX_SOCIAL_WORDS
            and not read.named
            and not self._opens(read)
        )

    def _sure(self, reply: Reply) -> bool:
        """Answered confidently on its own."""
        return reply.kind in ANSWERED and reply.score >= self.engine.thresholds.sure

    def _shaped(self, live: Dialogue, read: _Read, reply: Reply) -> bool:
        """Short, or opening like a follow-up (or like more of a meal, after one), or carrying
        a follow-up's cue (a verdict, a sub-question, a life stage). A message that says it
        changes the subject, or a longer one the engine answers confidently on its own, is a
        new question, and wins."""
        count = len(read.words)
        if not count or any(read.has(c) for c in self._fresh):
            return False
        sure = self._sure(reply)
        if self._opens(read) and (not sure or count <= self.spec.max_followup_words):
            return True  # "also what does vitamin b12 actually do in the body": its own
        if self._adds(live, read) and count <= self.spec.max_cued_words:
            return True
        staged = self._stage(read) is not None
        cued = self._verdict_asked(live, read) or self._sub_name(read) is not None
        if (cued or staged) and self._refers(read) and count <= self.spec.max_cued_words:
            # "is it safe to take a lot of it", "my mum is 80 is it different for her": a cue
            # about what was just said
            return True
        if sure and count > self.spec.max_followup_words:
            return False
        if (cued or staged) and count <= self.spec.max_cued_words:
            return True
        return count <= self.spec.max_followup_words and (not sure or count <= 3)

    # -- resolving ----------------------------------------------------------------------------

    def _resolve(
        self, live: Dialogue, read: _Read, text: str, reply: Reply
    ) -> tuple[Reply, str | None] | None:
        for rule in (
            self._unit_typed,
            self._verdict_on,
            self._meal_added,
            self._stage_named,
            self._listed,
            self._picked,
            self._food_aside,
        ):
            found = rule(live, read, text)
            if found is not None:
                return found
        unclear = self._unclear(live, read, reply)
        if unclear is not None:
            return unclear, None
        if self._new_question(read, reply):
            return None
        for again in (self._sub_question, self._again, self._readings):
            found = _same_meal(live, again(live, read, reply))
            if found is not None:
                return found
        lost = self._lost(live, read, reply)
        return (lost, None) if lost is not None else None

    def _lost(self, live: Dialogue, read: _Read, reply: Reply) -> Reply | None:
        """A short follow-up that nothing reads ("what about mum", "and the kids?" after daily
        needs) and that alone gets "I didn't get that" with no guess: did-you-mean buttons
        from the context — what the last message was about, then the message's own weak
        guesses — rather than a blank. Only after a topic: the first message has none."""
        if reply.kind is not ReplyKind.fallback:
            return None
        if any(self.things.topical(s) for s in reply.suggestions):
            return None  # its own guesses; "about this bot" for "what about fish" is none
        if not self.things.knows(" ".join(read.words)):
            return None  # "asdfgh", "hmm": nothing the bot could be asked about
        things = [t for t in self.things.in_context(live) if self.things.topical(t)]
        if not things:
            return None
        guessed = [
            s.intent
            for s in reply.ranked
            if s.score >= TOPIC_MIN and self.things.topical(s.intent) and s.intent not in things
        ]
        return self.things.which((*things, *guessed), live)

    def _new_question(self, read: _Read, reply: Reply) -> bool:
        """Names its own topic, points back at nothing and is answered confidently alone —
        or is surely outside what the bot covers ("what's the weather tomorrow" after salmon
        is not a "what is" about salmon)."""
        if self._opens(read) or self._refers(read):
            return False
        if read.named:  # a food is a thing named too
            return self._sure(reply)
        # "how much in a tin" after tuna is a sub-question however sure the model is that
        # its words alone are outside what the bot covers; "what's the weather" is no
        # "what does it mean".
        return self._sub_name(read) in (None, "meaning") and self._surely_outside(reply)

    def _surely_outside(self, reply: Reply) -> bool:
        top = reply.ranked[0].intent if reply.ranked else None
        return (
            reply.kind is ReplyKind.fallback
            and top is not None
            and self.engine.is_outside(top)
            and reply.ranked[0].score >= SURELY_OUTSIDE
        )

    def _verdict_asked(self, live: Dialogue, read: _Read) -> bool:
        """A verdict cue, or after a meal a question about the day's need ("so have i hit my
        daily amount": `meal_verdict_intents`) — the meal's count shows it against the need."""
        if any(read.has(c) for c in self._verdict):
            return True
        if any(read.has(c) for c in self._verdict_words) and (self._refers(read) or not read.named):
            return True  # "enough?", "should she worry" — not "is b12 from food enough"
        return live.intent == MEAL_INTENT and read.intent in self.spec.meal_verdict_intents

    def _adds(self, live: Dialogue, read: _Read) -> bool:
        """After a meal, names a food and opens like more of it ("lunch a ham sandwich"); after
        a food card, like eating more with it ("plus a glass of milk")."""
        return bool(read.foods) and any(
            read.joined.startswith(f" {o} ") for o in self._adders(live)
        )

    def _adders(self, live: Dialogue) -> list[str]:
        if live.intent == MEAL_INTENT and live.meal:
            return self._meal_add
        return self._card_meal if live.intent == FOOD and live.food else []

    def _meal_so_far(self, live: Dialogue) -> str | None:
        """What was eaten before: the meal, or the food of the card just shown, by its name."""
        if live.intent == MEAL_INTENT:
            return live.meal
        food = self.engine.content.foods.get(live.food or "") if live.intent == FOOD else None
        return food.names[0] if food is not None else None

    def _unit_typed(
        self, live: Dialogue, read: _Read, text: str
    ) -> tuple[Reply, str | None] | None:
        """ "pg/ml i think" after "my b12 is 240", which asked for the unit with buttons: the
        reading of the one button whose unit was typed, as if it had been tapped."""
        tools = self.engine.tools
        if live.intent != LAB_INTENT or tools is None or not live.items:
            return None
        typed = lab_tool.units_in(text, tools.labs)
        readings = [(a, lab_tool.reading_from_action(a, tools.labs)) for _, a in live.items]
        chosen = [a for a, r in readings if r is not None and r.unit in typed]
        shown = self.engine.act(chosen[0]) if len(chosen) == 1 else None
        return (shown, None) if shown is not None else None

    def _verdict_on(self, live: Dialogue, read: _Read, _: str) -> tuple[Reply, str | None] | None:
        """ "so is it low?" after a lab number, "is that enough?" after a meal."""
        if not self._verdict_asked(live, read) or read.foods:
            return None
        if live.intent == LAB_INTENT and (live.lab or live.items):
            # Still without its unit ("b12 650", then "good or bad?"): which unit, again.
            asked = live.items[0][1] if live.items else ""
            action = live.lab or lab_tool.unit_question_action(asked)
            shown = self.engine.act(action)
            return (shown, None) if shown is not None else None
        if live.intent == MEAL_INTENT and live.meal:
            counted = self.engine.count_intake(live.meal, live.life_stage)
            return (counted, live.meal) if counted is not None else None
        return None

    def _meal_added(self, live: Dialogue, read: _Read, text: str) -> tuple[Reply, str] | None:
        """ "and a banana" after a meal: counted with what was eaten before."""
        tools, before = self.engine.tools, self._meal_so_far(live)
        if not before or tools is None:
            return None
        added = intake_tool.parse_meal(text, self.engine.content.foods, tools.intake)
        opens = self._adds(live, read)
        short = live.intent == MEAL_INTENT and len(read.words) <= self.spec.max_followup_words
        if not added.items or not (opens or short):
            return None
        meal = f"{before}, {text}"
        counted = self.engine.count_intake(meal, live.life_stage)
        return (counted, meal) if counted is not None else None

    def _stage_named(self, live: Dialogue, read: _Read, _: str) -> tuple[Reply, str | None] | None:
        """ "for a 10 year old?" after daily needs; "I'm pregnant" after a meal."""
        stage = self._stage(read)
        if stage is None:
            return None
        if live.intent == MEAL_INTENT and live.meal:
            counted = self.engine.count_intake(live.meal, stage)
            return (counted, live.meal) if counted is not None else None
        if live.intent in self.spec.stage_intents:
            return self._stage_need(stage), None
        return None

    def _stage(self, read: _Read) -> str | None:
        for number, unit in zip(read.words, read.words[1:], strict=False):
            if number.isdigit() and unit in self._months:
                return self.spec.stage_for_months(int(number))
        for age in (*read.ages, *self._said_ages(read)):
            found = self.spec.stage_for_age(age)
            if found is not None:
                return found
        # The longest word named wins: "im breastfeeding her baby brother" names the
        # speaker's stage, not the baby's.
        found = [
            (len(w), stage) for stage, ws in self._stage_words.items() for w in ws if read.has(w)
        ]
        return max(found)[1] if found else None

    def _said_ages(self, read: _Read) -> list[int]:
        """ "her sister is 11": a number ending the message right after an `age_cues` word.
        Not in a lab reading or a meal ("my b12 is 90")."""
        if read.intent in (LAB_INTENT, MEAL_INTENT) or len(read.words) < 2:
            return []
        cue, number = read.words[-2:]
        return [int(number)] if cue in self._age_cues and number.isdigit() else []

    def _stage_need(self, stage_id: str) -> Reply:
        tools = self.engine.tools
        assert tools is not None  # noqa: S101 - stages come from the intake content
        stage = tools.intake.stage(stage_id)
        assert stage is not None  # noqa: S101 - checked against intake.yaml at load
        text = self.spec.stage_need.format(label=html.escape(stage.label), mcg=f"{stage.mcg:g}")
        if stage.note:
            text = f"{text}\n{stage.note.strip()}"
        intent = self.engine.content.intents["daily_needs"]
        sources = [*self.spec.stage_sources, *(s for s in stage.sources)]
        return Reply(
            text=self.engine._with_sources(text, list(dict.fromkeys(sources))),
            kind=ReplyKind.answer,
            intent=intent.id,
            score=100.0,
            buttons=(Button(intent.button, f"i:{intent.id}"), *self.engine._related(intent)),
            details={"life_stage": stage_id},
        )

    def _listed(self, live: Dialogue, read: _Read, _: str) -> tuple[Reply, str | None] | None:
        """ "the second one", "4th", "number 2": after a list answer its item by its number
        (the order the answer lists them in), otherwise a button of the last reply."""
        number = self._ordinal(read)
        if number is None or len(read.words) > self.spec.max_followup_words:
            return None
        if not any(read.has(c) for c in self._list_cues) and not self._only_a_number(read):
            return None  # "two eggs" after a food card is no choice of its second button
        listed = self.spec.list_answers.get(live.intent or "", ())
        actions = [f"i:{t}" for t in listed] or [
            a for _, a in live.items if a.startswith(("i:", "f:"))
        ]
        if not actions or abs(number) > len(actions) or number == 0:
            return None
        shown = self.engine.act(actions[number - 1 if number > 0 else -1])
        return (shown, None) if shown is not None else None

    def _picked(self, live: Dialogue, read: _Read, _: str) -> tuple[Reply, str | None] | None:
        """ "the b12", "magnesium one" after the bot asked which: the one button whose name
        holds every word of it, or whose topic it names ("magnesium" → magnesium for cramps).
        """
        if live.asked is None:
            return None
        fold = self.engine.normalise
        words = {w for w in read.words if w not in self._not_names}
        if not words or len(words) > PICK_WORDS:
            return None
        topics = (self.spec.entity_topics.get(v) for _, v in read.things)
        named = {f"i:{t}" for t in topics if t}
        chosen = {
            action
            for label, action in live.items
            if action.startswith(("i:", "f:"))
            and (words <= set(fold(label).split()) or action in named)
        }
        shown = self.engine.act(chosen.pop()) if len(chosen) == 1 else None
        return (shown, None) if shown is not None else None

    def _ordinal(self, read: _Read) -> int | None:
        """ "second", "2nd", "last" — or a number after "number", "option", or alone ("#2")."""
        words = read.words
        for i, word in enumerate(words):
            if word in self.spec.ordinals:
                return self.spec.ordinals[word]
            if not word.isdigit():
                continue
            after = words[i + 1] if i + 1 < len(words) else ""
            before = words[i - 1] if i else ""
            # the normalised text splits "2nd" into "2 nd"
            if after in _ORDINAL_ENDS or before in self.spec.number_words or len(words) == 1:
                return int(word)
        return None

    def _only_a_number(self, read: _Read) -> bool:
        """ "4th", "number 2", "#3": nothing but the number that picks."""
        return all(w in self._number_only or w.isdigit() for w in read.words)

    def _food_aside(self, live: Dialogue, read: _Read, _: str) -> tuple[Reply, str | None] | None:
        """ "and bananas?" after potassium for cramps: the banana's B12, or the potassium in
        bananas? A bare follow-up naming one food after a medical answer outside the food
        family asks which of the two."""
        shown = key(live.intent, live.food)
        if len(read.foods) != 1 or shown is None or shown.startswith(FOOD_TOPIC):
            return None
        if not self.things.topical(shown) or self.things.family(shown) == self._food_family:
            return None
        if not self._bare(read):
            return None
        return self.things.which((f"{FOOD_TOPIC}{read.foods[0]}", shown), live), None

    def _unclear(self, live: Dialogue, read: _Read, reply: Reply) -> Reply | None:
        """ "would b12 help with that?" after night cramps and period cramps: a short message
        that points back when the last one was about two things or more, and picks none of
        them. It names nothing of a kind the last message named (that would be one of them,
        or the same question of another: "would potassium help with that" after magnesium),
        alone it is not about one of them, nor one more of their family ("could quinine do
        that too" after two remedies). Asks which, with its own confident answer as a choice. After
        one thing, `_which_item` decides (a list answer, or two answers of a family in a row)."""
        things = self.things.in_context(live)
        if read.foods or len(read.words) > self.spec.max_followup_words:
            return None
        if len(things) == 1 and not read.named:
            return self._which_item(live, read, things[0])
        if len(things) < 2:
            return None
        if not self._points_back(read, things) or (read.named and self._opens(read)):
            return None
        kinds = {k for k, _ in live.entities if k in _TOPIC_KINDS}
        if any(kind in kinds for kind, _ in read.things):
            return None  # one of them by name, or the same question of another of its kind
        own = key(reply.intent, reply.food)
        if own in things:
            return None
        own_family = self.things.family(own) if own else None
        if (
            (read.named or (self._sure(reply) and self._another(read)))
            and reply.kind in ANSWERED
            and self._same_family(own, live)
            and (self._another(read) or all(self.things.family(t) == own_family for t in things))
        ):
            # "could it be her thyroid instead" after medicines, "can meds do it too" after
            # low potassium: another cause
            return None
        also = own if self._sure(reply) else None  # what the message alone would get
        family = self.things.family(also) if also else None
        if family is not None and all(self.things.family(t) == family for t in things):
            return None  # "is potassium as good?" after two remedies: one more of them
        return self.things.which(things, live, also=also)

    def _which_item(self, live: Dialogue, read: _Read, thing: str) -> Reply | None:
        """One thing in context, yet more than one meant: "is it safe?" after the remedies
        side by side asks which of them (content `list_answers`) — unless the list answer
        has a part of its own for the question ("what can i do about it" after the causes
        is the remedies) and the message does not point at one item ("that one"); "which
        is better?" after salmon, then tuna, asks which of the two."""
        listed = self.spec.list_answers.get(thing, ())
        name = self._sub_name(read)
        own_part = name in self.spec.sections.get(thing, {})
        one = any(read.has(w) for w in self._one_of)
        if listed and (one or not own_part) and (self._points_back(read) or name is not None):
            return self._which_part(listed, live, name, limit=LIST_CHOICES)
        previous = live.previous
        if previous and self._same_family(previous, live):
            if self._compares(read):
                return self.things.which((thing, previous), live)
            if name is not None and self._one_list(thing, previous):
                # "how much should i take" after magnesium, then "and potassium?": of which?
                return self._which_part((previous, thing), live, name)
        return None

    def _one_list(self, *things: str) -> bool:
        """The things are items of one list answer (two remedies, two causes)."""
        return any(all(t in items for t in things) for items in self.spec.list_answers.values())

    def _compares(self, read: _Read) -> bool:
        """Asks to choose between things without naming them ("which is better?")."""
        return any(read.has(c) for c in self._compare)

    def _another(self, read: _Read) -> bool:
        """Says it asks about one more thing of the kind ("too", "instead", "as well")."""
        return any(read.has(w) for w in self._another_words)

    def _same_family(self, own: str | None, live: Dialogue) -> bool:
        """What the message names is answered, alone, in the family of the answer just shown."""
        shown = key(live.intent, live.food)
        family = self.things.family(shown) if shown else None
        return own is not None and family is not None and self.things.family(own) == family

    def _points_back(self, read: _Read, things: Sequence[str] = ()) -> bool:
        """ "that", "it", or a question left open at its end ("would b12 help?" — about a
        problem, so not after foods and remedies only); not a message that picks by its words
        ("the vegan bit", "the one about medicines")."""
        if any(w in self._picks for w in read.words):
            return False
        if self._refers(read):
            return True
        ends = [*self._more_asks]
        if not things or any(self.things.family(t) not in self.spec.not_problems for t in things):
            ends += self._open_ends
        return any(read.joined.endswith(f" {o} ") for o in ends)

    def _refers(self, read: _Read) -> bool:
        """Has a word that points back at the last message — not the "it" of "is it safe to
        take b12", which stands for what follows (nor that sentence's "that"). In "is it safe
        to take" nothing follows the verb: the "it" is the last topic."""
        words, dummy = read.words, set[int]()
        for i, word in enumerate(words):
            after = range(i + 1, min(i + 4, len(words)))
            then = next((j for j in after if words[j] in self._then), None)
            if word in self._expletive and then is not None and then + 2 < len(words):
                dummy |= {i, then}
        return any(w in self._anaphora for i, w in enumerate(words) if i not in dummy)

    def _sub_question(self, live: Dialogue, read: _Read, reply: Reply) -> Reply | None:
        """ "why?", "is it safe?": that part of the last topic, or which topic it is about.
        A question that names its own topic ("how much magnesium should I take") is not one."""
        name = self._sub_name(read)
        if name is None or read.foods:
            return None
        topics = [t for t in dict.fromkeys((live.intent or "", *live.topics)) if t]
        cue = set(max((c for c in self._sub[name] if read.has(c)), key=len).split())
        own = [
            w for w in read.words if w not in cue and w not in self._filler and w not in self._stop
        ]
        things = self.things.in_context(live)
        tool = live.intent in (LAB_INTENT, MEAL_INTENT) and self._points_back(read)
        back = self._refers(read) and not read.named  # "a lot of it": of the last topic
        if own and reply.kind in ANSWERED and reply.intent in things:
            topics, things = [reply.intent], (reply.intent,)  # names one of the two
        elif (
            own
            and reply.kind in ANSWERED
            and reply.intent not in topics
            and not (tool or back)
            and (read.named or (self._sure(reply) and self._own_words(own)))
        ):
            # Its own question — but "how much b12 is that" after a meal is about the meal,
            # and "how much a day tho" after magnesium names nothing of its own: an answer
            # alone (daily B12 needs, even a sure one) to a word or two is no reason to leave
            # the topic.
            return None
        cards = tuple(t for t in things if t.startswith(FOOD_TOPIC))
        if name in self.spec.card_parts and len(cards) == 1:
            things = cards  # only a food card has a serving: that food's
        intents = self.engine.content.intents
        fitting = tuple(
            t
            for t in things
            if t not in intents or t in live.parts or name in self.spec.sections.get(t, {})
        )
        if len(things) > 1 and len(fitting) == 1:
            # "why tho" after "can low potassium make u cramp": of the answers it was about,
            # only low minerals has a why. What a part of it asked ("when running and at
            # night") stays a choice, and a food card or a reading answers anything again.
            topics, things = list(fitting), fitting
        if len(things) > 1:  # the last message was about two things: ask which
            return self._which_part(things, live, name)
        topic = topics[0] if topics else None
        section = self.spec.sections.get(topic or "", {}).get(name)
        if section is not None and section.choose is not None:
            return self._which_part(section.choose, live, name, limit=len(section.choose))
        if topic is not None and section is not None:
            return self._section(*self._place(topic, name, section), name)
        again = self._shown(live, things[0]) if things else None  # no such part: it again
        return replace(again, details={**(again.details or {}), "section": name}) if again else None

    def _which_part(
        self, things: Sequence[str], live: Dialogue, name: str | None, limit: int = MAX_CHOICES
    ) -> Reply:
        """Which of the things a sub-question is about; the question rides along, so the
        pick ("the b12 one", or its button) gets that part of the answer (`_part_of`)."""
        which = self.things.which(things, live, limit=limit)
        return replace(which, details={"section": name}) if name is not None else which

    def _part_of(self, live: Dialogue, reply: Reply) -> Reply:
        """After "any side effects?" asked which, the answer picked, by its part for that."""
        name = live.asked
        if name in (None, WHICH) or reply.kind not in ANSWERED or reply.intent is None:
            return reply
        if f"i:{reply.intent}" not in {action for _, action in live.items}:
            return reply
        section = self.spec.sections.get(reply.intent, {}).get(name)
        if section is None or section.choose is not None:
            return reply
        return self._section(*self._place(reply.intent, name, section), name)

    def _own_words(self, own: list[str]) -> bool:
        """A sub-question's words of its own ask anew: more than a couple, or one of the
        domain ("when should i see a doctor about cramps" after salmon; not "a day tho")."""
        return len(own) > OWN_WORDS or not self.engine.domain.isdisjoint(own)

    def _again(self, live: Dialogue, read: _Read, reply: Reply) -> Reply | None:
        """ "does it actually work?" after stretching, "is it a good source?" after tuna: a
        message that points back at the one thing the last message was about and names
        nothing of its own gets that thing again — unless it is a confident answer alone."""
        things = self.things.in_context(live)
        if len(things) != 1 or read.named or len(read.words) > self.spec.max_followup_words:
            return None
        if not self._points_back(read, things):
            return None
        if self._sure(reply) and not (reply.intent == FOOD and reply.food is None):
            return None
        own = key(reply.intent, reply.food) if reply.kind in ANSWERED else None
        if (
            own != things[0]
            and self._same_family(own, live)
            and (self._another(read) or self._opens(read))
        ):
            # "could his meds be doing it too" after kidney failure, "and stretching, does that
            # help" after water: another of the family, answered alone
            return None
        shown = self._shown(live, things[0])
        if shown is None:
            return None
        # Asked again: the whole answer (what its More button shows), not the summary again.
        more = next((b.action for b in shown.buttons if _more(b.action)), None)
        return (self.engine.act(more) if more else None) or shown

    def _shown(self, live: Dialogue, thing: str) -> Reply | None:
        """The reply about one thing of the context: a food card, the lab reading, the
        meal's count, an intent's answer."""
        if thing.startswith(FOOD_TOPIC):
            return self.engine.act(f"f:{thing.removeprefix(FOOD_TOPIC)}")
        if thing == LAB_INTENT:
            return self.engine.act(live.lab) if live.lab else None
        if thing == MEAL_INTENT:
            return self.engine.count_intake(live.meal, live.life_stage) if live.meal else None
        if thing in self.engine.content.intents:
            return self.engine.answer_intent(thing, 100.0)
        return None

    def _sub_name(self, read: _Read) -> str | None:
        best: tuple[int, str] | None = None
        for name, cues in self._sub.items():
            for cue in cues:
                if read.has(cue) and (best is None or len(cue) > best[0]):
                    best = (len(cue), name)
        return best[1] if best else None

    def _place(self, topic: str, name: str, section: Section) -> tuple[str, Section | None]:
        """(intent, part) a section points at; an intent's own same-named part if it has
        one ("are they safe?" after B12 for cramps → the Safety part of supplement safety)."""
        if section.intent is None:
            return topic, section
        inner = self.spec.sections.get(section.intent, {}).get(name)
        if inner is not None and inner.intent is None:
            return section.intent, inner
        return section.intent, None

    def _section(self, intent_id: str, section: Section | None, name: str) -> Reply:
        """That part of an answer with its Source line; its More button (kept from the
        whole answer) shows the whole answer."""
        full = self.engine.answer_intent(intent_id, 100.0)
        intent = self.engine.content.intents[intent_id]
        part = section.part(intent.answer) if section else None
        if part is None:
            return replace(full, details={"section": name})
        title = html.escape(intent.title)
        text = self.engine._with_sources(f"<b>{title}</b>\n{part}", intent.sources)
        buttons = tuple(b for b in full.buttons if not b.action.startswith(("s:", "s!:")))
        more = full.more or full.text
        return replace(
            full, text=text, more=more, sources=None, buttons=buttons, details={"section": name}
        )

    def _readings(self, live: Dialogue, read: _Read, reply: Reply) -> Reply | None:
        """A bare follow-up ("and magnesium?": an opener and a word or two, no cue) has up to
        three readings: the last question asked of the new thing (can low magnesium cause
        cramps?), the new thing's own answer (magnesium for cramps) and, when it only says when
        or where (`qualifier_kinds`: "and at night?" after stretching), the last topic narrowed
        by it. When they land on different things it asks which; otherwise the same question.
        After a lab number or a meal the tool's own rules decide."""
        again = self._same_question(live, read, reply)
        last = key(live.intent, live.food)
        if last is None or live.intent in (LAB_INTENT, MEAL_INTENT) or not self._bare(read):
            return again
        own = key(reply.intent, reply.food) if reply.kind in ANSWERED else None
        same = key(again.intent, again.food) if again is not None else None
        if own is None or own == last or not self.things.topical(own):
            # Alone it reads as nothing of the topic ("and at night?" as a good night): when it
            # only says when or where, the re-read (or, when that is unsure, the cramps of that
            # time or place) and the last topic narrowed by it remain.
            if self._qualifies(live, read):
                other = same if same is not None else self._qualified(read)
                if other is not None and other != last:
                    return self.things.which((other, last), live)
            return again
        family = self.things.family(last)
        if same is not None and same != own and self._own_question(read, own):
            return self.things.which((same, own), live)
        # The last question did not fit it: its own, or the nearest of the last family. After
        # a topic of no family a confident reading alone is its own ("is b12 safe to take" then
        # "and magnesium?").
        unfit = same is None and self.things.family(own) != family
        if unfit and (family is not None or not self._sure(reply)):
            other = self._in_family(live, read, reply) or last
            return self.things.which((own, other), live)
        if self._qualifies(live, read):
            return self.things.which((own, last), live)
        return again

    def _own_question(self, read: _Read, own: str) -> bool:
        """The message alone is a question of its own, besides the last question asked of it:
        the topic the content gives what it names ("magnesium" → magnesium for cramps,
        `entity_topics`). Not "and a banana?" after salmon, whatever the banana alone reads as,
        nor "and water?" after potassium: no topic of its own, so the same question."""
        return any(self.spec.entity_topics.get(value) == own for _, value in read.things)

    def _bare(self, read: _Read) -> bool:
        """Opens like a follow-up and then names a short thing only: no verdict, sub-question
        or life-stage cue that another rule reads."""
        rest = [w for w in read.words if w not in self._filler and w not in self._stop]
        if not self._opens(read) or not 0 < len(rest) <= self.spec.max_bare_words:
            return False
        cued = any(read.has(c) for c in self._verdict) or self._sub_name(read) is not None
        return not cued and self._stage(read) is None

    def _qualified(self, read: _Read) -> str | None:
        """What the qualifier alone asks about ("cramps at night" → night cramps), if sure."""
        rest = " ".join(w for w in read.words if w not in self._filler)
        reply = self.engine.ask(self.spec.qualifier_template.format(rest=rest))
        thing = key(reply.intent, reply.food) if self._sure(reply) else None
        return thing if thing is not None and self.things.topical(thing) else None

    def _qualifies(self, live: Dialogue, read: _Read) -> bool:
        """Says only when or where ("and at night?", "in my calves?"), of a kind the last
        message did not name: it may narrow the last question rather than ask its own. Not
        "overdoing it at the gym": that names what, too."""
        qualifiers = set(self.spec.qualifier_kinds)
        kinds = {kind for kind, _ in read.things}
        if not kinds or not kinds <= qualifiers or kinds & {kind for kind, _ in live.entities}:
            return False
        said = {w for kind, words in read.spans if kind in qualifiers for w in words.split()}
        rest = (w for w in read.words if w not in self._filler and w not in self._stop)
        return all(w in said for w in rest)

    def _same_question(self, live: Dialogue, read: _Read, reply: Reply) -> Reply | None:
        """ "and yoghurt?", "what about potassium": the last topic's question, new thing."""
        family = self._family(live, read, reply)
        if family == "food" and read.foods:
            return self.engine.act(f"f:{read.foods[0]}")
        again = self._reread(family, read)
        if family is None or again is None:
            return None
        spec = self.spec.families[family]
        # A food question counts only with its food: the bare "look up a food" help does not.
        fits = again.food is not None or (again.intent in spec.intents and again.intent != FOOD)
        new_topic = again.intent != live.intent or reply.kind not in ANSWERED
        return again if again.kind in ANSWERED and fits and new_topic else None

    def _family(self, live: Dialogue, read: _Read, reply: Reply) -> str | None:
        if live.intent is None:
            return self._offered_family(live, read, reply)
        return self.spec.family_of(live.intent)

    def _reread(self, family: str | None, read: _Read) -> Reply | None:
        """The message's words without filler, through the family's template ("what about
        potassium" → "does potassium help with cramps")."""
        rest = " ".join(w for w in read.words if w not in self._filler)
        if family is None or not rest:
            return None
        if not (read.named or set(rest.split()) & self.things.known):
            return None  # nothing the content knows ("asdkjh qwpo"): not a new thing to ask about
        return self.engine.ask(self.spec.families[family].template.format(rest=rest))

    def _in_family(self, live: Dialogue, read: _Read, reply: Reply) -> str | None:
        """The likeliest intent of the last topic's family for the re-read message, whatever
        it was answered with ("can potassium cause cramps" ranks potassium for cramps first,
        then low minerals): the other choice of a follow-up whose readings differ."""
        family = self._family(live, read, reply)
        again = self._reread(family, read)
        if family is None or again is None:
            return None
        intents = self.spec.families[family].intents
        ranked = (s for s in again.ranked if s.intent in intents and s.intent != FOOD)
        return next(
            (s.intent for s in ranked if s.intent != live.intent and s.score >= TOPIC_MIN), None
        )

    def _offered_family(self, live: Dialogue, read: _Read, reply: Reply) -> str | None:
        """ "what about tempeh then" after did-you-mean buttons: the family of what they
        offered. Only when they offered something (a bare "I didn't get that" offers nothing,
        whatever the model guessed), only to a message that opens like a follow-up, and never
        to one that gets did-you-mean buttons of its own: that one is its own question."""
        asked = bool(live.items) and live.items[-1][1] == "none"  # ends with "None of these"
        own = reply.kind is ReplyKind.fallback and bool(reply.suggestions)
        if not asked or own or not self._opens(read):
            return None
        offered = (_offered(action) for _, action in live.items)
        return next(filter(None, map(self.spec.family_of, offered)), None)

    # -- remembering --------------------------------------------------------------------------

    def _remember(
        self, live: Dialogue, text: str, reply: Reply, now: float, meal: str | None
    ) -> Dialogue:
        if reply.kind in (ReplyKind.invalid, ReplyKind.social):
            return replace(live, updated_at=now)
        if reply.kind is ReplyKind.urgent:
            return Dialogue(life_stage=live.life_stage, updated_at=now)
        details = reply.details or {}
        lab = live.lab
        if reply.intent == LAB_INTENT:
            lab = _lab_action(details) or lab
        if reply.intent == MEAL_INTENT:
            meal = meal or text or live.meal
        stage = _stage_of(details) or live.life_stage
        own = (reply.intent,) if reply.intent else ()
        topics, parts = self.things.of(reply, text) if text else (own, ())
        food = reply.food or (live.food if reply.intent == live.intent else None)
        before, after = key(live.intent, live.food), key(reply.intent, food)
        return Dialogue(
            intent=reply.intent or live.intent,
            food=food,
            lab=lab,
            meal=meal if reply.intent == MEAL_INTENT else live.meal,
            items=tuple((b.label, b.action) for b in reply.buttons),
            topics=topics,
            parts=parts,
            asked=_asked(reply),
            entities=tuple((e.kind, e.value) for e in reply.entities),
            life_stage=stage,
            previous=before if before != after else live.previous,
            updated_at=now,
        )


def _asked(reply: Reply) -> str | None:
    """Whether the reply asked which, and of what sub-question (`_which_part`), for the pick
    after it: the section's name, or WHICH when it asked only which thing was meant."""
    if reply.kind is not ReplyKind.fallback or not reply.suggestions:
        return None
    name = (reply.details or {}).get("section")
    return name if isinstance(name, str) else WHICH


_ORDINAL_ENDS = frozenset({"st", "nd", "rd", "th"})


def _lab_action(details: dict[str, object]) -> str | None:
    """The button action that shows this reading again; None for a reading without a value."""
    test, value, unit = details.get("test"), details.get("value"), details.get("unit")
    if isinstance(test, str) and isinstance(value, int | float) and isinstance(unit, str):
        return lab_tool.lab_action(test, float(value), unit)
    return None


def _same_meal(live: Dialogue, found: Reply | None) -> tuple[Reply, str | None] | None:
    """A reply in context, with the meal it counts: a meal shown again is still that meal."""
    if found is None:
        return None
    return found, live.meal if found.intent == MEAL_INTENT else None


def _offered(action: str) -> str | None:
    """The topic a did-you-mean button offers: its intent, or the food help for a food card."""
    if action.startswith("f:"):
        return FOOD
    return action.removeprefix("i:") if action.startswith("i:") else None


def _more(action: str) -> bool:
    view = views.parse(action)
    return view is not None and view.more


def _stage_of(details: dict[str, object]) -> str | None:
    stage = details.get("life_stage")
    return stage if isinstance(stage, str) else None
