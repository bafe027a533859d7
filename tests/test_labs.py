"""Lab-result explainer: units, conversions, cut-off classes, odd input, replies, content."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from bot.content.html import html_problems
from bot.content.labs import MAX_ACTION_BYTES, LabClass, check_labs, load_labs
from bot.content.refs import ToolContentError, source_titles
from bot.core.engine import Engine
from bot.core.reply import Reply
from bot.core.tools.labs import (
    INTENT,
    Status,
    convert,
    explain_lab,
    lab_action,
    looks_like_lab,
    reading_from_action,
    render_lab,
)

CONTENT = Path(__file__).resolve().parents[1] / "content"
LABS = load_labs(CONTENT)
TITLES = source_titles(CONTENT)
TELEGRAM_LIMIT = 4096


def reply_for(text: str) -> Reply:
    reading = explain_lab(text, LABS)
    assert reading is not None, text
    return render_lab(reading, LABS, TITLES)


def assert_sendable(reply: Reply) -> None:
    assert reply.intent == INTENT
    assert 0 < len(reply.text) <= TELEGRAM_LIMIT
    assert html_problems(reply.text) == []
    for button in reply.buttons:
        assert len(button.action.encode()) <= MAX_ACTION_BYTES


# ------------------------------------------------------------------------ units, conversion

CONVERSIONS = [
    # value, from, to, expected — facts §3b: 1 pg/mL = 1 ng/L ≈ 0.738 pmol/L
    (200, "pg", "pmol", 147.6),
    (148, "pmol", "pg", 200.54),
    (180, "ng", "pmol", 132.84),
    (350, "ng", "pg", 350.0),
    (1000, "pg", "ng", 1000.0),
    (0.271, "umol", "nmol", 271.0),
    (400, "nmol", "umol", 0.4),
    (25, "pmol", "nmol", 0.025),
]


@pytest.mark.parametrize(("value", "source", "target", "expected"), CONVERSIONS)
def test_conversion(value: float, source: str, target: str, expected: float) -> None:
    assert convert(LABS, value, source, target) == pytest.approx(expected, rel=1e-3)


@pytest.mark.parametrize("unit", ["pg", "ng", "pmol", "nmol", "umol"])
def test_conversion_round_trips(unit: str) -> None:
    back = convert(LABS, convert(LABS, 123.0, unit, "pmol"), "pmol", unit)
    assert back == pytest.approx(123.0)


UNIT_SPELLINGS = [
    ("b12 180 pg/ml", "pg"),
    ("b12 180pg/mL", "pg"),
    ("b12 180 pg / ml", "pg"),
    ("b12 180 picograms per ml", "pg"),
    ("b12 250 ng/L", "ng"),
    ("b12 250 ng per litre", "ng"),
    ("b12 148 pmol/l", "pmol"),
    ("b12 148 pmol", "pmol"),
    ("b12 148 picomoles per liter", "pmol"),
    ("mma 350 nmol/L", "nmol"),
    ("mma 0.35 µmol/L", "umol"),
    ("mma 0.35 μmol/l", "umol"),  # Greek mu
    ("mma 0.35 umol/l", "umol"),
    ("homocysteine 12 micromol/l", "umol"),
    ("homocysteine 12 mcmol/L", "umol"),
]


@pytest.mark.parametrize(("text", "unit"), UNIT_SPELLINGS)
def test_unit_spellings(text: str, unit: str) -> None:
    reading = explain_lab(text, LABS)
    assert reading is not None
    assert reading.unit == unit
    assert reading.status is Status.placed


# ------------------------------------------------------------------------ cut-off classes

# text, test, value, unit, headline class, {scheme: class}
PLACED = [
    (
        "my b12 came back 180 pg/ml",
        "b12",
        180,
        "pg",
        "borderline",
        {"nice": "borderline", "aafp": "borderline", "allen": "deficient", "medline": "deficient"},
    ),
    (
        "b12 148 pmol/l is that low",
        "b12",
        148,
        "pmol",
        "borderline",
        {"nice": "borderline", "allen": "borderline", "medline": "normal"},
    ),
    (
        "b-12 level 250 ng/L",
        "b12",
        250,
        "ng",
        "borderline",
        {"nice": "borderline", "aafp": "borderline"},
    ),
    ("B12: 179 ng/l", "b12", 179, "ng", "deficient", {"nice": "deficient", "aafp": "deficient"}),
    ("vitamin b12 350 pg/ml", "b12", 350, "pg", "borderline", {"nice": "borderline"}),
    ("vit b12 351 pg/ml", "b12", 351, "pg", "normal", {"nice": "normal", "aafp": "normal"}),
    (
        "b12 100 pmol/L",
        "b12",
        100,
        "pmol",
        "deficient",
        {"nice": "deficient", "allen": "deficient"},
    ),
    ("serum b12 500 pg/ml", "b12", 500, "pg", "normal", {"medline": "normal"}),
    (
        "b12 950 pg/ml",
        "b12",
        950,
        "pg",
        "high",
        {"nice": "normal", "aafp": "normal", "medline": "high"},
    ),
    ("my b12 is 1,200 pg/ml", "b12", 1200, "pg", "high", {"aafp": "high", "medline": "high"}),
    ("active b12 30", "active", 30, "pmol", "borderline", {"nice": "borderline"}),
    ("holotc 20 pmol/l", "active", 20, "pmol", "deficient", {"nice": "deficient"}),
    ("active b12 25 pmol/L", "active", 25, "pmol", "borderline", {"nice": "borderline"}),
    ("active b-12 71", "active", 71, "pmol", "normal", {"nice": "normal"}),
    ("homocysteine 18", "hcy", 18, "umol", "deficient", {"limits": "deficient"}),
    ("homocysteine 14.5 umol/l", "hcy", 14.5, "umol", "borderline", {"limits": "borderline"}),
    ("homocysteine 9 µmol/L", "hcy", 9, "umol", "normal", {"limits": "normal"}),
    ("MMA 450 nmol/L", "mma", 450, "nmol", "deficient", {"limits": "deficient"}),
    ("methylmalonic acid 300 nmol/l", "mma", 300, "nmol", "borderline", {"limits": "borderline"}),
    ("mma 0.2 umol/l", "mma", 0.2, "umol", "normal", {"limits": "normal"}),
    ("180 pg/ml b12", "b12", 180, "pg", "borderline", {}),
    ("b12 in pmol/l is 148", "b12", 148, "pmol", "borderline", {}),
]


@pytest.mark.parametrize(("text", "test", "value", "unit", "cls", "schemes"), PLACED)
def test_placed_against_cut_offs(
    text: str, test: str, value: float, unit: str, cls: str, schemes: dict[str, str]
) -> None:
    reading = explain_lab(text, LABS)
    assert reading is not None
    assert (reading.test, reading.value, reading.unit) == (test, value, unit)
    assert reading.status is Status.placed
    assert reading.cls == cls
    verdicts = reading.details["verdicts"]
    assert isinstance(verdicts, dict)
    for scheme, expected in schemes.items():
        assert verdicts[scheme] == expected, scheme


def test_every_band_boundary_follows_lt_and_le() -> None:
    """Exactly at a limit: `lt` puts the value in the next band, `le` keeps it in this one."""
    for test in LABS.tests:
        for scheme in test.schemes:
            for index, band in enumerate(scheme.bands[:-1]):
                limit = band.upper
                assert limit is not None
                at = scheme.band_for(limit)
                assert at is (scheme.bands[index + 1] if band.lt is not None else band)
                assert scheme.band_for(limit * 0.999) is band


def test_borderline_points_to_mma_or_homocysteine() -> None:
    for text in ("b12 250 pg/ml", "active b12 40 pmol/l"):
        reply = reply_for(text)
        assert "MMA" in reply.text
        assert "homocysteine" in reply.text.lower()


def test_reply_names_sources_and_never_diagnoses() -> None:
    reply = reply_for("b12 180 pg/ml")
    for source in ("nice_ng239", "aafp_b12_2025", "allen_2009", "medlineplus_b12_test"):
        assert TITLES[source].replace("&", "&amp;") in reply.text
    assert LABS.texts.doctor in reply.text
    assert LABS.texts.ranges_differ.strip() in reply.text
    assert "133 pmol/L" in reply.text  # converted for the reader


def test_assumed_unit_is_said() -> None:
    reading = explain_lab("homocysteine 18", LABS)
    assert reading is not None and reading.unit_assumed
    assert "µmol/L" in render_lab(reading, LABS, TITLES).text


# ------------------------------------------------------------------------ missing / wrong / impossible

MISSING_UNIT = [
    ("b12 180", "b12", 180, ["pg", "ng", "pmol"]),
    ("my b12 level is 300", "b12", 300, ["pg", "ng", "pmol"]),
    ("I'm 45 and my b12 is 300", "b12", 300, ["pg", "ng", "pmol"]),
    ("mma 0.3", "mma", 0.3, ["umol"]),  # 0.3 nmol/L is not a possible MMA result
    ("my mma was 450 and b12 280 pg/ml", "mma", 450, ["nmol"]),
]


@pytest.mark.parametrize(("text", "test", "value", "units"), MISSING_UNIT)
def test_missing_unit_asks_with_buttons(
    text: str, test: str, value: float, units: list[str]
) -> None:
    reading = explain_lab(text, LABS)
    assert reading is not None
    assert (reading.test, reading.value, reading.status) == (test, value, Status.needs_unit)
    reply = render_lab(reading, LABS, TITLES)
    assert_sendable(reply)
    assert [b.action for b in reply.buttons] == [lab_action(test, value, u) for u in units]
    for button in reply.buttons:
        again = reading_from_action(button.action, LABS)
        assert again is not None and again.status is Status.placed and again.value == value


WRONG_UNIT = [
    ("active b12 30 pg/ml", "active", "pg"),
    ("b12 180 nmol/l", "b12", "nmol"),
    ("b12 300 µmol/L", "b12", "umol"),
    ("homocysteine 15 pmol/l", "hcy", "pmol"),
    ("mma 300 pg/ml", "mma", "pg"),
]


@pytest.mark.parametrize(("text", "test", "unit"), WRONG_UNIT)
def test_wrong_unit(text: str, test: str, unit: str) -> None:
    reading = explain_lab(text, LABS)
    assert reading is not None
    assert (reading.test, reading.unit, reading.status) == (test, unit, Status.wrong_unit)
    reply = render_lab(reading, LABS, TITLES)
    assert_sendable(reply)
    allowed = {t.id: t for t in LABS.tests}[test].units
    offered = [b.action.rsplit(":", 1)[1] for b in reply.buttons]
    assert offered and set(offered) <= set(allowed)
    for button in reply.buttons:
        again = reading_from_action(button.action, LABS)
        assert again is not None and again.status is Status.placed


IMPOSSIBLE = [
    "b12 -50 pg/ml",
    "b12 −180 pg/ml",  # Unicode minus
    "b12 0 pg/ml",
    "b12 99999999",
    "b12 was 2.4",
    "b12 999999 pmol/l",
    "active b12 0.001",
    "homocysteine 5000",
    "mma 1000000 nmol/l",
]


@pytest.mark.parametrize("text", IMPOSSIBLE)
def test_impossible_values(text: str) -> None:
    reading = explain_lab(text, LABS)
    assert reading is not None
    assert reading.status is Status.impossible
    assert reading.cls is None and reading.verdicts == ()
    reply = render_lab(reading, LABS, TITLES)
    assert_sendable(reply)
    assert reply.buttons == ()


NOT_LABS = [
    "I take b12 1000 mcg daily",
    "is 1000 mcg of b12 too much",
    "b12 shot 1000",
    "should I take b12 500",
    "b12 2.4 mcg a day",
    "what is b12",
    "b12 level low",  # no number: the general answers take it
    "what is homocysteine",  # a test name alone: the general answers take it
    "salmon has b12",
    "my b12 injection was 3 weeks ago",
    "b12 and the myelin sheath, explain like im 5 pls",
    "my b12 was checked at age 70",
    "my b12 came back 'normal' but is there another test, like methylmalonic acid or something?",
    "",
]


@pytest.mark.parametrize("text", NOT_LABS)
def test_not_a_lab_result(text: str) -> None:
    assert explain_lab(text, LABS) is None


NO_VALUE = [
    ("MMA high what does it mean", "mma", "high"),
    ("my homocysteine is raised", "hcy", "high"),
    ("active b12 came back low", "active", "low"),
    ("holotc normal?", "active", "normal"),
]


@pytest.mark.parametrize(("text", "test", "qualifier"), NO_VALUE)
def test_test_named_without_a_value(text: str, test: str, qualifier: str) -> None:
    reading = explain_lab(text, LABS)
    assert reading is not None
    assert (reading.test, reading.status, reading.qualifier) == (test, Status.no_value, qualifier)
    reply = render_lab(reading, LABS, TITLES)
    assert_sendable(reply)
    assert LABS.texts.doctor in reply.text


BAD_ACTIONS = [
    "lab:b12:180",
    "lab:nope:180:pg",
    "lab:b12:abc:pg",
    "lab:b12:180:mg",
    "f:salmon",
    "lab:b12:nan:pg",
]


@pytest.mark.parametrize("action", BAD_ACTIONS)
def test_unknown_button_data(action: str) -> None:
    assert reading_from_action(action, LABS) is None


def test_longest_action_fits() -> None:
    for test in LABS.tests:
        for unit in test.units:
            assert len(lab_action(test.id, 123456.789, unit).encode()) <= MAX_ACTION_BYTES


# ------------------------------------------------------------------------ every reply

ALL_TEXTS = [t for t, *_ in PLACED] + [t for t, *_ in MISSING_UNIT] + [t for t, *_ in WRONG_UNIT]
ALL_TEXTS += IMPOSSIBLE + [t for t, *_ in NO_VALUE]


@pytest.mark.parametrize("text", ALL_TEXTS)
def test_every_reply_is_sendable(text: str) -> None:
    assert_sendable(reply_for(text))


def test_details_for_json_window() -> None:
    reading = explain_lab("b12 148 pmol/l", LABS)
    assert reading is not None
    details = reading.details
    assert (details["test"], details["value"], details["unit"]) == ("b12", 148, "pmol")
    assert details["class"] == LabClass.borderline
    assert details["converted"] == {"pg": pytest.approx(200.54, rel=1e-3)}


# ------------------------------------------------------------------------ detector


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine.load(CONTENT)


DETECT = [
    ("my b12 came back 180 pg/ml", True),
    ("b12 148 pmol/l is that low", True),
    ("active b12 30", True),
    ("MMA high what does it mean", True),
    ("homocysteine 18", True),
    ("b-12 level 250 ng/L", True),
    ("what is b12", False),
    ("can low b12 cause cramps", False),
    ("what is homocysteine", False),
    ("which foods have b12", False),
]


@pytest.mark.parametrize(("text", "expected"), DETECT)
def test_looks_like_lab(engine: Engine, text: str, expected: bool) -> None:
    assert looks_like_lab(engine.normalise(text), LABS) is expected


def test_detector_agrees_with_the_parser(engine: Engine) -> None:
    """Whatever the parser reads as a lab result, the cheap detector lets through."""
    for text in ALL_TEXTS:
        if explain_lab(text, LABS) is not None:
            assert looks_like_lab(engine.normalise(text), LABS), text


# ------------------------------------------------------------------------ content


def test_content_is_valid() -> None:
    assert check_labs(CONTENT) == []


def _broken(tmp_path: Path, edit: object) -> Path:
    target = tmp_path / "content"
    shutil.copytree(CONTENT, target)
    path = target / "labs.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit(data)  # type: ignore[operator]
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return target


def _b12(data: dict) -> dict:
    return next(t for t in data["tests"] if t["id"] == "b12")


BREAKAGES = [
    (
        "unknown source",
        lambda d: _b12(d)["schemes"][0].update(sources=["no_such_source"]),
        "unknown source",
    ),
    ("unknown unit", lambda d: _b12(d).update(units=["pg", "furlong"]), "unknown unit"),
    ("bands fall", lambda d: _b12(d)["schemes"][0]["bands"][1].update(le=100), "must rise"),
    ("two primaries", lambda d: _b12(d)["schemes"][1].update(primary=True), "primary"),
    ("missing advice", lambda d: _b12(d)["advice"].pop("borderline"), "no advice"),
    ("bad placeholder", lambda d: d["texts"].update(title="{test} {oops}"), "oops"),
    ("bad html", lambda d: d["texts"].update(doctor="<b>unclosed"), "unclosed"),
    ("scheme unit", lambda d: _b12(d)["schemes"][0].update(unit="umol"), "not one of"),
]


@pytest.mark.parametrize(("name", "edit", "message"), BREAKAGES, ids=[b[0] for b in BREAKAGES])
def test_content_problems_are_reported(
    tmp_path: Path, name: str, edit: object, message: str
) -> None:
    directory = _broken(tmp_path, edit)
    problems = check_labs(directory)
    assert any(message in str(p) for p in problems), problems
    with pytest.raises(ToolContentError):
        load_labs(directory)
