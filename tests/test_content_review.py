"""The medical review's checks (issue 12): primary publishers only, no diagnosing wording.

Fixtures are small content folders in tmp_path that use the real content/publishers.yaml or
content/wording.yaml rules, so each test fails when the rule it shows is disabled there.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from bot.content import check_directory
from bot.content.review import check_publishers, check_wording, host_matches

ROOT = Path(__file__).resolve().parents[1]
CONTENT = ROOT / "content"


def write(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


# ------------------------------------------------------------------------ publishers


def sources(*urls: str) -> dict[str, object]:
    return {"sources": [{"id": f"s{i}", "title": "A source", "url": u} for i, u in enumerate(urls)]}


@pytest.fixture
def publishers_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "content"
    directory.mkdir()
    shutil.copy(CONTENT / "publishers.yaml", directory / "publishers.yaml")
    return directory


def test_real_content_passes_check_publishers() -> None:
    assert check_publishers(CONTENT) == []


def test_a_host_matches_its_domain_and_subdomains_only() -> None:
    assert host_matches("nhs.uk", "nhs.uk")
    assert host_matches("www.nhs.uk", "nhs.uk")
    assert host_matches("harrow.healthhelpnow.nhs.uk", "nhs.uk")
    assert host_matches("WWW.NHS.UK", "nhs.uk")
    assert not host_matches("notnhs.uk", "nhs.uk")
    assert not host_matches("nhs.uk.example.com", "nhs.uk")
    assert not host_matches("uk", "nhs.uk")


def test_unknown_hosts_are_problems_naming_source_and_host(publishers_dir: Path) -> None:
    write(
        publishers_dir / "sources.yaml",
        sources(
            "https://www.nhs.uk/conditions/leg-cramps/",
            "http://harrow.healthhelpnow.nhs.uk/health-help/",
            "https://doi.org/10.1056/NEJMcp1113996",
            "https://ods.od.nih.gov/factsheets/VitaminB12-Consumer/",
            "https://pmc.ncbi.nlm.nih.gov/articles/PMC1463088/",
            "https://www.scribd.com/document/225623179/x",
            "https://nhs.uk.mirror.example.com/leg-cramps",
            "https://www.researchgate.net/publication/38032375",
        ),
    )
    problems = check_publishers(publishers_dir)
    assert [(p.file, p.field) for p in problems] == [
        ("content/sources.yaml", "sources (s5).url"),
        ("content/sources.yaml", "sources (s6).url"),
        ("content/sources.yaml", "sources (s7).url"),
    ]
    assert "'s5'" in problems[0].message and "'www.scribd.com'" in problems[0].message
    assert "'nhs.uk.mirror.example.com'" in problems[1].message


def test_no_mirror_or_aggregator_domain_is_allowed(publishers_dir: Path) -> None:
    third_parties = [
        "https://m.booksci.cn/literature/145079507.htm",
        "https://www.scribd.com/document/1",
        "http://www.researchgate.net/publication/1",
        "http://fittowork.net/index.php/heat/182-rhabdomyolysis",
        "https://www.thestar.com/life/health_wellness/x.html",
        "https://pulsetoday.co.uk/?p=148078",
        "https://www.empr.com/uncategorized/x/",
        "https://wiki.tiffa.net/wiki/x",
        "https://en.wikipedia.org/wiki/Vitamin_B12",
    ]
    write(publishers_dir / "sources.yaml", sources(*third_parties))
    assert len(check_publishers(publishers_dir)) == len(third_parties)


def test_publishers_file_is_validated(tmp_path: Path) -> None:
    directory = tmp_path / "content"
    write(directory / "sources.yaml", sources("https://www.nhs.uk/"))
    assert [p.message for p in check_publishers(directory)] == ["missing file"]
    write(
        directory / "publishers.yaml",
        {
            "version": 1,
            "publishers": [
                {"domain": "www.nhs.uk", "reason": "The NHS publishes its own guidance here."},
                {"domain": "https://cdc.gov", "reason": "The CDC publishes its own pages."},
                {"domain": "fda.gov", "reason": "The FDA\npublishes here."},
                {"domain": "nih.gov"},
            ],
        },
    )
    fields = [p.field for p in check_publishers(directory)]
    assert fields == [
        "publishers.0.domain",
        "publishers.1.domain",
        "publishers.2.reason",
        "publishers.3.reason",
    ]
    write(
        directory / "publishers.yaml",
        {
            "version": 1,
            "publishers": [
                {"domain": "nih.gov", "reason": "The US National Institutes of Health."},
                {"domain": "ods.od.nih.gov", "reason": "The NIH Office of Dietary Supplements."},
                {"domain": "nih.gov", "reason": "The US National Institutes of Health."},
            ],
        },
    )
    messages = [str(p) for p in check_publishers(directory)]
    assert (
        "content/publishers.yaml: publishers (ods.od.nih.gov): already covered by 'nih.gov'"
        in messages
    )
    assert "content/publishers.yaml: publishers (nih.gov): duplicate domain" in messages


def test_check_directory_reports_an_unknown_publisher(tmp_path: Path) -> None:
    content = tmp_path / "content"
    shutil.copytree(CONTENT, content)
    path = content / "sources.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["sources"].append(
        {"id": "mirror_copy", "title": "A copy", "url": "https://www.scribd.com/document/1"}
    )
    write(path, data)
    problems = [str(p) for p in check_directory(content)]
    assert any(
        p.startswith("content/sources.yaml: sources (mirror_copy).url:") and "www.scribd.com" in p
        for p in problems
    )


def test_check_directory_reports_an_answer_that_prescribes(tmp_path: Path) -> None:
    """The wording rules run with every `content check` and at start-up, not only here."""
    content = tmp_path / "content"
    shutil.copytree(CONTENT, content)
    path = content / "intents" / "b12.yaml"
    text = path.read_text(encoding="utf-8")
    bad = text.replace("Adults need 2.4 mcg a day.", "Take 1,000 mcg of B12 a day.", 1)
    assert bad != text
    path.write_text(bad, encoding="utf-8")
    problems = [str(p) for p in check_directory(content)]
    assert any("food_sources" in p and "Take 1,000 mcg" in p for p in problems), problems


# ------------------------------------------------------------------------ wording


@pytest.fixture
def wording_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "content"
    directory.mkdir()
    shutil.copy(CONTENT / "wording.yaml", directory / "wording.yaml")
    return directory


def answers(directory: Path, *texts: str) -> None:
    """One intent per text, ids a0, a1, … in content/intents/test.yaml."""
    intents = [{"id": f"a{i}", "examples": ["x"], "answer": text} for i, text in enumerate(texts)]
    write(directory / "intents" / "test.yaml", {"intents": intents})


def findings(directory: Path) -> list[tuple[str, str]]:
    """(field, quoted phrase) of every finding."""
    found = []
    for problem in check_wording(directory):
        assert problem.file != "content/wording.yaml", problem
        found.append((problem.field, problem.message.split('"')[1]))
    return found


def fields(directory: Path) -> list[str]:
    return [field for field, _ in findings(directory)]


def test_real_wording_rules_compile() -> None:
    assert not [p for p in check_wording(CONTENT) if p.file.endswith("wording.yaml")]


def test_diagnosing_words_are_flagged(wording_dir: Path) -> None:
    answers(
        wording_dir,
        "A level under 148 pmol/L is <b>diagnostic</b> of deficiency.",
        "It confirms the diagnosis of pernicious anaemia.",
        "The MMA test diagnoses you reliably.",
        "This is not a diagnosis. I can't diagnose you; please discuss your result with a doctor.",
    )
    assert findings(wording_dir) == [
        ("intents (a0).answer", "diagnostic"),
        ("intents (a1).answer", "diagnosis of"),
        ("intents (a2).answer", "diagnoses you"),
    ]


def test_saying_the_reader_has_a_condition_is_flagged(wording_dir: Path) -> None:
    answers(
        wording_dir,
        "Your result means you have B12 deficiency.",
        "You have pernicious anaemia, so injections are needed.",
        "With these signs, you&#x27;ve got nerve damage.",
        "You are deficient in B12.",
        "You’re deficient.",
        "You're probably low in B12.",
    )
    assert findings(wording_dir) == [
        ("intents (a0).answer", "you have B12 deficiency"),
        ("intents (a1).answer", "You have pernicious anaemia"),
        ("intents (a2).answer", "you've got nerve damage"),
        ("intents (a3).answer", "You are deficient"),
        ("intents (a4).answer", "You're deficient"),
        ("intents (a5).answer", "You're probably low in B12"),
    ]


def test_conditions_questions_and_denials_are_not_statements(wording_dir: Path) -> None:
    answers(
        wording_dir,
        "Get medical help if heat cramps don't ease, or if you have heart problems.",
        "<b>See a GP if</b>\n• cramps are frequent\n• you have diabetes and the cramps are new",
        "Do you have anaemia? Have you ever been told you have a thyroid disease?",
        "One low result doesn't mean you have a deficiency.",
        "Only a blood test shows whether you are deficient.",
        "Vitamin B12 is a vitamin you have to get from food or supplements.",
        "If you're deficient, your doctor will explain the treatment.",
    )
    assert findings(wording_dir) == []


def test_orders_to_take_or_start_a_remedy_are_flagged(wording_dir: Path) -> None:
    answers(
        wording_dir,
        "Take 1,000 mcg a day.",
        "Start a supplement.",
        "On a plant-based diet, take B12 throughout pregnancy.",
        "<b>What may help</b>\n• Take magnesium at night",
        "You should take B12 tablets every day.",
        "Eat fortified foods and take a daily supplement.",
        "Start taking vitamin D in winter.",
    )
    assert findings(wording_dir) == [
        ("intents (a0).answer", "Take 1,000 mcg"),
        ("intents (a1).answer", "Start a supplement"),
        ("intents (a2).answer", "take B12"),
        ("intents (a3).answer", "Take magnesium"),
        ("intents (a4).answer", "You should take B12"),
        ("intents (a5).answer", "and take a daily supplement"),
        ("intents (a6).answer", "Start taking vitamin D"),
    ]


def test_softened_sentences_and_other_verbs_are_fine(wording_dir: Path) -> None:
    answers(
        wording_dir,
        "B12 doesn't take long to be absorbed, but it takes months to build up stores.",
        "Please don't stop a medicine on your own.",
        "Keep taking metformin unless your doctor says otherwise.",
        "Before starting supplements, check with a pharmacist.",
        "If you take quinine and notice bruising, stop it and get help.",
        "• you take quinine and notice bruising — stop it and get help",
        "Take 1,000 mcg a day if your doctor agrees.",
        "Some people may take B12 as a spray. Ask whether to start a supplement.",
        "Bye for now — take care! Start the B12 check. Take a B12 test first.",
        "Type /check to start again.",
        "Don't take high-dose folic acid on its own while B12 might be low.",
    )
    assert findings(wording_dir) == []


def test_a_softener_inside_another_word_does_not_soften(wording_dir: Path) -> None:
    answers(wording_dir, "Take B12 tablets: it can't hurt and the taste is mayonnaise-like.")
    assert fields(wording_dir) == ["intents (a0).answer"]


def test_every_user_facing_file_is_read_but_not_what_users_type(wording_dir: Path) -> None:
    bad = "Take 1,000 mcg a day."
    write(
        wording_dir / "intents" / "b12.yaml",
        {
            "intents": [
                {
                    "id": "daily_needs",
                    "title": "Daily needs",
                    "examples": ["should i take 1000 mcg b12", bad],
                    "answer": bad,
                }
            ]
        },
    )
    write(wording_dir / "foods.yaml", {"foods": [{"id": "clams", "names": [bad], "note": bad}]})
    write(wording_dir / "intake.yaml", {"texts": {"vegan_note": bad}, "triggers": [bad]})
    write(wording_dir / "food_lists.yaml", {"groups": [{"group": "fish", "intro": bad}]})
    write(
        wording_dir / "labs.yaml",
        {"tests": [{"id": "b12", "advice": {"deficient": {"text": bad}}, "names": [bad]}]},
    )
    write(
        wording_dir / "questionnaire.yaml",
        {"notes": {"plant_pregnancy": {"text": bad}}, "ui": {"commands": {"stop": [bad]}}},
    )
    write(wording_dir / "messages" / "core.yaml", {"fallback": bad})
    write(wording_dir / "urgent.yaml", {"situations": [{"id": "x", "reply": bad}]})
    write(wording_dir / "synonyms.yaml", {"phrases": {bad: "b12"}})
    problems = check_wording(wording_dir)
    assert [f"{p.file}: {p.field}" for p in problems] == [
        "content/food_lists.yaml: groups[0].intro",
        "content/foods.yaml: foods (clams).note",
        "content/intake.yaml: texts.vegan_note",
        "content/intents/b12.yaml: intents (daily_needs).answer",
        "content/labs.yaml: tests (b12).advice.deficient.text",
        "content/messages/core.yaml: fallback",
        "content/questionnaire.yaml: notes.plant_pregnancy.text",
    ]
    assert all('"Take 1,000 mcg"' in p.message for p in problems)


def test_broken_rules_are_problems_of_the_wording_file(wording_dir: Path) -> None:
    path = wording_dir / "wording.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["rules"][0]["patterns"] = ["(unclosed", "{no_such_part}"]
    write(path, data)
    problems = [str(p) for p in check_wording(wording_dir)]
    rule = data["rules"][0]["id"]
    assert problems[0].startswith(f"content/wording.yaml: rules ({rule}).patterns[0]: not a valid")
    assert (
        problems[1]
        == f"content/wording.yaml: rules ({rule}).patterns[1]: unknown part {{no_such_part}}"
    )
    path.unlink()
    assert [str(p) for p in check_wording(wording_dir)] == ["content/wording.yaml: -: missing file"]
