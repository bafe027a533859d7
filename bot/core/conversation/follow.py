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

from bot.content import Category
from bot.content.conversation import Conversation, Section, heading_part
from bot.core.conversation.dialogue import Dialogue
from bot.core.reply import Button, Reply, ReplyKind
from bot.core.tools import intake as intake_tool
from bot.core.tools import labs as lab_tool

if TYPE_CHECKING:
    from bot.core.engine import Engine

LAB_INTENT = lab_tool.INTENT
MEAL_INTENT = intake_tool.INTENT
_KEEPS = (ReplyKind.urgent, ReplyKind.invalid, ReplyKind.start_check)
_ANSWERED = (ReplyKind.answer, ReplyKind.food)
FOOD = "food_lookup"
TOPIC_MIN = 20.0  # a ranked intent at least this sure counts as something the message is about
_TOPIC_KINDS = frozenset(
    {"food", "nutrient", "medicine", "condition", "test", "body_part", "time_of_day"}
)
FOOD_TOPIC = "food:"  # a topic that is one food card: "salmon or tuna?" is about two


@dataclass(frozen=True, slots=True)
class _Read:
    """One message as the follow-up rules see it."""

    words: tuple[str, ...]
    joined: str  # " word word " — phrases are found as whole words
    foods: tuple[str, ...]
    ages: tuple[int, ...]
    named: bool  # names a topic of its own (a food, nutrient, medicine, condition, …)

    def has(self, phrase: str) -> bool:
        return f" {phrase} " in self.joined


class FollowUps:
    """The follow-up rules of one engine's content."""

    def __init__(self, engine: Engine, conversation: Conversation) -> None:
        self.engine, self.spec = engine, conversation
        fold = engine.normalise
        self._openers = sorted({fold(o) for o in conversation.openers if fold(o)}, key=len)[::-1]
        self._fresh = [fold(c) for c in conversation.fresh_cues if fold(c)]
        self._anaphora = {fold(w) for w in conversation.anaphora} | set(conversation.anaphora)
        self._stop = set(engine.content.synonyms.stopwords)
        self._known = {
            w
            for intent in engine.content.intents.values()
            for e in intent.examples
            for w in fold(e).split()
        } - self._stop
        self._filler = {fold(w) for w in conversation.filler} | set(conversation.filler)
        self._verdict = [fold(c) for c in conversation.verdict_cues if fold(c)]
        self._meal_add = [fold(o) for o in conversation.meal_add_openers if fold(o)]
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
        self._months = {fold(w) for w in conversation.month_words} | set(conversation.month_words)

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
        if reply.kind not in _KEEPS and known and self._shaped(read, reply):
            resolved = self._resolve(live, read, text, reply)
            if resolved is not None:
                reply, meal = resolved
        dialogue = self._remember(live, text, reply, now, meal)
        if resolved is not None and reply.intent:
            # A follow-up answered in context is about what it was answered with, not about
            # what its few words would mean on their own.
            dialogue = replace(dialogue, topics=(reply.intent,))
        return dialogue, reply

    def pressed(self, dialogue: Dialogue | None, reply: Reply, now: float) -> Dialogue:
        """A button's reply becomes the context too ("and tofu?" after a tapped food card)."""
        return self._remember(dialogue or Dialogue(), "", reply, now, None)

    # -- reading ------------------------------------------------------------------------------

    def _read(self, text: str, reply: Reply) -> _Read:
        """The message's words; what it names comes from the engine's reply to it (`ask`
        found the entities already), so it is not read twice."""
        words = tuple(self.engine.normalise(text[:500]).split())
        found = reply.entities
        foods = tuple(e.value for e in found if e.kind == "food")
        ages = tuple(int(e.value) for e in found if e.kind == "age" and e.value.isdigit())
        named = any(e.kind in _TOPIC_KINDS for e in found)
        return _Read(words, f" {' '.join(words)} ", foods, ages, named)

    def _opens(self, read: _Read) -> bool:
        return any(read.joined.startswith(f" {o} ") for o in self._openers)

    def _sure(self, reply: Reply) -> bool:
        """Answered confidently on its own."""
        return reply.kind in _ANSWERED and reply.score >= self.engine.thresholds.sure

    def _shaped(self, read: _Read, reply: Reply) -> bool:
        """Short, or opening like a follow-up, or carrying a follow-up's cue (a verdict, a
        sub-question, a life stage). A message that says it changes the subject, or a longer
        one the engine answers confidently on its own, is a new question, and wins."""
        count = len(read.words)
        if not count or any(read.has(c) for c in self._fresh):
            return False
        if self._opens(read):
            return True
        sure = self._sure(reply)
        if sure and count > self.spec.max_followup_words:
            return False
        cued = any(read.has(c) for c in self._verdict) or self._sub_name(read) is not None
        if (cued or self._stage(read) is not None) and count <= self.spec.max_cued_words:
            return True
        return count <= self.spec.max_followup_words and (not sure or count <= 3)

    # -- resolving ----------------------------------------------------------------------------

    def _resolve(
        self, live: Dialogue, read: _Read, text: str, reply: Reply
    ) -> tuple[Reply, str | None] | None:
        for rule in (self._verdict_on, self._meal_added, self._stage_named, self._listed):
            found = rule(live, read, text)
            if found is not None:
                return found
        if self._new_question(read, reply):
            return None
        sub = self._sub_question(live, read, reply)
        if sub is not None:
            return sub, None
        again = self._same_question(live, read, reply)
        if again is not None:
            return again, None
        return None

    def _new_question(self, read: _Read, reply: Reply) -> bool:
        """Names its own topic, points back at nothing and is answered confidently alone."""
        if self._opens(read) or any(w in self._anaphora for w in read.words):
            return False
        return read.named and self._sure(reply)

    def _verdict_on(self, live: Dialogue, read: _Read, _: str) -> tuple[Reply, str | None] | None:
        """ "so is it low?" after a lab number, "is that enough?" after a meal."""
        if not any(read.has(c) for c in self._verdict) or read.foods:
            return None
        if live.intent == LAB_INTENT and live.lab:
            shown = self.engine.act(live.lab)
            return (shown, None) if shown is not None else None
        if live.intent == MEAL_INTENT and live.meal:
            counted = self.engine.count_intake(live.meal, live.life_stage)
            return (counted, live.meal) if counted is not None else None
        return None

    def _meal_added(self, live: Dialogue, read: _Read, text: str) -> tuple[Reply, str] | None:
        """ "and a banana" after a meal: counted with what was eaten before."""
        tools = self.engine.tools
        if live.intent != MEAL_INTENT or not live.meal or tools is None:
            return None
        added = intake_tool.parse_meal(text, self.engine.content.foods, tools.intake)
        opens = any(read.joined.startswith(f" {o} ") for o in self._meal_add)
        if not added.items or not (opens or len(read.words) <= self.spec.max_followup_words):
            return None
        meal = f"{live.meal}, {text}"
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
        for age in read.ages:
            found = self.spec.stage_for_age(age)
            if found is not None:
                return found
        for stage, words in self._stage_words.items():
            if any(read.has(w) for w in words):
                return stage
        return None

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
        """ "the second one": a button of the last reply, by its number."""
        if not live.items or not any(read.has(c) for c in self._list_cues):
            return None
        number = next((self.spec.ordinals[w] for w in read.words if w in self.spec.ordinals), None)
        if number is None or len(read.words) > self.spec.max_followup_words:
            return None
        actions = [a for _, a in live.items if a.startswith(("i:", "f:"))]
        if not actions or abs(number) > len(actions) or number == 0:
            return None
        shown = self.engine.act(actions[number - 1 if number > 0 else -1])
        return (shown, None) if shown is not None else None

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
        if own and reply.kind in _ANSWERED and reply.intent not in topics:
            return None
        if len(topics) > 1:  # the last message was about two things: ask which
            return self._which_one(topics, live)
        topic = topics[0] if topics else None
        section = self.spec.sections.get(topic or "", {}).get(name)
        if topic is not None and section is not None:
            return self._section(*self._place(topic, name, section), name)
        if topic in self.engine.content.intents:  # no such part: the topic's answer again
            return replace(self.engine.answer_intent(topic, 100.0), details={"section": name})
        return None

    def _sub_name(self, read: _Read) -> str | None:
        best: tuple[int, str] | None = None
        for name, cues in self._sub.items():
            for cue in cues:
                if read.has(cue) and (best is None or len(cue) > best[0]):
                    best = (len(cue), name)
        return best[1] if best else None

    def _place(self, topic: str, name: str, section: Section) -> tuple[str, str | None]:
        """(intent, heading) a section points at; an intent's own same-named part if it has
        one ("are they safe?" after B12 for cramps → the Safety part of supplement safety)."""
        if section.intent is None:
            return topic, section.heading
        inner = self.spec.sections.get(section.intent, {}).get(name)
        if inner is not None and inner.heading is not None:
            return section.intent, inner.heading
        return section.intent, None

    def _section(self, intent_id: str, heading: str | None, name: str) -> Reply:
        """That headed part of an answer with its Source line; its More button (kept from the
        whole answer) shows the whole answer."""
        full = self.engine.answer_intent(intent_id, 100.0)
        intent = self.engine.content.intents[intent_id]
        part = heading_part(intent.answer, heading) if heading else None
        if part is None:
            return replace(full, details={"section": name})
        title = html.escape(intent.title)
        text = self.engine._with_sources(f"<b>{title}</b>\n{part}", intent.sources)
        buttons = tuple(b for b in full.buttons if not b.action.startswith(("s:", "s!:")))
        more = full.more or full.text
        return replace(
            full, text=text, more=more, sources=None, buttons=buttons, details={"section": name}
        )

    def _same_question(self, live: Dialogue, read: _Read, reply: Reply) -> Reply | None:
        """ "and yoghurt?", "what about potassium": the last topic's question, new thing."""
        family = self.spec.family_of(live.intent)
        if family is None:
            return None
        if family == "food" and read.foods:
            return self.engine.act(f"f:{read.foods[0]}")
        rest = " ".join(w for w in read.words if w not in self._filler)
        if not rest:
            return None
        spec = self.spec.families[family]
        if not (read.named or set(rest.split()) & self._known):
            return None  # nothing the content knows ("asdkjh qwpo"): not a new thing to ask about
        again = self.engine.ask(spec.template.format(rest=rest))
        # A food question counts only with its food: the bare "look up a food" help does not.
        fits = again.food is not None or (again.intent in spec.intents and again.intent != FOOD)
        new_topic = again.intent != live.intent or reply.kind not in _ANSWERED
        return again if again.kind in _ANSWERED and fits and new_topic else None

    def _which_one(self, topics: Sequence[str], live: Dialogue) -> Reply:
        """Did-you-mean buttons built from the context: the last message's topics (a food
        card or a lab reading among them), then the last reply's own buttons."""
        engine, intents = self.engine, self.engine.content.intents
        buttons: list[Button] = []
        shown: list[str] = []
        for topic in topics:
            food = topic.removeprefix(FOOD_TOPIC) if topic.startswith(FOOD_TOPIC) else None
            if food in engine.content.foods:
                name = engine.content.foods[food].name
                buttons.append(Button(engine.message("food_button", name=name), f"f:{food}"))
            elif topic == "food_lookup" and live.food in engine.content.foods:
                name = engine.content.foods[live.food].name
                buttons.append(Button(engine.message("food_button", name=name), f"f:{live.food}"))
            elif topic == LAB_INTENT and live.lab:
                buttons.append(Button(self.spec.lab_button, live.lab))
            elif topic in intents:
                buttons.append(Button(intents[topic].button, f"i:{topic}"))
            else:
                continue
            shown.append(topic)
        for label, action in live.items:
            if len(buttons) >= 3:
                break
            if action.startswith(("i:", "f:")) and action not in {b.action for b in buttons}:
                buttons.append(Button(label, action))
        buttons = buttons[:3]
        buttons.append(Button(engine.message("none_of_these"), "none"))
        return Reply(
            engine.message("fallback_suggest"),
            ReplyKind.fallback,
            suggestions=tuple(shown[:3]),
            buttons=tuple(buttons),
        )

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
        topics = self._topics(reply) if text else ((reply.intent,) if reply.intent else ())
        return Dialogue(
            intent=reply.intent or live.intent,
            food=reply.food or (live.food if reply.intent == live.intent else None),
            lab=lab,
            meal=meal if reply.intent == MEAL_INTENT else live.meal,
            items=tuple((b.label, b.action) for b in reply.buttons),
            topics=topics,
            entities=tuple((e.kind, e.value) for e in reply.entities),
            life_stage=stage,
            updated_at=now,
        )

    def _topics(self, reply: Reply) -> tuple[str, ...]:
        """What the message could be about: the answer's intent and the model's runners-up."""
        engine = self.engine
        medical = [
            s.intent
            for s in reply.ranked
            if s.score >= TOPIC_MIN
            and engine.content.intents[s.intent].category is Category.medical
        ]
        named = [
            self.spec.entity_topics[e.value]
            for e in reply.entities
            if e.value in self.spec.entity_topics
        ]
        foods = [f"{FOOD_TOPIC}{e.value}" for e in reply.entities if e.kind == "food"]
        own = (reply.intent,) if reply.intent else ()
        return tuple(dict.fromkeys((*own, *medical, *named, *(foods if len(foods) > 1 else ()))))


def _lab_action(details: dict[str, object]) -> str | None:
    """The button action that shows this reading again; None for a reading without a value."""
    test, value, unit = details.get("test"), details.get("value"), details.get("unit")
    if isinstance(test, str) and isinstance(value, int | float) and isinstance(unit, str):
        return lab_tool.lab_action(test, float(value), unit)
    return None


def _stage_of(details: dict[str, object]) -> str | None:
    stage = details.get("life_stage")
    return stage if isinstance(stage, str) else None
