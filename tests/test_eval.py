"""The matcher held to its measured quality on tests/data/eval.jsonl (see README)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from bot.cli.baselines import fuzzy_baseline, tfidf_baseline
from bot.cli.evaluate import _best_threshold, engine_predictor, read_rows, score
from bot.core.engine import Engine

ROOT = Path(__file__).resolve().parents[1]

EVAL = ROOT / "tests" / "data" / "eval.jsonl"


@pytest.fixture(scope="module")
def rows():  # type: ignore[no-untyped-def]
    return read_rows(EVAL)


def test_eval_file_is_large_and_varied(rows, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    counts = Counter(r.intent for r in rows)
    assert len(rows) >= 400
    assert counts[None] >= 60
    assert counts["urgent_help"] >= 20
    known = set(engine.content.intents) | {"urgent_help"}  # answered by the safety layer
    assert {r.intent for r in rows if r.intent} <= known
    assert {r.food for r in rows if r.food} <= set(engine.content.foods)


def test_eval_measures_generalisation_not_memory(rows, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    examples = {engine.normalise(e) for i in engine.content.intents.values() for e in i.examples}
    copies = [r.text for r in rows if engine.normalise(r.text) in examples]
    assert copies == []


def test_engine_meets_its_targets(rows, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    result = score(rows, engine_predictor(engine))
    assert result.in_scope >= 0.92
    assert result.food >= 0.95
    assert result.out_of_scope >= 0.92
    assert result.urgent == 1.0


def test_engine_beats_both_baselines(rows, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    ours = score(rows, engine_predictor(engine))
    for factory in (fuzzy_baseline, tfidf_baseline):
        predictor = factory(engine.content)
        assert predictor is not None
        theirs = _best_threshold(rows, predictor)
        assert ours.balanced > theirs.balanced
        assert ours.urgent > theirs.urgent
