"""The answer engine: one message in, one Reply out — the same for every window.

Order matters and is the product's safety policy: the emergency layer reads every
message first, on the raw text (it wins over everything, and only it decides that a
message is urgent), then bad input is answered, then matching — where the
out-of-scope phrasings and the social intents (hi, thanks, ok, bye) compete with
the medical answers, so "ok" never gets a medical reply and "bitcoin?" never a
wrong one. Pure: no I/O after `Engine.load`.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, replace
from pathlib import Path

from bot.content import (
    Category,
    Content,
    ContentError,
    Food,
    FoodKind,
    Intent,
    Problem,
    load_content,
)
from bot.content.conversation import Conversation, load_conversation
from bot.content.entities import EntityLexicon, load_entities
from bot.content.food_lists import GROUP_ACTION, FoodLists, check_food_lists, load_food_lists
from bot.content.intake import Intake, check_intake, load_intake
from bot.content.labs import Labs, check_labs, load_labs
from bot.content.model_cache import ModelDirectory
from bot.content.refs import ToolContentError
from bot.content.urgent import Urgent, UrgentExamples, load_urgent, load_urgent_examples
from bot.core import views
from bot.core.conversation import Dialogue, FollowUps
from bot.core.reply import Button, Reply, ReplyKind
from bot.core.safety import Safety, Verdict
from bot.core.tools import foodlist, intake, labs
from bot.core.understand.entities import Entity, EntityFinder
from bot.core.understand.match import Matcher, ModelStore, Scored
from bot.core.understand.model import ModelParams
from bot.core.understand.normalise import Normaliser, visible

URGENT = "urgent_help"  # the intent id of every urgent reply; no phrasing scores for it
URGENT_ACTION = "u:"  # a button to another emergency's reply: "u:<situation id>"
FOOD_LOOKUP = "food_lookup"
START_CHECK = "start_check"
TOP_RANKED = 3  # intents a reply carries from the ranking: what else the message may be about
MAX_CHARS = 4096  # Telegram's own limit on a message; anything longer is not a chat message
REQUIRED_MESSAGES = (
    "source_line fallback fallback_suggest none_of_these empty emoji_only too_long "
    "food_natural food_fortified food_unreliable food_alternative food_button food_no_figure "
    "food_caution more_button sources_button"
).split()


@dataclass(frozen=True, slots=True)
class Tools:
    """The personal tools' content: lab-result explainer, a day's B12, food lists."""

    labs: Labs
    intake: Intake
    food_lists: FoodLists

    @classmethod
    def load(cls, directory: Path) -> Tools:
        problems = check_labs(directory) + check_intake(directory) + check_food_lists(directory)
        if problems:
            raise ContentError(problems)
        return cls(load_labs(directory), load_intake(directory), load_food_lists(directory))


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Chosen by `python -m bot eval` on tests/data/eval.jsonl; see the README table."""

    answer: float = 45.0  # below: the fallback (scores are the model's calibrated probabilities)
    margin: float = 5.0  # top two closer than this (and both below `sure`): did-you-mean
    sure: float = 75.0
    suggest: float = 35.0  # lowest score still offered as a did-you-mean
    out_of_scope: float = 6.0  # an in-scope answer must beat the out-of-scope phrasings by this
    evidence: float = 10.0  # a domain message leaning out of scope: answered from this score up


class Engine:
    def __init__(
        self,
        content: Content,
        thresholds: Thresholds | None = None,
        params: ModelParams | None = None,
        tools: Tools | None = None,
        urgent: Urgent | None = None,
        store: ModelStore | None = None,
        urgent_examples: UrgentExamples | None = None,
        entities: EntityLexicon | None = None,
        conversation: Conversation | None = None,
    ) -> None:
        self.content = content
        self.tools = tools
        self.urgent = urgent or load_urgent(content.directory)
        self.safety = Safety(
            self.urgent,
            urgent_examples,
            [e for i in content.intents.values() for e in i.examples],
            store,
        )
        self._titles = {s.id: s.title for s in content.sources.values()}
        self._labels = views.Labels(self.message("more_button"), self.message("sources_button"))
        self.thresholds = thresholds or Thresholds()
        self.normalise = Normaliser(content.synonyms)
        matchable = {
            i.id: [self.normalise(e) for e in i.examples] for i in content.intents.values()
        }
        foods = {f.id: [self.normalise(n) for n in f.names] for f in content.foods.values()}
        self._domain = frozenset(self.normalise(w) for w in content.synonyms.domain)
        tests = {t.id: t.names for t in tools.labs.tests} if tools else {}
        self.entities = EntityFinder(
            entities or load_entities(content.directory), tests, self.normalise
        )
        self.matcher = Matcher(
            matchable,
            foods,
            set(content.synonyms.stopwords),
            params,
            aliases={k: self.normalise(v) for k, v in content.synonyms.spellings.items()},
            store=store,
        )
        self.followups = FollowUps(self, conversation) if conversation else None

    @classmethod
    def load(
        cls,
        directory: Path,
        thresholds: Thresholds | None = None,
        store: ModelStore | None = None,
    ) -> Engine:
        """Load content/ and build the engine; raise ContentError on any problem.

        `store` keeps the trained intent model (default: the user's cache directory)."""
        content = load_content(directory, Normaliser)
        missing = [key for key in REQUIRED_MESSAGES if key not in content.messages]
        if missing:
            raise ContentError(
                [
                    Problem(file="content/messages", field=k, message="required message missing")
                    for k in missing
                ]
            )
        try:
            urgent = load_urgent(directory)
            examples = load_urgent_examples(directory)
            entities = load_entities(directory)
            conversation = load_conversation(directory)
        except ToolContentError as error:
            raise ContentError(error.problems) from error
        return cls(
            content,
            thresholds,
            tools=Tools.load(directory),
            urgent=urgent,
            store=store or ModelDirectory(),
            urgent_examples=examples,
            entities=entities,
            conversation=conversation,
        )

    # -- windows call these ------------------------------------------------------------

    def ask(self, text: str, life_stage: str | None = None) -> Reply:
        """The reply to one message; `life_stage` is the user's stored one, for intake sums."""
        verdict = self.safety.check(text)
        if not visible(text).strip():
            return Reply(self.message("empty"), ReplyKind.invalid)
        if len(text) > MAX_CHARS and not verdict.alarms:
            return Reply(self.message("too_long", length=f"{len(text):,}"), ReplyKind.invalid)
        normalised = self.normalise(text[: MAX_CHARS * 2])
        if not normalised and not verdict.alarms:
            return Reply(self.message("emoji_only"), ReplyKind.invalid)
        analysis = self.matcher.analyse(normalised)
        ranked = self.matcher.rank(analysis)
        if verdict.alarms:
            return self._urgent(verdict, ranked)
        evidence = not self._domain.isdisjoint(analysis.corrected)
        reply = self._tool(text, normalised, life_stage) or self.decide(
            ranked, analysis.foods, evidence
        )
        found = self.entities.find(analysis.corrected, analysis.foods)
        reply = self._unlisted_food(reply, found) or reply
        return replace(
            self._with_mention(reply, verdict), entities=found, ranked=tuple(ranked[:TOP_RANKED])
        )

    def turn(self, dialogue: Dialogue | None, text: str, now: float) -> tuple[Dialogue, Reply]:
        """One message of a conversation: the reply read against the dialogue so far, and
        the dialogue after it. Every window keeps the dialogue and calls this."""
        life_stage = dialogue.life_stage if dialogue else None
        reply = self.ask(text, life_stage)
        if self.followups is None:
            return dialogue or Dialogue(updated_at=now), reply
        return self.followups.follow(dialogue, text, reply, now)

    def _unlisted_food(self, reply: Reply, found: tuple[Entity, ...]) -> Reply | None:
        """ "Chicken liver" is not chicken breast: a food answer for a food named inside an
        unlisted one says there is no checked figure instead of showing the wrong card."""
        if reply.intent != FOOD_LOOKUP or self.tools is None:
            return None
        unlisted = next((e for e in found if e.kind == "unlisted_food"), None)
        if unlisted is None:
            return None
        lists = self.tools.food_lists
        menu = Button(lists.texts.menu_button, f"{GROUP_ACTION}:menu")
        name = html.escape(unlisted.text)
        text = self.message("food_no_figure", title=name.capitalize(), name=name)
        buttons = (menu, *(b for b in reply.buttons if b.action.startswith("i:")))
        return replace(
            reply,
            kind=ReplyKind.food,
            text=text,
            food=None,
            buttons=buttons,
            more=None,
            sources=None,
        )

    def _tool(self, text: str, normalised: str, life_stage: str | None) -> Reply | None:
        """A lab value, a meal or a ranking request gets its tool's reply instead of an FAQ."""
        if self.tools is None:
            return None
        t, foods = self.tools, self.content.foods
        if labs.looks_like_lab(normalised, t.labs):
            reading = labs.explain_lab(text, t.labs)
            if reading is not None:
                return replace(self._lab(reading), score=100.0)
        if intake.looks_like_meal(normalised, t.intake, foods):
            meal = intake.parse_meal(text, foods, t.intake)
            if meal.items:
                return replace(self.intake(meal, life_stage), score=100.0)
        request = foodlist.ranking_request(normalised, t.food_lists)
        if request is not None:
            vegan, limit = request
            reply = foodlist.render_ranking(
                foods.values(), t.food_lists, self._titles, vegan=vegan, limit=limit
            )
            return replace(reply, score=100.0)
        return None

    def intake(self, meal: intake.Meal, life_stage: str | None) -> Reply:
        assert self.tools is not None  # noqa: S101 — callers check
        reply = intake.render_intake(
            meal, life_stage, self.tools.intake, self.content.foods, source_titles=self._titles
        )
        reply = views.offer(reply, intake.meal_ref(meal, life_stage), self._labels)
        return replace(reply, details=meal.details)

    def _lab(self, reading: labs.LabReading) -> Reply:
        assert self.tools is not None  # noqa: S101 — callers check
        reply = labs.render_lab(reading, self.tools.labs, self._titles)
        reply = views.offer(reply, labs.reading_action(reading), self._labels)
        return replace(reply, details=reading.details)

    def count_intake(self, text: str, life_stage: str | None = None) -> Reply | None:
        """/intake: always read the text as a meal."""
        if self.tools is None:
            return None
        return self.intake(
            intake.parse_meal(text, self.content.foods, self.tools.intake), life_stage
        )

    def act(
        self, action: str, *, meal: str | None = None, life_stage: str | None = None
    ) -> Reply | None:
        """The reply to a button; None for an action this content does not know. A More or
        Sources button of a day's-B12 count needs the `meal` it counted and the `life_stage`
        it was counted for (the user's last ones): it shows nothing for another meal."""
        view = views.parse(action)
        if view is not None:
            base = self._viewed(view.ref, meal, life_stage)
            if base is None:
                return None
            if view.safe:
                base = views.with_line(base, self.urgent.lines.mention)
            return views.show(base, view, self._labels)
        kind, _, ident = action.partition(":")
        if kind == URGENT_ACTION[0] and self.urgent.situation(ident) is not None:
            return self._urgent(Verdict((ident,)), [])
        if kind == "i" and ident in self.content.intents:
            return self.answer_intent(ident, 100.0)
        if kind == "f" and ident in self.content.foods:
            return self.answer_food(self.content.foods[ident], 100.0)
        if self.tools is None:
            return None
        reading = labs.reading_from_action(action, self.tools.labs)
        if reading is not None:
            return self._lab(reading)
        group = foodlist.group_from_action(action, self.tools.food_lists)
        foods = self.content.foods.values()
        if group == "":
            return foodlist.render_groups_menu(foods, self.tools.food_lists)
        if group is not None:
            return foodlist.render_group(group, foods, self.tools.food_lists, self._titles)
        return None

    def _viewed(self, ref: str, meal: str | None, life_stage: str | None) -> Reply | None:
        """The reply, as first sent, that a More or Sources button belongs to."""
        if ref.startswith(("i:", "f:", f"{labs.ACTION_PREFIX}:")):
            return self.act(ref)
        if not ref.startswith(f"{intake.MEAL_REF}:") or meal is None or self.tools is None:
            return None
        counted = intake.parse_meal(meal, self.content.foods, self.tools.intake)
        if intake.meal_ref(counted, life_stage) != ref:
            return None  # the user's last meal is another one now
        return self.intake(counted, life_stage)

    def message(self, key: str, **values: str) -> str:
        text = self.content.messages[key]
        return text.format(**values) if values else text

    # -- decisions ---------------------------------------------------------------------

    def decide(self, ranked: list[Scored], foods: tuple[str, ...], evidence: bool = False) -> Reply:
        """The reply for the model's ranking. `evidence`: the message names cramps, B12 or
        the body (content/synonyms.yaml `domain`), so it is never declined as out of scope."""
        t = self.thresholds
        outside = next((s for s in ranked if self._is_outside(s.intent)), None)
        if evidence and outside is not None and ranked[0].score - outside.score < t.out_of_scope:
            return self._in_scope_only(ranked, foods)
        if not ranked or ranked[0].score < t.answer:
            return self._fallback(ranked, at_least=3 if evidence else 0)
        top = ranked[0]
        if self._is_outside(top.intent):
            return self._out_of_scope(top)
        if outside is not None and top.score - outside.score < t.out_of_scope:
            return self._out_of_scope(outside)
        if len(ranked) > 1 and top.score < t.sure and top.score - ranked[1].score < t.margin:
            return self._fallback(ranked)
        return self._answer(top, foods)

    def _in_scope_only(self, ranked: list[Scored], foods: tuple[str, ...]) -> Reply:
        """The model leans out of scope but the message is about the domain: answer the
        best in-scope intent when it is clear among the in-scope ones, else did-you-mean."""
        t = self.thresholds
        inside = [s for s in ranked if not self._is_outside(s.intent)]
        total = sum(s.score for s in inside)
        if not total:
            return self._fallback(inside, at_least=3)
        top, share = inside[0], inside[0].score / total * 100
        runner = inside[1].score / total * 100 if len(inside) > 1 else 0.0
        if top.score >= t.evidence and share >= t.answer and share - runner >= t.margin:
            return self._answer(top, foods)
        return self._fallback(inside, at_least=3)

    def _answer(self, top: Scored, foods: tuple[str, ...]) -> Reply:
        if top.intent == FOOD_LOOKUP and foods:
            return self.answer_food(self.content.foods[foods[0]], top.score)
        return self.answer_intent(top.intent, top.score)

    # -- replies -----------------------------------------------------------------------

    def answer_intent(self, intent_id: str, score: float) -> Reply:
        intent = self.content.intents[intent_id]
        if intent_id == START_CHECK:
            kind = ReplyKind.start_check
        else:
            kind = ReplyKind.social if intent.category is Category.social else ReplyKind.answer
        answer, summary = intent.answer.strip(), intent.summary.strip()
        first, more = answer, None
        if summary != answer:  # else the answer is short enough to be its own summary
            title, _, rest = answer.partition("\n")
            first = f"{title}\n{summary}"
            more = f"{first}\n\n{rest.strip()}"
        reply = Reply(
            text=first,
            kind=kind,
            intent=intent.id,
            score=score,
            buttons=self._related(intent),
            more=more,
            sources=self._source_line(intent.sources) or None,
        )
        return views.offer(reply, f"i:{intent.id}", self._labels)

    def answer_food(self, food: Food, score: float) -> Reply:
        parts = [self.message(f"food_{food.kind.value}", **self._food_values(food))]
        sources = list(food.sources)
        buttons: list[Button] = []
        if food.kind is FoodKind.unreliable and food.alternative:
            alternative = self.content.foods[food.alternative]
            parts.append(self.message("food_alternative", **self._food_values(alternative)))
            sources += [s for s in alternative.sources if s not in sources]
            label = self.message("food_button", name=alternative.name)
            buttons.append(Button(label, f"f:{alternative.id}"))
        text = "\n".join(p.strip() for p in parts if p.strip())
        intent = self.content.intents[FOOD_LOOKUP]
        buttons += self._related(intent)
        reply = Reply(
            text=text,
            kind=ReplyKind.food,
            intent=FOOD_LOOKUP,
            food=food.id,
            score=score,
            buttons=tuple(buttons),
        )
        reply = views.fit(reply, self._food_summary(food, parts[1:]), self._source_line(sources))
        return views.offer(reply, f"f:{food.id}", self._labels)

    def _food_summary(self, food: Food, alternative: list[str]) -> str:
        """A long card's first message: what kind of source, its caution, the alternative."""
        card = self.message(f"food_{food.kind.value}", **(self._food_values(food) | {"note": ""}))
        parts = [card, *alternative]
        if food.caution:
            parts.insert(1, self.message("food_caution", caution=food.caution.strip()))
        return "\n".join(p.strip() for p in parts if p.strip())

    def _urgent(self, verdict: Verdict, ranked: list[Scored]) -> Reply:
        """The most urgent situation's own reply; a button to each other one that matched,
        and one to the other thing the message asked, for when they are safe."""
        situations = [s for s in map(self.urgent.situation, verdict.alarms) if s is not None]
        lead, others = situations[0], situations[1:]
        titles = [html.escape(self._titles.get(s, s)) for s in lead.sources]
        text = self.urgent.render(lead, titles)
        label = self.urgent.lines.also
        buttons = [Button(label.format(title=s.title), f"{URGENT_ACTION}{s.id}") for s in others]
        asked = next(
            (
                s
                for s in ranked
                if s.score >= self.thresholds.answer
                and self.content.intents[s.intent].category is Category.medical
            ),
            None,
        )
        if asked is not None:
            buttons.append(Button(self.content.intents[asked.intent].button, f"i:{asked.intent}"))
        return Reply(
            text=text,
            kind=ReplyKind.urgent,
            intent=URGENT,
            score=100.0,
            buttons=tuple(buttons),
            details={"situations": list(verdict.alarms)},
        )

    def _with_mention(self, reply: Reply, verdict: Verdict) -> Reply:
        """A question about an emergency gets its answer and one safety line, not the alarm."""
        if not verdict.mentions or reply.kind is ReplyKind.invalid:
            return reply
        return views.with_line(reply, self.urgent.lines.mention)

    def _is_outside(self, intent_id: str) -> bool:
        return self.content.intents[intent_id].category is Category.out_of_scope

    def _out_of_scope(self, top: Scored) -> Reply:
        intent = self.content.intents[top.intent]
        return Reply(
            intent.answer.strip(),
            ReplyKind.fallback,
            score=top.score,
            buttons=self._related(intent),
        )

    def _fallback(self, ranked: list[Scored], at_least: int = 0) -> Reply:
        """Did-you-mean buttons for the intents that came close; `at_least` that many even
        when none came close (a message about the domain always gets some)."""
        inside = [
            s
            for s in ranked
            if self.content.intents[s.intent].category
            not in (Category.out_of_scope, Category.social)
        ]
        suggestions = tuple(
            s.intent
            for k, s in enumerate(inside[:3])
            if s.score >= self.thresholds.suggest or k < at_least
        )
        if not suggestions:
            return Reply(self.message("fallback"), ReplyKind.fallback, score=_top(ranked))
        buttons = [Button(self.content.intents[i].button, f"i:{i}") for i in suggestions]
        buttons.append(Button(self.message("none_of_these"), "none"))
        return Reply(
            self.message("fallback_suggest"),
            ReplyKind.fallback,
            score=_top(ranked),
            suggestions=suggestions,
            buttons=tuple(buttons),
        )

    def _related(self, intent: Intent) -> tuple[Button, ...]:
        return tuple(Button(self.content.intents[r].button, f"i:{r}") for r in intent.related)

    def _with_sources(self, text: str, source_ids: list[str]) -> str:
        line = self._source_line(source_ids)
        return f"{text}\n\n{line}" if line else text

    def _source_line(self, source_ids: list[str]) -> str:
        """The "Source: …" line of these sources; "" for none."""
        if not source_ids:
            return ""
        titles = "; ".join(html.escape(self.content.sources[s].title) for s in source_ids)
        return self.message("source_line", sources=titles)

    def _food_values(self, food: Food) -> dict[str, str]:
        return {
            "name": html.escape(food.name),
            "mcg": f"{food.mcg:g}",
            "serving": html.escape(food.serving),
            "dv": f"{food.dv_percent:,}",
            "note": food.note.strip(),
        }


def _top(ranked: list[Scored]) -> float:
    return ranked[0].score if ranked else 0.0
