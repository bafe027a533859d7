"""`python -m bot content check`: every problem reported with file and field, exit non-zero."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot.content import ContentError, check_directory
from bot.content.check import REQUIRED_FOODS, REQUIRED_INTENTS
from bot.content.yamlfile import parse_yaml
from bot.core.engine import Engine
from bot.core.understand.normalise import Normaliser

ROOT = Path(__file__).resolve().parents[1]
CONTENT = ROOT / "content"


@pytest.fixture
def content_copy(tmp_path: Path) -> Path:
    target = tmp_path / "content"
    shutil.copytree(CONTENT, target)
    return target


def edit(path: Path, change) -> None:  # type: ignore[no-untyped-def]
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def test_shipped_content_is_valid_and_complete(engine: Engine) -> None:
    assert set(engine.content.intents) >= REQUIRED_INTENTS
    assert set(engine.content.foods) >= REQUIRED_FOODS
    assert check_directory(CONTENT, Normaliser) == []


def test_every_problem_is_reported_with_file_and_field(content_copy: Path) -> None:
    intents = content_copy / "intents" / "cramps.yaml"

    def break_intents(data: dict) -> None:  # type: ignore[type-arg]
        first, second = data["intents"][0], data["intents"][1]
        first["sources"] = ["no_such_source"]
        first["related"] = ["no_such_intent"]
        first["answer"] = "<b>unclosed" + "x" * 4000
        second["id"] = first["id"]
        data["intents"][2]["examples"][0] = first["examples"][0].upper() + "!!"

    edit(intents, break_intents)
    edit(
        content_copy / "foods.yaml",
        lambda d: d["foods"].remove(next(f for f in d["foods"] if f["id"] == "banana")),
    )
    problems = [str(p) for p in check_directory(content_copy, Normaliser)]
    text = "\n".join(problems)
    for expected in [
        "unknown source id 'no_such_source'",
        "unknown intent id 'no_such_intent'",
        "answer is",
        "unclosed tag",
        "duplicate id",
        "is also a phrasing of",
        "required food missing",
    ]:
        assert expected in text, expected
    assert all(p.startswith(("content/", "content")) for p in problems)
    assert any(p.startswith("content/intents/cramps.yaml: intents") for p in problems)


def test_schema_errors_name_the_field(content_copy: Path) -> None:
    edit(content_copy / "foods.yaml", lambda d: d["foods"][0].update(mcg="lots"))
    problems = [str(p) for p in check_directory(content_copy, Normaliser)]
    assert any("content/foods.yaml: foods[0]" in p and ".mcg:" in p for p in problems)


def test_broken_yaml_is_a_problem_not_a_crash(content_copy: Path) -> None:
    (content_copy / "synonyms.yaml").write_text("b12: [unclosed", encoding="utf-8")
    problems = [str(p) for p in check_directory(content_copy, Normaliser)]
    assert any("synonyms.yaml" in p and "not valid YAML" in p for p in problems)


def test_engine_refuses_invalid_content(content_copy: Path) -> None:
    (content_copy / "foods.yaml").unlink()
    with pytest.raises(ContentError) as raised:
        Engine.load(content_copy)
    assert "content/foods.yaml" in str(raised.value)


def test_cli_check_exits_non_zero_with_the_report(content_copy: Path) -> None:
    edit(content_copy / "sources.yaml", lambda d: d["sources"].pop(0))
    run = subprocess.run(
        [sys.executable, "-m", "bot", "--content", str(content_copy), "content", "check"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert run.returncode == 1
    assert "unknown source id" in run.stdout


def test_every_intent_has_a_dozen_phrasings_and_food_names(engine: Engine) -> None:
    for intent in engine.content.intents.values():
        assert len(intent.examples) >= 12, intent.id
    for food in engine.content.foods.values():
        assert food.names, food.id


def test_a_summary_over_400_characters_or_with_a_figure_of_its_own_is_a_problem(
    content_copy: Path,
) -> None:
    def change(data: dict) -> None:  # type: ignore[type-arg]
        data["intents"][0]["summary"] = "Most cramps pass. " * 22 + "See a GP."  # 405 characters
        data["intents"][1]["summary"] = "About 42 people cramp."  # no 42 in the answer
        del data["intents"][2]["summary"]

    edit(content_copy / "intents" / "cramps.yaml", change)
    shipped = yaml.safe_load((CONTENT / "intents" / "cramps.yaml").read_text(encoding="utf-8"))
    ids = [i["id"] for i in shipped["intents"]]
    problems = [str(p) for p in check_directory(content_copy, Normaliser)]
    where = "content/intents/cramps.yaml: intents"
    assert f"{where} ({ids[0]}).summary: summary is 405 characters; at most 400" in problems
    assert f"{where} ({ids[1]}).summary: summary gives figures the answer does not: 42" in problems
    assert f"{where}[2] ({ids[2]}).summary: Field required" in problems


def test_every_shipped_summary_fits_a_phone(engine: Engine) -> None:
    for intent in engine.content.intents.values():
        assert 0 < len(intent.summary.strip()) <= 400, intent.id
        reply = engine.act(f"i:{intent.id}")
        assert reply is not None
        title = intent.answer.strip().splitlines()[0]
        assert reply.text.startswith(title), intent.id  # the answer's title stays first
        assert len(reply.text) <= len(title) + 1 + 400, intent.id
        assert "Source:" not in reply.text  # behind the Sources button
        rest = intent.answer.strip().split("\n", 1)[-1].strip()
        assert reply.full.startswith(reply.text) and rest in reply.full  # More shows it all


def test_a_text_parsed_twice_gives_each_caller_its_own_copy() -> None:
    """parse_yaml remembers a parse (each content file is read by several checkers at
    start-up); a caller that changes what it got must not change what the next one gets."""
    text = "intents:\n  - id: a\n    examples: [x]\n"
    first = parse_yaml(text)
    assert isinstance(first, dict)
    first["intents"][0]["examples"].append("changed")
    assert parse_yaml(text) == {"intents": [{"id": "a", "examples": ["x"]}]}
