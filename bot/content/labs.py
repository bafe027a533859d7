"""Pydantic models of content/labs.yaml, the data behind the lab-result explainer.

Cut-offs, units and every reply text live in the YAML so that `bot.core.tools.labs` holds no
medical wording or figures. Checks inside the file (unit ids, band order, one primary
scheme per test, advice for every class a test can land in, button-data length,
placeholders, HTML) run when the model is built; source ids are checked against
sources.yaml by `check_labs`.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from enum import StrEnum
from itertools import pairwise
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, model_validator

from bot.content.models import Problem
from bot.content.refs import (
    check_file,
    collect,
    load_file,
    source_problems,
    source_titles,
    text_problems,
)

_STRICT = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
FILE_NAME = "labs.yaml"
MAX_ACTION_BYTES = 40  # Telegram's limit is 64; the rest of the bot keeps to 40
_ACTION_VALUE_CHARS = 12  # "lab:<test>:<value>:<unit>", value as action_number() writes it


class LabClass(StrEnum):
    deficient = "deficient"
    borderline = "borderline"
    normal = "normal"
    high = "high"


class Unit(BaseModel):
    model_config = _STRICT

    id: str = Field(pattern=r"^[a-z]{1,6}$")
    label: str = Field(min_length=1)
    dimension: Literal["mass", "molar"]
    factor: float = Field(gt=0, description="base units (pg/mL or pmol/L) per unit")
    spellings: tuple[str, ...] = Field(min_length=1)


class Cited(BaseModel):
    model_config = _STRICT

    text: str = Field(min_length=1, description="Telegram HTML")
    sources: tuple[str, ...] = Field(min_length=1)


class Advice(Cited):
    bottom: str = Field(
        min_length=1,
        description="Telegram HTML: the reply's bottom line after the reading (\"Serum B12 "
        '200 pg/mL: …"), the advice in a sentence',
    )


class Band(BaseModel):
    model_config = _STRICT

    lt: float | None = None
    le: float | None = None
    cls: LabClass = Field(alias="class")
    label: str = Field(min_length=1, description="plain text: the source's name for the band")
    says: str = Field(
        min_length=1, description="Telegram HTML, after the scheme's name: a reading here"
    )

    @model_validator(mode="after")
    def _one_bound(self) -> Band:
        if self.lt is not None and self.le is not None:
            raise ValueError("a band has `lt` or `le`, not both")
        return self

    @property
    def upper(self) -> float | None:
        return self.lt if self.lt is not None else self.le


class Scheme(BaseModel):
    """One source's cut-offs, in that source's own unit."""

    model_config = _STRICT

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    name: str = Field(min_length=2)
    unit: str
    primary: bool = False
    sources: tuple[str, ...] = Field(min_length=1)
    bands: tuple[Band, ...] = Field(min_length=2)

    @model_validator(mode="after")
    def _ordered(self) -> Scheme:
        *closed, last = self.bands
        if last.upper is not None:
            raise ValueError(f"scheme {self.id!r}: the last band must be open (no lt/le)")
        uppers = [b.upper for b in closed]
        if any(u is None for u in uppers):
            raise ValueError(f"scheme {self.id!r}: only the last band may be open")
        if any(a >= b for a, b in pairwise(uppers)):  # type: ignore[operator]
            raise ValueError(f"scheme {self.id!r}: band limits must rise")
        return self

    @property
    def decimals(self) -> int:
        """How many decimals the source states its cut-offs in (148 → 0, 0.4 → 1): a value
        converted from another unit is compared at that precision."""
        limits = [Decimal(str(b.upper)).normalize() for b in self.bands if b.upper is not None]
        return max(max(0, -int(d.as_tuple().exponent)) for d in limits)

    def band_for(self, value: float) -> Band:
        for band in self.bands:
            if (band.lt is not None and value < band.lt) or (
                band.le is not None and value <= band.le
            ):
                return band
        return self.bands[-1]


class Plausible(BaseModel):
    model_config = _STRICT

    unit: str
    min: float = Field(gt=0)
    max: float = Field(gt=0)


class LabTest(BaseModel):
    model_config = _STRICT

    id: str = Field(pattern=r"^[a-z0-9]{1,8}$")
    name: str = Field(min_length=2)
    names: tuple[str, ...] = Field(min_length=1)
    units: tuple[str, ...] = Field(min_length=1)
    display_units: tuple[str, ...] = Field(min_length=1)
    default_unit: str | None = None
    plausible: Plausible
    needs_value: bool = False
    qualifiers: dict[Literal["high", "low", "normal"], LabClass] = {}
    example: str = Field(min_length=3, description="plain text: how to write a result")
    about: Cited
    schemes: tuple[Scheme, ...] = Field(min_length=1)
    advice: dict[LabClass, Advice]
    notes: tuple[Cited, ...] = ()

    @property
    def primary(self) -> Scheme:
        return next(s for s in self.schemes if s.primary)

    def problems(self, units: dict[str, Unit]) -> list[str]:
        where = f"tests.{self.id}"
        found = [f"{where}.units: unknown unit {u!r}" for u in self.units if u not in units]
        known = set(self.units)
        for name, ids in (
            ("display_units", self.display_units),
            ("default_unit", (self.default_unit,) if self.default_unit else ()),
            ("plausible.unit", (self.plausible.unit,)),
            *((f"schemes.{s.id}.unit", (s.unit,)) for s in self.schemes),
        ):
            found += [
                f"{where}.{name}: {u!r} is not one of the test's units"
                for u in ids
                if u not in known
            ]
        if sum(s.primary for s in self.schemes) != 1:
            found.append(f"{where}.schemes: exactly one scheme must be `primary`")
        if self.plausible.min >= self.plausible.max:
            found.append(f"{where}.plausible: min must be below max")
        needed = {b.cls for s in self.schemes for b in s.bands} | set(self.qualifiers.values())
        found += [
            f"{where}.advice: no advice for class {c.value!r}"
            for c in sorted(needed - set(self.advice))
        ]
        longest = MAX_ACTION_BYTES - len("lab:::") - len(self.id) - _ACTION_VALUE_CHARS
        found += [
            f"{where}.units: unit id {u!r} makes button data too long"
            for u in self.units
            if len(u) > longest
        ]
        return found


class Conversion(BaseModel):
    model_config = _STRICT

    pmol_per_pg: float = Field(gt=0)
    sources: tuple[str, ...] = Field(min_length=1)


class QualifierWords(BaseModel):
    model_config = _STRICT

    high: tuple[str, ...]
    low: tuple[str, ...]
    normal: tuple[str, ...]


class LabTexts(BaseModel):
    model_config = _STRICT

    bottom_line: str
    bottom_converted: str
    conversion_note: str
    assumed_unit: str
    headline: str
    cutoffs_title: str
    scheme_line: str
    scheme_plain: str
    band_lt: str
    band_le: str
    band_range: str
    band_over: str
    band_from: str
    band_separator: str
    ranges_differ: str
    doctor: str
    sources: str
    about_cutoffs: str
    qualifier: str
    ask_value: str
    ask_unit: str
    wrong_unit: str
    impossible: str
    unit_or: str
    unit_button: str


# Placeholders each template may use; anything else is a content error.
TEMPLATES: dict[str, set[str]] = {
    "bottom_line": {"test", "value", "unit", "converted", "bottom"},
    "bottom_converted": {"values"},
    "conversion_note": {"factor"},
    "assumed_unit": {"unit"},
    "headline": {"scheme", "says"},
    "scheme_line": {"scheme", "unit", "bands", "says"},
    "scheme_plain": {"scheme", "unit", "bands"},
    "band_lt": {"value", "label"},
    "band_le": {"value", "label"},
    "band_range": {"low", "high", "label"},
    "band_over": {"value", "label"},
    "band_from": {"value", "label"},
    "sources": {"titles"},
    "qualifier": {"word", "advice"},
    "ask_value": {"example"},
    "ask_unit": {"test", "value"},
    "wrong_unit": {"test", "units", "amount"},
    "impossible": {"test", "amount"},
    "unit_button": {"unit"},
}


class Labs(BaseModel):
    """The whole file. Built through `load_labs` / `check_labs` (or model_validate in tests)."""

    model_config = _STRICT

    version: Literal[1]
    conversion: Conversion
    units: tuple[Unit, ...] = Field(min_length=1)
    dose_units: tuple[str, ...]
    skip_after: tuple[str, ...]
    skip_before: tuple[str, ...]
    max_words_to_value: int = Field(ge=1)
    max_words_to_qualifier: int = Field(ge=1)
    not_lab_words: tuple[str, ...]
    lab_words: tuple[str, ...]
    other_tests: tuple[str, ...] = ()  # blood tests this bot does not read ("vitamin d")
    qualifier_words: QualifierWords
    tests: tuple[LabTest, ...] = Field(min_length=1)
    texts: LabTexts

    @model_validator(mode="after")
    def _cross_references(self, info: ValidationInfo) -> Labs:
        collect(self.reference_problems(), info)
        return self

    def reference_problems(self) -> list[str]:
        problems: list[str] = []
        units = {u.id: u for u in self.units}
        if len(units) != len(self.units):
            problems.append("units: duplicate unit ids")
        if len({t.id for t in self.tests}) != len(self.tests):
            problems.append("tests: duplicate test ids")
        for test in self.tests:
            problems += test.problems(units)
        problems += text_problems(self.texts.model_dump(), TEMPLATES, "texts")
        for where, text in self._cited_texts():
            problems += text_problems({where: text}, {}, "")
        return [p.removeprefix(".") for p in problems]

    def _cited_texts(self) -> Iterator[tuple[str, str]]:
        for test in self.tests:
            yield f"tests.{test.id}.about", test.about.text
            for cls, advice in test.advice.items():
                yield f"tests.{test.id}.advice.{cls.value}", advice.text
                yield f"tests.{test.id}.advice.{cls.value}.bottom", advice.bottom
            for i, note in enumerate(test.notes):
                yield f"tests.{test.id}.notes.{i}", note.text
            for scheme in test.schemes:
                for i, band in enumerate(scheme.bands):
                    yield f"tests.{test.id}.schemes.{scheme.id}.bands.{i}.says", band.says

    def all_sources(self) -> Iterator[tuple[str, str]]:
        """(where, source id) for every citation in the file."""
        yield from (("conversion", sid) for sid in self.conversion.sources)
        for test in self.tests:
            cited = [
                ("about", test.about),
                *((f"advice.{c.value}", a) for c, a in test.advice.items()),
            ]
            cited += [(f"notes.{i}", n) for i, n in enumerate(test.notes)]
            for name, item in cited:
                yield from ((f"tests.{test.id}.{name}", sid) for sid in item.sources)
            for scheme in test.schemes:
                yield from ((f"tests.{test.id}.schemes.{scheme.id}", sid) for sid in scheme.sources)

    def test(self, test_id: str) -> LabTest | None:
        return next((t for t in self.tests if t.id == test_id), None)

    def unit(self, unit_id: str) -> Unit | None:
        return next((u for u in self.units if u.id == unit_id), None)


def _cross(labs: Labs, content_dir: Path) -> list[str]:
    return source_problems(labs.all_sources(), set(source_titles(content_dir)))


def check_labs(content_dir: Path) -> list[Problem]:
    """Every problem of labs.yaml (format, cross-references, source ids), without raising."""
    return check_file(content_dir, FILE_NAME, Labs, _cross)[1]


def load_labs(content_dir: Path) -> Labs:
    """The lab content of `content_dir`; ToolContentError lists every problem if invalid."""
    return load_file(content_dir, FILE_NAME, Labs, _cross)
