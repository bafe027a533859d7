"""The lab-result explainer: "my b12 came back 180 pg/ml" → where that value sits.

Pure: text in, `LabReading` out, `Reply` from that. Every figure and word comes from
content/labs.yaml. The explainer places a value against published cut-offs and names
their sources; it never diagnoses, and every reply sends the reader to their doctor.

Routing (for `Engine.ask`): after the empty/too-long checks and the urgent layer, and
before intent matching, `looks_like_lab(normalised, labs)` is a cheap yes/no; then
`explain_lab(text, labs)` returns None for anything that is not a lab result after all
("I take b12 1000 mcg"), and matching goes on as usual.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from bot.content.labs import LabClass, Labs, LabTest, Scheme, Unit
from bot.core.reply import Reply
from bot.core.tools.labtext import Lexicon, Number, lexicon
from bot.core.tools.parsing import action_number, fold, number_value

INTENT = "lab_result"
ACTION_PREFIX = "lab"
ASSUMED = "a"  # "lab:hcy:18:umol:a": the unit was not written, the test's own was assumed
QUALIFIERS = ("high", "low", "normal")  # "lab:mma:high": a report's word, no number


class Status(StrEnum):
    placed = "placed"  # value and unit known: placed against the cut-offs
    no_value = "no_value"  # "MMA high what does it mean": what the test means
    needs_unit = "needs_unit"  # a number without a unit: ask which one
    wrong_unit = "wrong_unit"  # a unit this test is never reported in
    impossible = "impossible"  # negative, zero or absurd for this test


@dataclass(frozen=True, slots=True)
class Verdict:
    scheme: str  # scheme id within the test
    cls: LabClass
    says: str  # Telegram HTML: what the scheme calls a reading in this band
    value: float  # the reading in the scheme's unit, as compared


@dataclass(frozen=True, slots=True)
class LabReading:
    test: str
    status: Status
    value: float | None = None
    unit: str | None = None  # unit id, as written (or assumed)
    unit_assumed: bool = False
    qualifier: str | None = None  # "high" / "low" / "normal", for readings without a value
    verdicts: tuple[Verdict, ...] = ()
    cls: LabClass | None = None  # the headline class
    headline: str | None = None  # id of the scheme whose band is the headline
    converted: tuple[tuple[str, float], ...] = ()  # (unit id, value) in the other units

    @property
    def details(self) -> dict[str, object]:
        """What `ask --json` shows next to intent `lab_result`."""
        return {
            "test": self.test,
            "value": self.value,
            "unit": self.unit,
            "unit_assumed": self.unit_assumed,
            "status": self.status.value,
            "class": self.cls.value if self.cls else None,
            "headline": self.headline,
            "qualifier": self.qualifier,
            "converted": dict(self.converted),
            "verdicts": {v.scheme: v.cls.value for v in self.verdicts},
        }


def looks_like_lab(normalised_text: str, labs: Labs) -> bool:
    """Cheap pre-check on the engine's normalised text: a test name plus a number, or a
    value-free test (MMA, homocysteine, active B12) plus a word like "high"."""
    return lexicon(labs).looks_like_lab(normalised_text)


def explain_lab(text: str, labs: Labs) -> LabReading | None:
    """The lab reading in `text`, or None when the message is not about a lab result."""
    lex = lexicon(labs)
    folded = fold(text)
    mentions = lex.mentions(folded)
    if not mentions:
        return None
    numbers = lex.numbers(folded)
    reach = labs.max_words_to_value
    for index, mention in enumerate(mentions):
        end = mentions[index + 1].start if index + 1 < len(mentions) else len(folded)
        found = [
            n
            for n in numbers
            if mention.end <= n.start < end
            and not n.skip
            and (n.unit or lex.words_between(folded, mention.end, n.start) < reach)
        ]
        if found:
            return _with_number(_test(labs, mention.test), found[0], folded, lex, numbers)
    before = [n for n in numbers if n.unit and n.end <= mentions[0].start]
    if before:
        return _with_number(_test(labs, mentions[0].test), before[-1], folded, lex, numbers)
    for mention in mentions:
        test = _test(labs, mention.test)
        qualifier = None if test.needs_value else lex.qualifier(folded, mention)
        if qualifier is not None:
            return LabReading(test.id, Status.no_value, qualifier=qualifier)
    return None


def lab_action(test: str, value: float, unit: str) -> str:
    """Button data for "this number, in this unit": `lab:b12:180:pg` (≤ 40 bytes)."""
    return f"{ACTION_PREFIX}:{test}:{action_number(value)}:{unit}"


def reading_action(reading: LabReading) -> str:
    """What the More and Sources buttons of this reading's reply carry, to read it again."""
    if reading.status is Status.no_value and reading.qualifier:
        return f"{ACTION_PREFIX}:{reading.test}:{reading.qualifier}"
    if reading.value is None or reading.unit is None:
        return f"{ACTION_PREFIX}:{reading.test}"  # never read again: such replies are short
    action = lab_action(reading.test, reading.value, reading.unit)
    return f"{action}:{ASSUMED}" if reading.unit_assumed else action


def unit_question_action(action: str) -> str:
    """ "lab:b12:650" from a unit button's `lab:b12:650:pg`: the question which unit, again."""
    return action.rsplit(":", 1)[0]


def reading_from_action(action: str, labs: Labs) -> LabReading | None:
    """The reading a unit button (or `reading_action`) stands for; None for data this content
    does not know. Without a unit (`unit_question_action`), the question which one."""
    prefix, _, rest = action.partition(":")
    test_id, _, rest = rest.partition(":")
    raw, _, rest = rest.partition(":")
    unit_id, _, flag = rest.partition(":")
    test = labs.test(test_id)
    if prefix != ACTION_PREFIX or test is None:
        return None
    if raw in QUALIFIERS and not unit_id and raw in test.qualifiers and not test.needs_value:
        return LabReading(test.id, Status.no_value, qualifier=raw)
    value = number_value(raw) if raw else None
    if (
        value is not None
        and not unit_id
        and any(plausible(labs, test, value, u) for u in test.units)
    ):
        return LabReading(test.id, Status.needs_unit, value=value)  # asks for the unit again
    assumed = flag == ASSUMED and unit_id == test.default_unit
    if value is None or unit_id not in test.units or (flag and not assumed):
        return None
    return _read(labs, test, value, unit_id, assumed=assumed)


def units_in(text: str, labs: Labs) -> set[str]:
    """The lab units written anywhere in `text` ("pg/ml i think" → {"pg"})."""
    return lexicon(labs).units_anywhere(fold(text))


def _test(labs: Labs, test_id: str) -> LabTest:
    test = labs.test(test_id)
    if test is None:  # mentions and actions only name the content's own tests
        raise LookupError(f"unknown lab test {test_id!r}")
    return test


def _with_number(
    test: LabTest, number: Number, folded: str, lex: Lexicon, numbers: list[Number]
) -> LabReading | None:
    labs = lex.labs
    unit = number.unit
    # "b12 in pmol/l is 148": a unit written elsewhere counts, unless it belongs to
    # another number ("mma 450 and b12 280 pg/ml" says nothing about the MMA's unit).
    if unit is None and not any(n.unit for n in numbers):
        anywhere = lex.units_anywhere(folded)
        unit = anywhere.pop() if len(anywhere) == 1 else None
    if unit is None and lex.about_supplements(folded):
        return None
    if number.value <= 0:
        return LabReading(test.id, Status.impossible, number.value, unit)
    if unit is None and test.default_unit is None:
        possible = [u for u in test.units if plausible(labs, test, number.value, u)]
        status = Status.needs_unit if possible else Status.impossible
        return LabReading(test.id, status, number.value)
    if unit is None:
        return _read(labs, test, number.value, test.default_unit or "", assumed=True)
    if unit not in test.units:
        return LabReading(test.id, Status.wrong_unit, number.value, unit)
    return _read(labs, test, number.value, unit, assumed=False)


def _read(labs: Labs, test: LabTest, value: float, unit: str, *, assumed: bool) -> LabReading:
    if not plausible(labs, test, value, unit):
        return LabReading(test.id, Status.impossible, value, unit, assumed)
    verdicts = tuple(_verdict(labs, s, value, unit) for s in test.schemes)
    headline = verdicts[test.schemes.index(test.primary)]
    if headline.cls is LabClass.normal:
        headline = next((v for v in verdicts if v.cls is LabClass.high), headline)
    converted = tuple(
        (other, convert(labs, value, unit, other))
        for other in test.display_units
        if other != unit and _unit(labs, other).label != _unit(labs, unit).label
    )
    return LabReading(
        test.id,
        Status.placed,
        value,
        unit,
        assumed,
        verdicts=verdicts,
        cls=headline.cls,
        headline=headline.scheme,
        converted=converted,
    )


def _verdict(labs: Labs, scheme: Scheme, value: float, unit: str) -> Verdict:
    """Mass ↔ molar goes through a rounded factor, and sources state their converted
    cut-offs rounded (200 pg/mL ≈ 148 pmol/L): compared unrounded, 200 pg/mL (147.6 pmol/L)
    would fall under Allen's 148 yet on MedlinePlus's 200. So a value converted across
    kinds is rounded to the decimals the scheme states its cut-offs in, as it is shown."""
    there = convert(labs, value, unit, scheme.unit)
    if _unit(labs, unit).dimension != _unit(labs, scheme.unit).dimension:
        there = _rounded(there, scheme.decimals)
    band = scheme.band_for(there)
    return Verdict(scheme.id, band.cls, band.says, there)


def _rounded(value: float, decimals: int) -> float:
    """Half up, as a person rounds (Python's round() takes 132.5 to 132)."""
    step = Decimal(1).scaleb(-decimals)
    return float(Decimal(str(value)).quantize(step, rounding=ROUND_HALF_UP))


def plausible(labs: Labs, test: LabTest, value: float, unit: str) -> bool:
    """Could a lab report this value, in this unit, for this test? (Not a medical judgement.)"""
    limits = test.plausible
    there = convert(labs, value, unit, limits.unit)
    return limits.min <= there <= limits.max


def convert(labs: Labs, value: float, source: str, target: str) -> float:
    """pg/mL ↔ ng/L ↔ pmol/L ↔ nmol/L ↔ µmol/L; mass ↔ molar through B12's molecular weight."""
    src, dst = _unit(labs, source), _unit(labs, target)
    base = value * src.factor
    if src.dimension != dst.dimension:
        factor = labs.conversion.pmol_per_pg
        base = base * factor if src.dimension == "mass" else base / factor
    return base / dst.factor


def _unit(labs: Labs, unit_id: str) -> Unit:
    unit = labs.unit(unit_id)
    if unit is None:  # unit ids are checked against the content at load time
        raise LookupError(f"unknown lab unit {unit_id!r}")
    return unit


# --------------------------------------------------------------------------------- replies


def render_lab(reading: LabReading, labs: Labs, source_titles: Mapping[str, str]) -> Reply:
    """The reply for a reading; Reply.intent is "lab_result"."""
    # Imported here: the renderer needs this module's types, and this module stays the
    # one place callers import the explainer from.
    from bot.core.tools.labreply import render

    return render(reading, labs, source_titles)


def unit_label(labs: Labs, unit_id: str | None) -> str:
    return _unit(labs, unit_id).label if unit_id else ""
