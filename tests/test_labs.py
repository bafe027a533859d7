"""Lab-result explainer: units, conversions, cut-off classes, odd input, replies, content."""

from __future__ import annotations

import re
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
    unit_question_action,
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
    (0.4, "umol", "nmol", 400.0),
    (450, "nmol", "umol", 0.45),
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
    ("homocysteine 14.5 umol/l", "hcy", 14.5, "umol", "deficient", {"limits": "deficient"}),
    ("homocysteine 9 µmol/L", "hcy", 9, "umol", "normal", {"limits": "normal"}),
    ("MMA 450 nmol/L", "mma", 450, "nmol", "deficient", {"limits": "deficient"}),
    ("methylmalonic acid 300 nmol/l", "mma", 300, "nmol", "normal", {"limits": "normal"}),
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
        assert "MMA" in reply.text  # the bottom line says it at once
        assert "homocysteine" in reply.full.lower()


def test_reply_names_sources_and_never_diagnoses() -> None:
    reply = reply_for("b12 180 pg/ml")
    for source in ("nice_ng239", "aafp_b12_2025", "allen_2009", "medlineplus_b12_test"):
        assert TITLES[source].replace("&", "&amp;") in (reply.sources or "")
    assert LABS.texts.doctor in reply.full
    assert LABS.texts.ranges_differ.strip() in reply.full
    assert "133 pmol/L" in reply.text  # converted for the reader


def test_a_unit_only_serum_b12_uses_names_the_test() -> None:
    """ "my level was 210 ng/l": pg/mL and ng/L are serum B12's alone (session 7)."""
    reading = explain_lab("my level was 210 ng/l, the nurse said borderline?", LABS)
    assert reading is not None and reading.test == "b12" and reading.value == 210
    assert explain_lab("my level was 210", LABS) is None  # no unit, no test: not a reading


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
    ("homocysteine 12 pmol/l", "hcy", "pmol"),
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
    # session 9 (dev7.jsonl): B12 as the name of a place; a need by age group
    "is gate b12 in terminal 2",
    "meeting in room b12 at 3, which building",
    "seat b12 on a 737",
    "recommended b12 for over 60s",
    # session 13 (dev10.jsonl): more places and cells; how common by age; another test's unit
    "locker b12 is jammed again, 3rd time",
    "pallet bay b12 shows 40 on the scanner",
    "is low b12 common in the over 65s",
    "my vitamin d came back 30 nmol/l, is that low",
    "ferritin 12 ug/l and tired all the time",
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
    assert f"<b>{qualifier}</b>" in reply.text.split("\n\n")[0]  # what the report's word means
    assert LABS.texts.doctor in reply.full


BAD_ACTIONS = [
    "lab:b12:-180",
    "lab:b12:99999999",
    "lab:nope:180:pg",
    "lab:b12:abc:pg",
    "lab:b12:180:mg",
    "f:salmon",
    "lab:b12:nan:pg",
]


@pytest.mark.parametrize("action", BAD_ACTIONS)
def test_unknown_button_data(action: str) -> None:
    assert reading_from_action(action, LABS) is None


def test_a_number_without_a_unit_is_the_question_which_unit_again() -> None:
    """ "lab:b12:180": what a verdict asked before the unit was told shows (the buttons again)."""
    reading = reading_from_action(unit_question_action("lab:b12:180:pg"), LABS)
    assert reading is not None and reading.status is Status.needs_unit and reading.value == 180


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
    ("my vitamin d came back 30 nmol/l, is that low", False),
    ("b12 180 pg/ml and vitamin d 40 nmol/l", True),
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
    ("bad placeholder", lambda d: d["texts"].update(bottom_line="{test} {oops}"), "oops"),
    ("bad html", lambda d: d["texts"].update(doctor="<b>unclosed"), "unclosed"),
    ("scheme unit", lambda d: _b12(d)["schemes"][0].update(unit="umol"), "not one of"),
    (
        "bad says html",
        lambda d: _b12(d)["schemes"][0]["bands"][0].update(says="calls it <b>low"),
        "bands.0.says",
    ),
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


# ------------------------------------------------------------------------ issue 12: review


def _placed(value: float, unit: str, test: str = "b12") -> dict[str, str]:
    reading = reading_from_action(lab_action(test, value, unit), LABS)
    assert reading is not None and reading.status is Status.placed
    return {v.scheme: v.cls.value for v in reading.verdicts}


# facts §3b: 200 pg/mL ≈ 148 pmol/L (Allen ↔ MedlinePlus); NICE 180 ng/L = 133 pmol/L and
# 350 ng/L = 258 pmol/L; 1 pg/mL = 1 ng/L (NICE ↔ AAFP, MedlinePlus).
SAME_BOUNDARY = [
    (200, "pg", {"allen": "borderline", "medline": "normal"}),
    (148, "pmol", {"allen": "borderline", "medline": "normal"}),
    (147, "pmol", {"allen": "deficient", "medline": "deficient"}),
    (199, "pg", {"allen": "deficient", "medline": "deficient"}),
    (200, "ng", {"allen": "borderline", "medline": "normal"}),
    (180, "pg", {"nice": "borderline", "aafp": "borderline"}),
    (179, "ng", {"nice": "deficient", "aafp": "deficient"}),
    (133, "pmol", {"nice": "borderline", "aafp": "borderline"}),
    (132, "pmol", {"nice": "deficient", "aafp": "deficient"}),
    (258, "pmol", {"nice": "borderline", "aafp": "borderline"}),
    (259, "pmol", {"nice": "normal", "aafp": "normal"}),
    (350, "ng", {"nice": "borderline", "aafp": "borderline"}),
    (351, "pg", {"nice": "normal", "aafp": "normal"}),
    (738, "pmol", {"aafp": "normal"}),  # 1,000 pg/mL
    (739, "pmol", {"aafp": "high"}),
]


@pytest.mark.parametrize(("value", "unit", "expected"), SAME_BOUNDARY)
def test_one_boundary_in_two_units_gives_one_side(
    value: float, unit: str, expected: dict[str, str]
) -> None:
    verdicts = _placed(value, unit)
    assert {s: verdicts[s] for s in expected} == expected


def _side(test_id: str, scheme_id: str, value: float, unit: str, limit: float) -> bool:
    """Does `value` land at or below the band that ends at `limit`?"""
    test = LABS.test(test_id)
    assert test is not None
    scheme = next(s for s in test.schemes if s.id == scheme_id)
    reading = reading_from_action(lab_action(test_id, value, unit), LABS)
    assert reading is not None
    verdict = next(v for v in reading.verdicts if v.scheme == scheme_id)
    index = next(i for i, b in enumerate(scheme.bands) if b.says == verdict.says)
    return index <= next(i for i, b in enumerate(scheme.bands) if b.upper == limit)


def test_every_shared_boundary_puts_whole_numbers_on_one_side() -> None:
    """Cut-offs that are conversions of each other (at the precision stated) agree on
    every whole number next to them, written in either scheme's unit."""
    shared = []
    for test in LABS.tests:
        for a in test.schemes:
            for b in test.schemes:
                for la in (band.upper for band in a.bands if band.upper is not None):
                    for lb in (band.upper for band in b.bands if band.upper is not None):
                        there = round(convert(LABS, la, a.unit, b.unit))
                        back = round(convert(LABS, lb, b.unit, a.unit))
                        same = there == lb or back == la
                        if a.id < b.id and a.unit != b.unit and same:
                            shared.append((test.id, a, la, b, lb))
    assert len(shared) >= 3  # Allen 148 ↔ MedlinePlus 200; NICE ↔ AAFP 180, 350 in ng ↔ pg
    for test_id, a, la, b, lb in shared:
        for value, unit in [(la + d, a.unit) for d in (-1, 0, 1)] + [
            (lb + d, b.unit) for d in (-1, 0, 1)
        ]:
            sides = (_side(test_id, a.id, value, unit, la), _side(test_id, b.id, value, unit, lb))
            assert sides[0] == sides[1], (a.id, b.id, value, unit)


def _user_texts() -> list[tuple[str, str]]:
    """Every text of labs.yaml a user can read: bands, advice, about, notes, templates."""
    found = [(f"texts.{k}", v) for k, v in LABS.texts.model_dump().items()]
    for test in LABS.tests:
        found += [(f"{test.id}.about", test.about.text)]
        found += [(f"{test.id}.advice.{c}", a.text) for c, a in test.advice.items()]
        found += [(f"{test.id}.advice.{c}.bottom", a.bottom) for c, a in test.advice.items()]
        found += [(f"{test.id}.note", n.text) for n in test.notes]
        for scheme in test.schemes:
            found += [(f"{test.id}.{scheme.id}.name", scheme.name)]
            for band in scheme.bands:
                found += [(f"{test.id}.{scheme.id}.label", band.label)]
                found += [(f"{test.id}.{scheme.id}.says", band.says)]
    return found


FORBIDDEN = ["diagnostic", "you have", "you are deficient", "you're deficient", "you are low"]


@pytest.mark.parametrize("phrase", FORBIDDEN)
def test_no_text_diagnoses(phrase: str) -> None:
    assert [w for w, t in _user_texts() if phrase in t.lower()] == []


def test_fits_deficiency_is_only_a_possibility_with_the_doctor() -> None:
    fits = [(w, " ".join(t.lower().split())) for w, t in _user_texts()]
    fits = [(w, t) for w, t in fits if re.search(r"\bfits?\b", t)]
    assert fits  # the advice for low and raised results says so
    for where, text in fits:
        before = re.findall(r"(\w+) fits?\b", text)
        assert before and set(before) <= {"may", "can"}, where
        assert "doctor" in text, where


def test_no_order_to_take_a_medicine() -> None:
    pattern = re.compile(r"\b(take|start|stop|inject)\b", re.IGNORECASE)
    assert [w for w, t in _user_texts() if pattern.search(t)] == []


def test_user_number_is_placed_in_the_sources_range_not_diagnosed() -> None:
    text = reply_for("b12 150 pg/ml").full
    assert "AAFP (US, 2025) puts this in the range it calls <b>deficient</b>" in text
    assert "diagnos" not in text.replace("not a diagnosis", "")


def test_mma_and_homocysteine_limits_are_stablers_example_only() -> None:
    """Stabler 2013 (NEJM) gives MMA <400 nmol/L and homocysteine <14 µmol/L as one lab's
    normal limits; the Wikipedia-derived 0.271 µmol/L and 15 µmol/L have no source left."""
    unsourced = re.compile(r"(?<![\d.])(0\.271|271|15)(?![\d.])")
    for test_id, limit in (("mma", 400), ("hcy", 14)):
        test = LABS.test(test_id)
        assert test is not None
        for scheme in test.schemes:
            assert scheme.sources == ("stabler_2013",)
            assert [b.upper for b in scheme.bands[:-1]] == [limit]
            assert scheme.bands[0].lt == limit  # "<400": 400 itself is not normal
        for cls, advice in test.advice.items():
            assert "one lab's example" in advice.text, cls
        texts = [t for w, t in _user_texts() if w.startswith(f"{test_id}.")]
        assert [t for t in texts if unsourced.search(t)] == []


STABLER = [
    ("mma 399 nmol/l", "normal"),
    ("mma 400 nmol/l", "deficient"),
    ("mma 0.4 umol/l", "deficient"),
    ("mma 300 nmol/l", "normal"),
    ("homocysteine 13.9", "normal"),
    ("homocysteine 14 umol/l", "deficient"),
    ("homocysteine 14.5", "deficient"),
]


@pytest.mark.parametrize(("text", "cls"), STABLER)
def test_mma_and_homocysteine_against_stabler(text: str, cls: str) -> None:
    reading = explain_lab(text, LABS)
    assert reading is not None and reading.cls == cls


def test_mma_band_list_says_where_400_belongs() -> None:
    text = reply_for("mma 450 nmol/l").full
    assert "under 400: normal; 400 or more: raised" in text


def test_lead_line_is_plain_english() -> None:
    reply = reply_for("my b12 is 200 pg/mL")
    assert reply.text == (
        "<b>Serum B12 200 pg/mL</b> (about 148 pmol/L): in the <b>grey zone</b> — it neither "
        "confirms nor rules out low B12; ask your doctor about an MMA test."
    )
    assert reply.more is not None and reply.more.startswith(f"{reply.text}\n\n")
    assert reply.more.splitlines()[2] == (  # the primary scheme's own words, behind More
        "NICE (UK, 2024) calls this range <b>indeterminate</b>: "
        "it neither confirms nor rules out low B12."
    )


@pytest.mark.parametrize("text", ["b12 200 pg/ml", "active b12 30", "mma 450 nmol/l"])
def test_every_scheme_line_is_a_sentence(text: str) -> None:
    reading = explain_lab(text, LABS)
    assert reading is not None
    test = LABS.test(reading.test)
    assert test is not None
    lines = [ln for ln in render_lab(reading, LABS, TITLES).full.splitlines() if ln[:1] == "•"]
    assert len(lines) == len(test.schemes)
    for line, scheme, verdict in zip(lines, test.schemes, reading.verdicts, strict=True):
        assert line.startswith(f"• {scheme.name} {verdict.says}. Its cut-offs in "), line
        assert "→" not in line


# ------------------------------------------------------------------ phone-sized replies


def _readings() -> list[object]:
    """A reading in every band of every scheme, in every unit of its test, stated or not."""
    found = []
    for test in LABS.tests:
        for scheme in test.schemes:
            limits = [b.upper for b in scheme.bands if b.upper is not None]
            for value in {x * f for x in limits for f in (0.5, 0.99, 1.0, 1.6)}:
                for unit in test.units:
                    there = convert(LABS, value, scheme.unit, unit)
                    action = lab_action(test.id, there, unit)
                    found.append(reading_from_action(action, LABS))
                    if unit == test.default_unit:
                        found.append(reading_from_action(f"{action}:a", LABS))
    return [r for r in found if r is not None and r.status is Status.placed]


def test_a_placed_reading_leads_with_its_bottom_line_within_400() -> None:
    readings = _readings()
    assert len(readings) > 100 and {r.cls for r in readings} == set(LabClass)
    assert any(r.unit_assumed for r in readings)
    for reading in readings:
        test = LABS.test(reading.test)
        assert test is not None and reading.cls is not None
        reply = render_lab(reading, LABS, TITLES)
        assert len(reply.text) <= 400, reply.text
        assert reply.text.startswith(f"<b>{test.name} "), reply.text
        assert test.advice[reading.cls].bottom in reply.text.split("\n")[0]
        assert "Source:" not in reply.text and reply.sources and reply.more
        assert LABS.texts.cutoffs_title not in reply.text  # the schemes are behind More
        assert LABS.texts.cutoffs_title in reply.more and reply.more.startswith(reply.text)


@pytest.mark.parametrize(("text", "test", "qualifier"), NO_VALUE)
def test_a_report_word_alone_leads_with_what_it_means(text: str, test: str, qualifier: str) -> None:
    reading = explain_lab(text, LABS)
    assert reading is not None
    reply = render_lab(reading, LABS, TITLES)
    assert len(reply.text) <= 400
    assert reply.more and LABS.texts.about_cutoffs in reply.more
    assert LABS.texts.about_cutoffs not in reply.text


@pytest.mark.parametrize(
    ("text", "ref"),
    [
        ("my b12 came back 200 pg/ml", "lab:b12:200:pg"),
        ("homocysteine 18", "lab:hcy:18:umol:a"),
        ("MMA high what does it mean", "lab:mma:high"),
    ],
)
def test_more_and_sources_carry_the_reading(engine: Engine, text: str, ref: str) -> None:
    reply = engine.ask(text)
    assert [b.action for b in reply.buttons[:2]] == [f"m:{ref}", f"s:{ref}"]
    more, sources = engine.act(f"m:{ref}"), engine.act(f"s:{ref}")
    assert more is not None and sources is not None
    assert more.text == reply.more and sources.text == f"{reply.text}\n\n{reply.sources}"
    assert [b.action for b in more.buttons] == [f"ms:{ref}"]  # Sources still to press
    both = engine.act(f"ms:{ref}")
    assert both is not None and both.text == reply.full and not both.buttons


def test_a_forged_lab_view_shows_nothing(engine: Engine) -> None:
    for action in ("m:lab:b12:200:umol", "m:lab:b12:200:pg:a", "m:lab:b12:high", "m:lab:xx:1:pg"):
        assert engine.act(action) is None, action
