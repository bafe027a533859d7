"""Turning a `LabReading` into the Telegram-HTML reply, from the templates of labs.yaml.

A placed reading's first message is one bottom line for the user's number (its advice
class's `bottom`); the cut-offs of every scheme, the conversions and the caveats are behind
More. Every value put into a template is escaped here; the templates themselves were checked
for HTML and placeholders when labs.yaml was loaded.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping

from bot.content.labs import Band, Labs, LabTest, Scheme
from bot.core.reply import Button, Reply
from bot.core.tools.compose import summarised
from bot.core.tools.labs import (
    INTENT,
    LabReading,
    Status,
    Verdict,
    lab_action,
    plausible,
    unit_label,
)
from bot.core.tools.parsing import format_number


def render(reading: LabReading, labs: Labs, source_titles: Mapping[str, str]) -> Reply:
    test = labs.test(reading.test)
    if test is None:
        raise ValueError(f"unknown lab test {reading.test!r}")
    first, rest, cited, buttons = _BUILDERS[reading.status](reading, labs, test)
    titles = "; ".join(_esc(source_titles.get(s, s)) for s in dict.fromkeys(cited))
    source_line = labs.texts.sources.format(titles=titles) if cited else ""
    return summarised(INTENT, [*first, *rest], first, source_line, tuple(buttons))


# (the first message's parts, the rest of the reply, source ids, buttons)
Built = tuple[list[str], list[str], list[str], list[Button]]


def _placed(reading: LabReading, labs: Labs, test: LabTest) -> Built:
    t = labs.texts
    value, unit = _num(reading.value), _esc(unit_label(labs, reading.unit))
    verdicts = {v.scheme: v for v in reading.verdicts}
    headline = verdicts[reading.headline or test.primary.id]
    advice = test.advice[headline.cls]
    converted = ""
    if reading.converted:
        values = ", ".join(f"{_num(v)} {_esc(unit_label(labs, u))}" for u, v in reading.converted)
        converted = t.bottom_converted.format(values=values)
    top = [
        t.bottom_line.format(
            test=_esc(test.name), value=value, unit=unit, converted=converted, bottom=advice.bottom
        )
    ]
    if reading.unit_assumed:
        top.append(t.assumed_unit.format(unit=unit))
    scheme = _scheme(test, headline.scheme)
    lines = [t.cutoffs_title]
    lines += [_scheme_line(labs, s, verdicts[s.id]) for s in test.schemes]
    rest = [
        t.headline.format(scheme=_esc(scheme.name), says=headline.says),
        "\n".join(lines),
        advice.text,
        *(n.text for n in test.notes),
    ]
    cited = [src for s in test.schemes for src in s.sources]
    cited += [*advice.sources, *(src for n in test.notes for src in n.sources)]
    if _crosses_dimension(labs, test):
        rest.append(t.conversion_note.format(factor=format_number(labs.conversion.pmol_per_pg)))
        cited += labs.conversion.sources
    rest.append(f"{t.ranges_differ}\n{t.doctor}")
    return ["\n".join(top)], rest, cited, []


def _no_value(reading: LabReading, labs: Labs, test: LabTest) -> Built:
    """ "MMA high": what the report's word means leads; what the test is follows."""
    t = labs.texts
    lead = []
    cited = list(test.about.sources)
    cls = test.qualifiers.get(reading.qualifier or "")
    if cls is not None:
        advice = test.advice[cls]
        word = _esc(reading.qualifier or "")
        lead.append(t.qualifier.format(word=word, advice=advice.text.strip()))
        cited += advice.sources
    lines = [t.about_cutoffs]
    lines += [_scheme_line(labs, s, None) for s in test.schemes]
    cited += [src for s in test.schemes for src in s.sources]
    rest = [
        test.about.text,
        "\n".join(lines),
        t.ask_value.format(example=_esc(test.example)),
        f"{t.ranges_differ}\n{t.doctor}",
    ]
    return (lead, rest, cited, []) if lead else (rest[:1], rest[1:], cited, [])


def _needs_unit(reading: LabReading, labs: Labs, test: LabTest) -> Built:
    text = labs.texts.ask_unit.format(test=_esc(test.name), value=_num(reading.value))
    return [text], [], [], _unit_buttons(reading, labs, test)


def _wrong_unit(reading: LabReading, labs: Labs, test: LabTest) -> Built:
    t = labs.texts
    units = t.unit_or.join(_esc(unit_label(labs, u)) for u in test.units)
    text = t.wrong_unit.format(test=_esc(test.name), units=units, amount=_amount(labs, reading))
    return [text], [], [], _unit_buttons(reading, labs, test)


def _impossible(reading: LabReading, labs: Labs, test: LabTest) -> Built:
    text = labs.texts.impossible.format(test=_esc(test.name), amount=_amount(labs, reading))
    return [text], [], [], []


_BUILDERS = {
    Status.placed: _placed,
    Status.no_value: _no_value,
    Status.needs_unit: _needs_unit,
    Status.wrong_unit: _wrong_unit,
    Status.impossible: _impossible,
}


def _unit_buttons(reading: LabReading, labs: Labs, test: LabTest) -> list[Button]:
    if reading.value is None or reading.value <= 0:
        return []
    label, value = labs.texts.unit_button, reading.value
    return [
        Button(label.format(unit=unit_label(labs, u)), lab_action(test.id, value, u))
        for u in test.units
        if plausible(labs, test, value, u)  # "MMA 0.3": only µmol/L makes sense
    ]


def _scheme_line(labs: Labs, scheme: Scheme, verdict: Verdict | None) -> str:
    t = labs.texts
    bands = t.band_separator.join(_band_texts(labs, scheme))
    unit = _esc(unit_label(labs, scheme.unit))
    if verdict is None:
        return t.scheme_plain.format(scheme=_esc(scheme.name), unit=unit, bands=bands)
    return t.scheme_line.format(scheme=_esc(scheme.name), unit=unit, bands=bands, says=verdict.says)


def _band_texts(labs: Labs, scheme: Scheme) -> Iterable[str]:
    t = labs.texts
    previous: Band | None = None
    for band in scheme.bands:
        label = _esc(band.label)
        upper = band.upper
        if previous is None:
            template = t.band_lt if band.lt is not None else t.band_le
            yield template.format(value=format_number(upper or 0), label=label)
        elif upper is None:
            # "under 400" then "400 or more"; "350 or less" then "over 350"
            template = t.band_from if previous.lt is not None else t.band_over
            yield template.format(value=format_number(previous.upper or 0), label=label)
        else:
            low = format_number(previous.upper or 0)
            yield t.band_range.format(low=low, high=format_number(upper), label=label)
        previous = band


def _crosses_dimension(labs: Labs, test: LabTest) -> bool:
    kinds = {u.dimension for u in labs.units if u.id in test.units}
    return len(kinds) > 1


def _scheme(test: LabTest, scheme_id: str) -> Scheme:
    return next(s for s in test.schemes if s.id == scheme_id)


def _amount(labs: Labs, reading: LabReading) -> str:
    return f"{_num(reading.value)} {_esc(unit_label(labs, reading.unit))}".strip()


def _num(value: float | None) -> str:
    if value is None:
        return ""
    return ("-" if value < 0 else "") + format_number(abs(value))


def _esc(text: str) -> str:
    return html.escape(text, quote=False)
