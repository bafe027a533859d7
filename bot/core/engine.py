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
    yamlfile,
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
from bot.core.conversation import FollowUps
from bot.core.reply import Button, Reply, ReplyKind
from bot.core.safety import Safety, Verdict
from bot.core.tools import foodlist, intake, labs
from bot.core.understand.cache import ModelStore
from bot.core.understand.entities import Entity, EntityFinder
from bot.core.understand.match import FOOD_TOKEN, Analysis, Matcher, Scored
from bot.core.understand.model import ModelParams
from bot.core.understand.normalise import Normaliser, visible
from bot.core.understand.spelling import english_words, stem

URGENT = "urgent_help"  # the intent id of every urgent reply; no phrasing scores for it
URGENT_ACTION = "u:"  # a button to another emergency's reply: "u:<situation id>"
FOOD_LOOKUP = "food_lookup"
B12 = "b12"  # the one word normalisation turns every way of writing B12 into
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
    food_boost: float = 10.0  # one food and B12 named: food_lookup counts this many times


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
        english_words(store)  # before the readers need it: the store keeps it packed
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
            i.id: [self.normalise.asked(self.normalise(e)) for e in i.examples]
            for i in content.intents.values()
        }
        foods = {f.id: [self.normalise(n) for n in f.names] for f in content.foods.values()}
        self.domain = frozenset(self.normalise(w) for w in content.synonyms.domain)
        self._empty = frozenset(self.normalise(w) for w in content.synonyms.empty)
        tests = {t.id: t.names for t in tools.labs.tests} if tools else {}
        lexicon = entities or load_entities(content.directory)
        self.entities = EntityFinder(lexicon, tests, self.normalise)
        not_foods = [  # "liver disease" is no food; "chicken liver" is one (unlisted)
            self.normalise(name)
            for kind, named in lexicon.kinds.items()
            if kind != "unlisted_food"
            for names in named.values()
            for name in names
        ]
        self.matcher = Matcher(
            matchable,
            foods,
            set(content.synonyms.stopwords),
            params,
            aliases={k: self.normalise(v) for k, v in content.synonyms.spellings.items()},
            store=store,
            not_foods=not_foods,
        )
        self.followups = FollowUps(self, conversation) if conversation else None
        empty: frozenset[str] = frozenset()
        self._measures, self._many = _counting_words(tools.intake) if tools else (empty, empty)

    @classmethod
    def load(
        cls,
        directory: Path,
        thresholds: Thresholds | None = None,
        store: ModelStore | None = None,
    ) -> Engine:
        """Load content/ and build the engine; raise ContentError on any problem.

        `store` keeps the trained intent model (default: the user's cache directory)."""
        try:
            content, urgent, examples, entities, conversation, tools = _read(directory)
        finally:
            yamlfile.forget()  # every file is read: the parsed texts are not worth their memory
        return cls(
            content,
            thresholds,
            tools=tools,
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
        analysis = self.matcher.analyse(self.normalise.asked(normalised))
        ranked = self.matcher.rank(analysis)
        if verdict.alarms:
            return self._urgent(verdict, ranked)
        if len(analysis.foods) == 1 and B12 in analysis.corrected:
            ranked = _boosted(ranked, FOOD_LOOKUP, self.thresholds.food_boost)
        evidence = not self.domain.isdisjoint(analysis.corrected)
        reply = self._tool(text, normalised, analysis, life_stage)
        if reply is None:
            said = self._says_something(analysis.words)
            reply = self.decide(ranked, analysis.foods, evidence) if said else self._fallback([])
        found = self.entities.find(analysis.corrected, analysis.foods)
        reply = self._unlisted_food(reply, found) or reply
        return replace(
            self._with_mention(reply, verdict), entities=found, ranked=tuple(ranked[:TOP_RANKED])
        )

    def _says_something(self, words: tuple[str, ...]) -> bool:
        """A word with letters that is not one of `empty`: "' OR 1=1 --" says nothing."""
        return any(not w.isdigit() and w not in self._empty for w in words)

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

    def _tool(
        self, text: str, normalised: str, analysis: Analysis, life_stage: str | None
    ) -> Reply | None:
        """A lab value, a meal, a ranking request or a food named alone ("eggs", "salmon?")
        gets its tool's reply instead of an FAQ. A message naming one food is no ranking
        request ("I eat salmon most mornings": "most" ranks nothing)."""
        if self.tools is None:
            return None
        t, foods = self.tools, self.content.foods
        named = analysis.foods
        counting, only = self._counting(analysis.tokens)
        if not counting and labs.looks_like_lab(normalised, t.labs):
            reading = labs.explain_lab(text, t.labs)
            if reading is not None:
                return replace(self._lab(reading), score=100.0)
        if only or intake.looks_like_meal(normalised, t.intake, foods):
            meal = intake.parse_meal(text, foods, t.intake)
            if meal.items:
                return replace(self.intake(meal, life_stage), score=100.0)
        if len(named) == 1 and set(analysis.tokens) == {FOOD_TOKEN}:
            return self.answer_food(foods[named[0]], 100.0)
        request = foodlist.ranking_request(normalised, t.food_lists) if len(named) != 1 else None
        if request is not None:
            vegan, limit = request
            reply = foodlist.render_ranking(
                foods.values(), t.food_lists, self._titles, vegan=vegan, limit=limit
            )
            return replace(reply, score=100.0)
        return None

    def _counting(self, tokens: tuple[str, ...]) -> tuple[bool, bool]:
        """(every number counts a food, the message is nothing but counted food): "b12 in 2
        eggs" and "3 slices of ham" hold no lab value, and "2 eggs" alone is a meal to add up."""
        numbers = [i for i, token in enumerate(tokens) if token.isdigit() or token in self._many]
        if not numbers:
            return False, False
        counting = all(self._counts_food(tokens, i) for i in numbers)
        rest = [token for token in tokens if token != FOOD_TOKEN]
        many = all(token in self._many or (token.isdigit() and int(token) > 1) for token in rest)
        return counting, counting and many

    def _counts_food(self, tokens: tuple[str, ...], i: int) -> bool:
        """The number at `i` counts the food after it: "2 eggs", "2 slices of ham"."""
        after = tokens[i + 1 : i + 4]
        if after[:1] == (FOOD_TOKEN,):
            return True
        return bool(after) and after[0] in self._measures and FOOD_TOKEN in after[1:3]

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
        outside = next((s for s in ranked if self.is_outside(s.intent)), None)
        if evidence and outside is not None and ranked[0].score - outside.score < t.out_of_scope:
            return self._in_scope_only(ranked, foods)
        if not ranked or ranked[0].score < t.answer:
            return self._fallback(ranked, at_least=3 if evidence else 0)
        top = ranked[0]
        if self.is_outside(top.intent):
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
        inside = [s for s in ranked if not self.is_outside(s.intent)]
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

    def is_outside(self, intent_id: str) -> bool:
        """An intent of phrasings the bot does not cover (the fallback's own answer)."""
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


def _boosted(ranked: list[Scored], intent: str, factor: float) -> list[Scored]:
    """The ranking with `intent`'s probability counted `factor` times, renormalised: a
    message naming one food and B12 asks about that food ("heard tempeh has b12, true?",
    "I'm vegan and eat tofu daily, will that cover my b12") unless the model is all but
    sure it asks something else ("are eggs and dairy enough b12 for a vegetarian")."""
    boosted = next((s for s in ranked if s.intent == intent), None)
    if boosted is None:
        return ranked
    total = 100.0 + (factor - 1.0) * boosted.score
    scaled = [
        Scored(s.intent, round(100.0 * s.score * (factor if s is boosted else 1.0) / total, 1))
        for s in ranked
    ]
    return sorted(scaled, key=lambda s: -s.score)


def _counting_words(portions: Intake) -> tuple[frozenset[str], frozenset[str]]:
    """The measures ("slice", "cup", "g") and the number words above one ("two", "dozen")
    of intake.yaml, stemmed as the matcher's tokens are ("slices" → "slice")."""
    measures = frozenset(stem(w) for w in (*portions.weights, *portions.volumes, *portions.counts))
    return measures, frozenset(stem(w) for w, n in portions.numbers.items() if n > 1)


def _top(ranked: list[Scored]) -> float:
    return ranked[0].score if ranked else 0.0


def _read(
    directory: Path,
) -> tuple[Content, Urgent, UrgentExamples, EntityLexicon, Conversation, Tools]:
    """Every content file, checked; ContentError on any problem."""
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
    return content, urgent, examples, entities, conversation, Tools.load(directory)
