"""Deciding whether a message describes an emergency happening now, and which.

A concept found in the message counts ("is alive") only when nothing around it says
otherwise:
- negated: a negation before it in the same segment, within reach and not past a
  pronoun ("no pain in my chest, only my calves" negates chest pain, not the calves;
  "didn't sleep my chest hurts" negates nothing), or "fine" just after it;
- past: the sentence is about long ago ("years ago", "ruled out") and nothing brings
  it back to now ("…and now my calf is swollen again" is alive);
- a past event: an event's name just after "had a", "history of";
- asked about: the sentence asks about an emergency ("what are the signs of a stroke")
  — event names never count there, symptoms only when the sentence also describes
  someone's own ("…i have chest pain").
A situation matches when one of its rules finds all its concepts alive close together
in one sentence (or anywhere, for `scope: message`) with none of its `unless` there.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from bot.content.urgent import Urgent, UrgentExamples
from bot.core.safety.learned import MAX_CHARS, THRESHOLD, VETO, SecondOpinion
from bot.core.safety.terms import Hit, Terms, minutes, term_stems
from bot.core.safety.words import Reader, Word
from bot.core.understand.cache import ModelStore

log = logging.getLogger(__name__)
_WORD = re.compile(r"[^\W_]+")
_ONSET = frozenset({"start", "began", "begun", "came", "since"})  # stems: "started 11 min ago"
MODEL_MIN_WORDS = 4  # shorter messages are judged by the rules alone
# Up to this many words, a message that names only `framing` concepts (who, how old, when) is judged
# by the rules alone: chat follow-ups such as "ok and my husband hes 45" are 4–7 words. Checked on
# urgent_dev3–8 read with the rules as they were before each was written (git history) and a
# model trained without it, five training seeds: the gate removed none of the emergencies only
# the model caught; from 9 words on it would have removed some ("my son's having a sea sure on
# the kitchen floor").
FRAMING_MAX_WORDS = 7
FOLLOWING_REACH = 8  # words from a concept to a past-time word after it that still governs it
_MARKER_KINDS = (
    "negation negation_after not_negation past past_event recent about hypothetical personal"
).split()


@dataclass(frozen=True, slots=True)
class Verdict:
    alarms: tuple[str, ...] = ()  # situation ids happening now, the most urgent first
    mentions: tuple[str, ...] = ()  # situations asked about, not described: a safety line


class RulesReading(NamedTuple):
    verdict: Verdict
    aside: bool  # every emergency word that starts a rule was negated, and none is left
    framing_only: bool  # it names who, how old or when and no other concept of a rule


class Reading(NamedTuple):
    words: list[Word]
    rules: RulesReading
    asks_model: bool


def combined(
    rules: Verdict,
    probability: float,
    situation: str,
    threshold: float = THRESHOLD,
    veto: float = VETO,
    vetoes: Mapping[str, float] | None = None,
) -> Verdict:
    """The rules' verdict with the second opinion's P(emergency) and likeliest situation;
    `vetoes`: situations with a veto of their own (urgent.yaml), the lowest one applies."""
    if rules.alarms:
        if vetoes:
            veto = min(vetoes.get(s, veto) for s in rules.alarms)
        if probability >= veto:
            return rules
        # The rules fired on words the model has almost never seen in an emergency
        # ("my wallet is having a seizure"): the answer, with the safety line instead.
        return Verdict((), rules.alarms + rules.mentions)
    if probability < threshold:
        return rules
    return Verdict((situation,), tuple(s for s in rules.mentions if s != situation))


class Safety:
    """The safety layer. Pure and cheap: one message in, a Verdict out; it never raises."""

    def __init__(
        self,
        urgent: Urgent,
        examples: UrgentExamples | None = None,
        ordinary: Iterable[str] = (),
        store: ModelStore | None = None,
    ) -> None:
        """`examples` (content/urgent_examples.yaml) and `ordinary` messages train the
        learned second opinion (`learned.py`); without examples the rules decide alone."""
        self.urgent = urgent
        m = urgent.markers
        named: dict[str, tuple[str, ...]] = dict(urgent.lexicon)
        for kind in _MARKER_KINDS:
            named[f"~{kind}"] = getattr(m, kind)
        # Typos are corrected towards what can raise an alarm or change its meaning, never
        # towards a word that only cancels one ("snory" must not become "story").
        ruled = {n for s in urgent.situations for r in s.rules for n in r.all}
        vocabulary = {
            w
            for name, terms in named.items()
            if name in ruled or name.startswith("~")
            for t in terms
            for w in _WORD.findall(t.casefold())
            if not w.isdigit()
        }
        vocabulary |= set(m.negation_stops) | set(m.interjection_next) | set(m.negation_after_via)
        vocabulary |= {w for v in urgent.spellings.values() for w in v.split()}
        cancelling = {n for s in urgent.situations for r in s.rules for n in s.unless + r.unless}
        self._terms = Terms(named, frozenset(cancelling - ruled))
        self._framing = frozenset(urgent.framing)
        self._evidence = frozenset(ruled - self._framing)
        self._reader = Reader(
            vocabulary, m.breaks, m.joins, spellings=urgent.spellings, used=self._terms.keys
        )
        self._stops = frozenset(s for w in m.negation_stops for s in term_stems(w))
        self._quiet = frozenset(_stems(self._reader.read(q)) for q in urgent.model_quiet)
        self._interjection = frozenset(s for w in m.interjection_next for s in term_stems(w))
        self._via = frozenset(s for w in m.negation_after_via for s in term_stems(w))
        self._no = term_stems("no")[0]
        self._events = frozenset(urgent.events)
        self._history = frozenset(urgent.history)
        # Rules compiled once, and indexed by their first concept: a rule is looked at only
        # when that concept is alive. (rank, situation id, whole message?, rule)
        self._rules: dict[str, list[tuple[int, str, bool, Compiled]]] = defaultdict(list)
        for rank, situation in enumerate(sorted(urgent.situations, key=lambda s: s.rank)):
            for r in situation.rules:
                compiled = (
                    r.all,
                    r.within,
                    situation.unless + r.unless,
                    situation.cancel_in == "clause",
                )
                entry = (rank, situation.id, situation.scope == "message", compiled)
                self._rules[r.all[0]].append(entry)
        self._durations = [(d.concept, d.min_minutes) for d in urgent.durations]
        self.vetoes = {s.id: s.veto for s in urgent.situations if s.veto is not None}
        self.second = (
            None
            if examples is None
            else SecondOpinion(self._reader, examples, ordinary, store, urgent.model_dump_json())
        )

    def check(self, text: str) -> Verdict:
        try:
            return self._check(text)
        except Exception:  # a bug here must never cost the reply; tests fuzz this path
            log.exception("safety layer failed on a message of %d characters", len(text))
            return Verdict()

    def _check(self, text: str) -> Verdict:
        words, rules, asks_model = self.reading(text)
        if self.second is None or not asks_model:
            return rules.verdict
        # The model reads at most MAX_CHARS: a message's start is enough to judge it.
        probability, situation = self.second.assess(text, words if len(text) <= MAX_CHARS else None)
        return combined(rules.verdict, probability, situation, vetoes=self.vetoes)

    def reading(self, text: str) -> Reading:
        """The reader's words, the rules' reading, and whether the second opinion is asked."""
        words = self._reader.read(text)
        rules = self._rules_verdict(words)
        if len(words) < MODEL_MIN_WORDS or _stems(words) in self._quiet:
            # On a few words ("yo", "not really", typed answers in the check) the model would be
            # guessing; the rules alone judge them (and they catch "cant breathe", "chest pain").
            return Reading(words, rules, False)
        short = len(words) <= FRAMING_MAX_WORDS
        if not rules.verdict.alarms and (rules.aside or (short and rules.framing_only)):
            # A short message that says only who or how many ("ok and my husband hes 45"): the
            # model has seen such words mostly in emergencies, so it would be reading the framing.
            return Reading(words, rules, False)
        return Reading(words, rules, True)

    def retrained(self, examples: UrgentExamples, ordinary: Iterable[str]) -> SecondOpinion:
        """A second opinion reading as this layer's does, learned from other examples (the
        safety cross-validation trains one without each corpus)."""
        return SecondOpinion(self._reader, examples, ordinary, None, self.urgent.model_dump_json())

    def _rules_verdict(self, words: Sequence[Word]) -> RulesReading:
        """The rules' verdict; whether they negated every emergency word that starts a rule
        ("i don't have chest pain and my breathing is fine"): then the model is not asked to
        overrule them — it has little grasp of negation, only of wordings the rules lack; and
        whether the message names nothing of a rule but who or how many."""
        if not words:
            return RulesReading(Verdict(), False, False)
        hits = self._terms.find(words) + self._duration_hits(words)
        concepts = [h for h in hits if not h.name.startswith("~")]
        framing_only = self._framing_only(concepts)
        if not any(h.name in self._rules for h in concepts):
            # nothing that starts a rule: no alarm, no mention
            return RulesReading(Verdict(), False, framing_only)
        markers: dict[str, list[Hit]] = defaultdict(list)
        for h in _uncovered([h for h in hits if h.name.startswith("~")], hits):
            markers[h.name[1:]].append(h)
        negations = self._negations(words, markers)
        alive: list[Hit] = []
        asked: list[Hit] = []
        aside = False
        present: dict[str, list[Hit]] = defaultdict(list)  # not negated: what can cancel
        for h in concepts:
            if self._negated(h, words, negations, markers):
                aside = aside or h.name in self._rules
                continue
            present[h.name].append(h)
            if self._past(h, markers):
                continue
            (asked if self._asked(h, markers, words) else alive).append(h)
        aside = aside and not any(h.name in self._rules for h in alive)
        alarms = self._matching(alive, present)
        if not asked:
            return RulesReading(Verdict(alarms), aside, framing_only)
        mentions = tuple(s for s in self._matching(alive + asked, present) if s not in alarms)
        return RulesReading(Verdict(alarms, mentions), aside, framing_only)

    def _framing_only(self, concepts: list[Hit]) -> bool:
        """Whether the message names who, how old or when and no concept of a rule outside
        those words: in "and my wife, shes 52" the number that could be a count of pills is
        the age. A message naming no concept at all ("i dont want to exist anymore") is not
        framing: the model is what reads wordings the rules lack."""
        spans = [(h.start, h.end) for h in concepts if h.name in self._framing]
        return bool(spans) and not any(
            h.name in self._evidence and not any(s <= h.start and h.end <= e for s, e in spans)
            for h in concepts
        )

    # -- context -------------------------------------------------------------------------

    def _negations(self, words: Sequence[Word], markers: dict[str, list[Hit]]) -> list[Hit]:
        """Negations that are not an interjection ("no my chest is killing me")."""
        found = []
        for n in markers["negation"]:
            if (
                n.end - n.start == 1
                and words[n.start].stem == self._no
                and n.end < len(words)
                and words[n.end].segment == n.segment
                and words[n.end].stem in self._interjection
            ):
                continue
            found.append(n)
        return found

    def _negated(
        self,
        hit: Hit,
        words: Sequence[Word],
        negations: list[Hit],
        markers: dict[str, list[Hit]],
    ) -> bool:
        reach = self.urgent.markers.negation_reach
        for n in negations:
            if n.segment != hit.segment or n.end > hit.start or hit.start - n.end >= reach:
                continue
            if not any(words[k].stem in self._stops for k in range(n.end, hit.start)):
                return True
        return any(
            m.segment == hit.segment
            and hit.end < m.start <= hit.end + 2
            and all(words[k].stem in self._via for k in range(hit.end, m.start))
            for m in markers["negation_after"]
        )

    def _past(self, hit: Hit, markers: dict[str, list[Hit]]) -> bool:
        """In the past: the time marker that governs it says so. That is the nearest one
        before it in its sentence, else the nearest after it: "had a DVT years ago, now my
        calf is swollen" — the calf is governed by "now"."""
        if hit.name in self._history:
            return False
        recent = markers["recent"]
        if hit.name in self._events and any(
            p.segment == hit.segment and 0 <= hit.start - p.end <= 2 for p in markers["past_event"]
        ):
            return not any(r.segment == hit.segment for r in recent)
        times = [(p.start, True) for p in markers["past"] if p.sentence == hit.sentence]
        if not times:
            return False
        times += [(r.start, False) for r in recent if r.sentence == hit.sentence]
        before = [t for t in times if t[0] < hit.start]
        if before:
            return max(before)[1]
        # A time word after it governs only from close by: "shaking uncontrollably, 39.9, …,
        # had my spleen out years ago" is happening now.
        after = min(times)
        return after[1] and after[0] - hit.end <= FOLLOWING_REACH

    def _asked(self, hit: Hit, markers: dict[str, list[Hit]], words: Sequence[Word]) -> bool:
        # An imagined case covers its clause ("what should i do if someone has a seizure"), and
        # what "and" adds to it up to the next comma or "but" ("…if someone collapses and isn't
        # breathing"); a marker that is a clause of its own ("hypothetically, …") covers the
        # rest of the sentence — not what came before it ("… bleeding gums right now, should
        # i worry" is happening).
        if any(
            a.segment == hit.segment
            or (a.sentence == hit.sentence and a.whole_segment and a.start < hit.start)
            or (a.start < hit.start and words[a.start].chunk == words[hit.start].chunk)
            for a in markers["hypothetical"]
        ):
            return True
        if not any(a.sentence == hit.sentence for a in markers["about"]):
            return False
        if hit.name in self._events:
            return True
        return not any(p.sentence == hit.sentence for p in markers["personal"])

    # -- rules ---------------------------------------------------------------------------

    def _matching(self, alive: list[Hit], present: dict[str, list[Hit]]) -> tuple[str, ...]:
        """The situations some rule of which matches, the most urgent first. A cancelling
        concept counts whatever its tense ("want to die of embarrassment … last time")."""
        by_name: dict[str, list[Hit]] = defaultdict(list)
        for h in alive:
            by_name[h.name].append(h)
        found: dict[str, int] = {}
        for name in list(by_name):
            for rank, situation, whole, rule in self._rules.get(name, ()):
                if situation not in found and _rule_matches(rule, by_name, present, whole):
                    found[situation] = rank
        return tuple(sorted(found, key=found.__getitem__))

    def _duration_hits(self, words: Sequence[Word]) -> list[Hit]:
        if not self._durations:
            return []
        hits = []
        for i, w in enumerate(words):
            value = minutes(words, i)
            if value is None:
                continue
            # "an hour ago" says when, not how long — unless it is when it started.
            ago = i + 2 < len(words) and words[i + 2].stem == "ago"
            if ago and not any(w.stem in _ONSET for w in words[max(0, i - 3) : i]):
                continue
            for name, least in self._durations:
                if value >= least:
                    hits.append(Hit(name, i, i + 2, w.sentence, w.segment))
        return hits


def _uncovered(markers: list[Hit], hits: list[Hit]) -> list[Hit]:
    """Markers that are not part of a longer term: "not" in "not breathing" or "not sure",
    "once" in "all at once", "still" in "still fine" are that term, not a marker of their own."""
    longer = [h for h in hits if h.end - h.start > 1]
    return [
        m
        for m in markers
        if not any(
            c.start <= m.start < c.end and c.end - c.start > m.end - m.start and c.name != m.name
            for c in longer
        )
    ]


Compiled = tuple[tuple[str, ...], int, tuple[str, ...], bool]


def _rule_matches(
    rule: Compiled, by_name: dict[str, list[Hit]], present: dict[str, list[Hit]], whole: bool
) -> bool:
    """All the rule's concepts alive, close to one hit of its first, and nothing cancelling."""
    names, within, unless, cancel_in_clause = rule
    if not all(n in by_name for n in names):
        return False
    cancels = [h for name in unless for h in present.get(name, ())]
    for anchor in by_name[names[0]]:
        if whole:
            return not cancels
        if any(
            c.segment == anchor.segment if cancel_in_clause else c.sentence == anchor.sentence
            for c in cancels
        ):
            continue
        if all(
            any(
                h.sentence == anchor.sentence and abs(h.start - anchor.start) <= within
                for h in by_name[name]
            )
            for name in names[1:]
        ):
            return True
    return False


def _stems(words: Sequence[Word]) -> tuple[str, ...]:
    """A message as corrected stems: how a `model_quiet` phrase is compared with it."""
    return tuple(w.stem for w in words)
