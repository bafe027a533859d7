"""Typed answers to a check question — "yes", "yeah i do", "nah", "2", "1, 3", "i take
metformin and omeprazole", "78 years old", "a couple of times a week", a label with a typo —
read onto the question's options. A hedge ("kinda", "sort of") where a yes or a no is needed
is asked back rather than guessed, so nothing is recorded that was not meant.

The words (fillers, hedges, number words, units) are content: `typed:` in
content/questionnaire.yaml, whose comment gives the order of the steps.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from enum import StrEnum

from rapidfuzz import fuzz, process

from bot.content.questionnaire import Option, Question, TypedWords

_SPLIT = re.compile(r"\s*(?:,|;|/|&|\+|\band\b|\bplus\b)\s*", re.IGNORECASE)
_CLAUSE = re.compile(r"[,;.!?—–]|\s-\s")
_RUNS = re.compile(r"(.)\1+")
_NO_WORDS = TypedWords()


class AskBack(StrEnum):
    """A hedge where a clear answer is needed: ask again and record nothing."""

    yes_no = "yes_no"  # "Is that a yes or a no?"
    closest = "closest"  # only a hedge ("sort of") to another question: "Which is closest?"


Reading = tuple[str, ...] | AskBack | None


def normalise(text: str) -> str:
    """Case-fold, drop punctuation and maths symbols (keep emoji), squeeze spaces."""
    text = unicodedata.normalize("NFKC", text).casefold().replace("'", "").replace("’", "")
    kept = (
        " " if unicodedata.category(c)[0] == "P" or unicodedata.category(c) == "Sm" else c
        for c in text
    )
    return " ".join("".join(kept).split())


def read_answer(
    question: Question,
    text: str,
    words: TypedWords = _NO_WORDS,
    visible: Sequence[Option] | None = None,
) -> Reading:
    """Option ids for a typed answer, AskBack for a hedge, or None if it is not an answer
    (then it is most likely a question for the engine)."""
    return _Reader(question, visible, words).read(text)


def parse_typed_answer(
    question: Question,
    text: str,
    visible: Sequence[Option] | None = None,
    words: TypedWords = _NO_WORDS,
) -> tuple[str, ...] | None:
    """Option ids for a typed answer, or None if it is not clearly one (hedges included)."""
    reading = read_answer(question, text, words, visible)
    return reading if isinstance(reading, tuple) else None


def _squeeze(text: str) -> str:
    """Held-down letters count once: "yesss" is "yes", "noooo" is "no"."""
    return _RUNS.sub(r"\1", text)


def _table(options: Iterable[Option], fold: bool) -> dict[str, Option | None]:
    """Every label and synonym → its option; None where two options share it."""
    table: dict[str, Option | None] = {}
    for option in options:
        for word in (option.label, *option.synonyms):
            key = normalise(word)
            key = _squeeze(key) if fold else key
            if key:
                table[key] = option if table.get(key, option) is option else None
    return table


class _Reader:
    """One question's options and the content's words, for reading one message."""

    def __init__(
        self, question: Question, visible: Sequence[Option] | None, words: TypedWords
    ) -> None:
        self.question = question
        self.options = tuple(visible if visible is not None else question.options)
        self.keys = _table(self.options, fold=False)
        self.folded = _table(self.options, fold=True)
        self.yes_no = {"yes", "no"} <= {o.id for o in self.options}
        self.filler = {normalise(w) for w in words.filler}
        self.hedges = {normalise(w) for w in words.hedges}
        self.leads = {normalise(w) for w in words.leads}
        self.negations = {normalise(w) for w in words.negations}
        self.numbers = {normalise(w): n for w, n in words.numbers.items()}
        self.units = {normalise(w): unit for unit, ws in words.units.items() for w in ws}
        phrases = [*self.filler, *self.hedges, *self.units]
        self.longest = max((len(p.split()) for p in phrases), default=1)

    def read(self, text: str) -> Reading:
        whole = normalise(text)
        if not whole:
            return None
        found, hedged, rest = self.find(whole)
        if found is not None and not (hedged and self.yes_no):
            return (found.id,)
        if self.question.choice == "single":
            option = self.lead(text, whole)
            if option is not None:
                return (option.id,)
        if found is not None:  # "kind of yes"
            return AskBack.yes_no
        if hedged and self.yes_no:  # "sometimes in my toes": neither a yes nor a no
            return AskBack.yes_no if len(rest.split()) <= 3 else None
        if hedged and not rest:  # only a hedge ("sort of")
            return AskBack.closest
        return self.parts(text, whole)

    def parts(self, text: str, whole: str) -> Reading:
        """Several options at once ("my calves and feet", "1, 5", "metformin and omeprazole")."""
        parts = [p for p in map(normalise, _SPLIT.split(unicodedata.normalize("NFKC", text))) if p]
        if len(parts) == 1 and all(t.isdecimal() for t in whole.split()):
            parts = whole.split()
        chosen: list[Option] = []
        unknown: list[str] = []
        hedged = False
        for part in parts:
            option, hedge, rest = self.find(part)
            hedged |= hedge
            if option is not None:
                chosen.append(option)
            elif rest:
                unknown.append(rest)
        if hedged and self.yes_no:  # "kinda", "sometimes in my toes": not a yes or a no
            return AskBack.yes_no if sum(len(u.split()) for u in unknown) <= 3 else None
        if unknown:
            return None
        if not chosen:
            return AskBack.closest if hedged else None
        ids = {o.id for o in chosen}
        single = self.question.choice == "single"
        if len(ids) > 1 and (single or any(o.exclusive for o in chosen)):
            return None
        return tuple(o.id for o in self.question.options if o.id in ids)

    def find(self, part: str) -> tuple[Option | None, bool, str]:
        """The option `part` names, taking filler and hedge words off its ends one at a time
        ("i take metformin", "vegan mostly"); whether a hedge went; what is left if none."""
        tokens = part.split()
        hedged = False
        while tokens:
            core = " ".join(tokens)
            option = self.phrase(core)
            # "i get them maybe": a hedge is "Not sure" (or a yes/no) only said on its own
            vague = core != part and core in self.hedges
            if option is not None and not (vague and (self.yes_no or option.id == "unsure")):
                return option, hedged, ""
            cut = self._edge(tokens)
            if cut is None:
                break
            tokens, hedge = cut
            hedged |= hedge
        return None, hedged, " ".join(tokens)

    def _edge(self, tokens: list[str]) -> tuple[list[str], bool] | None:
        for n in range(min(self.longest, len(tokens)), 0, -1):
            for rest, edge in ((tokens[n:], tokens[:n]), (tokens[:-n], tokens[-n:])):
                words = " ".join(edge)
                if words in self.hedges or words in self.filler:
                    return rest, words in self.hedges
        return None

    def lead(self, text: str, whole: str) -> Option | None:
        """A first clause that is an answer ("yes, in my toes", "no, only a bit short of
        breath"), or a first word of `leads` not followed by a negation ("yeah i do")."""
        clause = normalise(_CLAUSE.split(unicodedata.normalize("NFKC", text), maxsplit=1)[0])
        if clause and clause != whole:
            option, hedged, _ = self.find(clause)
            if option is not None and not hedged:
                return option
        first, _, rest = whole.partition(" ")
        if not rest or _squeeze(first) not in {_squeeze(w) for w in self.leads}:
            return None
        if rest.split()[0] in self.negations:
            return None
        return self.key(first)

    def key(self, text: str) -> Option | None:
        if text in self.keys:
            return self.keys[text]
        return self.folded.get(_squeeze(text))

    def phrase(self, text: str) -> Option | None:
        """One option for one phrase: a button number, a label or synonym, an amount, or a
        label with a typo."""
        if text.isdecimal():
            return self.number(text)
        if text in self.keys or _squeeze(text) in self.folded:
            return self.key(text)
        return self.amount(text.split()) or self.fuzzy(text)

    def number(self, text: str) -> Option | None:
        """A button's number (its place in the question, the same whatever is hidden), or —
        beyond the buttons — an amount in the question's only unit ("78")."""
        if len(text) > 4:
            return None
        number, options = int(text), self.question.options
        if 1 <= number <= len(options):
            wanted = options[number - 1].id
            return next((o for o in self.options if o.id == wanted), None)
        units = {unit for o in self.options for unit in o.amounts}
        return self.within(number, units.pop()) if len(units) == 1 else None

    def amount(self, tokens: list[str]) -> Option | None:
        """A number, then a unit: "5 minutes", "a couple of times a week", "78 years old"."""
        for n in range(min(self.longest, len(tokens) - 1), 0, -1):
            unit = self.units.get(" ".join(tokens[-n:]))
            if unit is None:
                continue
            head = tokens[:-n]
            if head[-1:] == ["of"]:
                head = head[:-1]
            words = " ".join(head)
            if words.isdecimal() and len(words) <= 4:
                return self.within(int(words), unit)
            if words in self.numbers:
                return self.within(self.numbers[words], unit)
            return None
        return None

    def within(self, value: int, unit: str) -> Option | None:
        found = [
            o
            for o in self.options
            if unit in o.amounts and o.amounts[unit][0] <= value <= o.amounts[unit][1]
        ]
        return found[0] if len(found) == 1 else None

    def fuzzy(self, text: str) -> Option | None:
        if len(text) < 4:
            return None
        keys = [k for k in self.keys if len(k) >= 4 and self.keys[k] is not None]
        found = process.extract(text, keys, scorer=fuzz.ratio, score_cutoff=85, limit=2)
        if not found or (
            len(found) == 2
            and found[1][1] == found[0][1]
            and self.keys[found[0][0]] is not self.keys[found[1][0]]
        ):
            return None
        return self.keys[found[0][0]]
