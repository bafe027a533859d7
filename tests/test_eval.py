"""The matcher held to its measured quality on tests/data/eval.jsonl (see README)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from bot.cli.baselines import fuzzy_baseline, tfidf_baseline
from bot.cli.evaluate import _best_threshold, engine_answers, engine_predictor, read_rows, score
from bot.core.engine import Engine

ROOT = Path(__file__).resolve().parents[1]

EVAL = ROOT / "tests" / "data" / "eval.jsonl"
DEV2 = ROOT / "tests" / "data" / "dev2.jsonl"
TEST = ROOT / "tests" / "data" / "test.jsonl"  # held out: floors only, never tuned on
TEST2 = ROOT / "tests" / "data" / "test2.jsonl"  # held out too, a second author (session 5)
TEST3 = ROOT / "tests" / "data" / "test3.jsonl"  # held out, a third author (session 6)
DEV3 = ROOT / "tests" / "data" / "dev3.jsonl"  # tuned on: its misses were rephrased (session 6)
DEV4 = ROOT / "tests" / "data" / "dev4.jsonl"  # tuned on likewise (session 7)
TEST4 = ROOT / "tests" / "data" / "test4.jsonl"  # held out, a fourth author (session 7)
DEV5 = ROOT / "tests" / "data" / "dev5.jsonl"  # tuned on (session 8)
TEST5 = ROOT / "tests" / "data" / "test5.jsonl"  # held out, a fifth author (session 8)
DEV6 = ROOT / "tests" / "data" / "dev6.jsonl"  # tuned on (session 8)
TEST6 = ROOT / "tests" / "data" / "test6.jsonl"  # held out, a sixth author (session 8)
DEV7 = ROOT / "tests" / "data" / "dev7.jsonl"  # tuned on (session 9)
TEST7 = ROOT / "tests" / "data" / "test7.jsonl"  # held out, a seventh author (session 9)
DEV8 = ROOT / "tests" / "data" / "dev8.jsonl"  # tuned on (session 10)
DEV9 = ROOT / "tests" / "data" / "dev9.jsonl"  # tuned on (sessions 11 and 12)
TEST8 = ROOT / "tests" / "data" / "test8.jsonl"  # held out, an eighth author (session 10)
TEST9 = ROOT / "tests" / "data" / "test9.jsonl"  # held out, a ninth author (session 12)
DEV10 = ROOT / "tests" / "data" / "dev10.jsonl"  # tuned on (session 13)
TEST10 = ROOT / "tests" / "data" / "test10.jsonl"  # held out, a tenth author (session 13)


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
    """Development set, as measured (README "Evaluation"): in-scope 0.978, food 1.000,
    out-of-scope 0.960, emergencies 1.000 — none worse than before the learned model
    (0.936, 1.000, 0.947, 1.000)."""
    result = score(rows, engine_predictor(engine))
    assert result.in_scope >= 0.97
    assert result.food == 1.0
    assert result.out_of_scope >= 0.95
    assert result.urgent == 1.0


def test_the_fourth_development_set_holds_its_figures(engine: Engine) -> None:
    """tests/data/dev4.jsonl: first run 0.931 in scope, 0.950 out; after its round 0.949 / 0.990."""
    result = score(read_rows(DEV4), engine_predictor(engine))
    assert result.in_scope >= 0.94
    assert result.food == 1.0
    assert result.out_of_scope >= 0.98


@pytest.mark.parametrize(
    ("path", "in_scope", "food", "out_of_scope"),
    [
        # dev5: first run 0.939 in scope, 0.970 out; 0.977 / 0.990 at the end of session 8
        (DEV5, 0.97, 1.0, 0.98),
        # dev6: first run 0.940 / 0.981 food / 0.950 out; 0.972 / 0.981 / 0.983 at the end of
        # session 8, 0.970 / 0.981 / 0.983 at the end of session 9; 0.975 / 0.981 / 0.967 at
        # the end of session 12 (dev9's phrasings took three of its out-of-scope rows in)
        (DEV6, 0.97, 0.98, 0.96),
        # dev7 (session 9): first run 0.960 / 0.963 / 0.925; 0.974 / 0.963 / 0.967 at the end
        (DEV7, 0.97, 0.96, 0.96),
        # dev8 (session 10): first run 0.954 / 0.956 / 0.988 / 0.942; 0.979 / 0.976 / 0.988 /
        # 0.992 at the end
        (DEV8, 0.97, 0.98, 0.98),
        # dev9 (session 11): first run 0.944 / 0.940 / 0.963 / 0.967; 0.976 / 0.975 / 0.975 /
        # 0.983 at the end of session 12
        (DEV9, 0.97, 0.97, 0.98),
        # dev10 (session 13, 240 near misses out of scope): first run 0.959 / 0.960 / 0.930;
        # 0.961 / 0.960 / 0.937 at the end (its phrasings' round was not kept: README)
        (DEV10, 0.96, 0.96, 0.93),
    ],
    ids=["dev5", "dev6", "dev7", "dev8", "dev9", "dev10"],
)
def test_the_newer_development_sets_hold_their_figures(
    engine: Engine, path: Path, in_scope: float, food: float, out_of_scope: float
) -> None:
    result = score(read_rows(path), engine_predictor(engine))
    assert result.in_scope >= in_scope
    assert result.food >= food
    assert result.out_of_scope >= out_of_scope


def test_the_second_development_set_holds_its_figures(engine: Engine) -> None:
    """tests/data/dev2.jsonl as measured: in-scope 0.982, food 0.992, out-of-scope 1.000 (0.988
    midway through session 8: "what helps with acid reflux" read as a risk question)."""
    result = score(read_rows(DEV2), engine_predictor(engine))
    assert result.in_scope >= 0.97
    assert result.food >= 0.99
    assert result.out_of_scope >= 0.98


@pytest.mark.parametrize(
    ("path", "shared"),
    # test2.jsonl came in with 35 short rows its author happened to share with the content
    # ("b12 test", "hallo", "menu"); they are left in both (README "Evaluation" gives the
    # figures without them too), and no phrasing may be added that equals another row.
    [
        (DEV2, 0),
        (DEV3, 77),
        (DEV4, 70),
        (DEV5, 84),
        (DEV6, 74),
        (TEST, 0),
        (TEST2, 35),
        (TEST3, 55),
        (TEST4, 73),
        (TEST5, 69),
        (TEST6, 57),
        (DEV7, 91),
        (TEST7, 97),  # its author's short rows ("hi", "thx", "bye bye") as it came in
        (DEV8, 82),
        (TEST8, 84),  # likewise ("/start", "thanks")
        (DEV9, 130),
        (TEST9, 93),  # as it came in
        (DEV10, 57),
        (TEST10, 88),  # as it came in
    ],
    ids=[
        "dev2",
        "dev3",
        "dev4",
        "dev5",
        "dev6",
        "test",
        "test2",
        "test3",
        "test4",
        "test5",
        "test6",
        "dev7",
        "test7",
        "dev8",
        "test8",
        "dev9",
        "test9",
        "dev10",
        "test10",
    ],
)
def test_other_sets_measure_generalisation_not_memory(
    path: Path, shared: int, engine: Engine
) -> None:
    examples = {engine.normalise(e) for i in engine.content.intents.values() for e in i.examples}
    rows = read_rows(path)
    assert len([r.text for r in rows if engine.normalise(r.text) in examples]) <= shared


@pytest.mark.parametrize(
    ("path", "in_scope", "out_of_scope", "food", "lead"),
    [
        # After dev4's round (session 7), in scope / out of scope: test 0.970 / 0.988 → 0.961 /
        # 0.976; test2 0.965 / 0.969 → 0.967 / 0.979; test3 0.926 / 0.944 → 0.938 / 0.967.
        # Session 8 (dev5's, dev6's and dev3's rounds), in scope / out of scope, session 7's
        # end → midway → end: test 0.961 / 0.976 → 0.980 / 0.976 → 0.966 / 0.963; test2 0.965 /
        # 0.979 → 0.979 / 0.990 → 0.975 / 0.979; test3 0.936 / 0.967 → 0.960 / 0.956 → 0.954 /
        # 0.956; test4 0.941 / 0.978 → 0.950 / 0.978 → 0.963 / 0.967 (README "Evaluation").
        # Session 9 (int8 weights, dev7's round), in scope / out of scope: test 0.966 / 0.963 →
        # 0.974 / 0.988; test2 0.975 / 0.979 → 0.975 / 0.990; test3 0.954 / 0.956 → 0.969 /
        # 0.956; test4 0.963 / 0.967 → 0.961 / 0.967; test5 0.946 / 0.970 → 0.949 / 0.960;
        # test6 0.946 / 0.960 → 0.946 / 0.980.
        # Session 10 (dev8's round, three dialogue rounds' phrasings), in scope / out of scope:
        # test 0.974 / 0.988 → 0.976 / 0.988; test2 0.975 / 0.990 → 0.979 / 0.990; test3 0.969
        # / 0.956 → 0.961 / 0.978; test4 0.961 / 0.967 → 0.967 / 0.967; test5 0.949 / 0.960 →
        # 0.949 / 0.980; test6 0.946 / 0.980 → 0.964 / 0.960; test7 0.957 / 0.975 → 0.958 /
        # 0.975. TF-IDF gained from the new phrasings too: the lead on test3 is 0.090.
        (TEST, 0.97, 0.98, 0.98, 0.14),
        (TEST2, 0.97, 0.98, 0.98, 0.13),  # first run 0.948 / 0.969
        (TEST3, 0.96, 0.95, 0.97, 0.08),  # first run 0.919 / 0.944
        (TEST4, 0.96, 0.96, 0.98, 0.08),  # first run 0.932 / 0.978, food 1.000
        # test5 (session 8, committed unread): first run 0.930 / 0.960, food 1.000, 0.098 over
        # TF-IDF; midway 0.943 / 0.960; at the end 0.946 / 0.970, 0.105
        (TEST5, 0.94, 0.96, 0.98, 0.10),
        # test6 (session 8, committed unread, run first midway): 0.943 / 0.970, food 0.981,
        # 0.110 over TF-IDF; at the end 0.946 / 0.960, 0.981, 0.101
        (TEST6, 0.95, 0.96, 0.98, 0.10),
        # test7 (session 9, committed unread, first run after dev7's round): 0.962 overall,
        # 0.960 in scope, 0.975 food, 0.975 out of scope, 0.133 over TF-IDF; at the end 0.960 /
        # 0.957 / 0.975 / 0.975, 0.128
        (TEST7, 0.95, 0.97, 0.97, 0.12),
        # test8 (session 10, committed unread, first run at the start): 0.950 overall, 0.950 in
        # scope, 0.975 food, 0.950 out of scope, 0.126 over TF-IDF; at the end 0.956 / 0.960 /
        # 0.975 / 0.933, 0.138; 0.958 / 0.975 / 0.950, 0.125 at the end of session 12
        (TEST8, 0.95, 0.93, 0.97, 0.12),
        # test9 (session 12, committed unread, first run midway): 0.956 overall, 0.970 in scope,
        # 0.988 food, 0.883 out of scope, 0.093 over TF-IDF, 0.980 right at score >= 80. Its
        # author put near-misses in out of scope (sciatica, restless legs, magnesium for sleep).
        # At the end of the session: 0.962 / 0.976 / 0.988 / 0.892.
        (TEST9, 0.96, 0.88, 0.98, 0.09),
        # test10 (session 13, committed unread, first run at the start of dev10's round):
        # 0.961 overall, 0.966 in scope, 1.000 food, 0.933 out of scope, 0.089 over TF-IDF,
        # 0.983 right at score >= 80; the same at the end.
        (TEST10, 0.96, 0.93, 0.98, 0.08),
    ],
    ids=[
        "test.jsonl",
        "test2.jsonl",
        "test3.jsonl",
        "test4.jsonl",
        "test5.jsonl",
        "test6.jsonl",
        "test7.jsonl",
        "test8.jsonl",
        "test9.jsonl",
        "test10.jsonl",
    ],
)
def test_held_out_test_set_floors(
    engine: Engine, path: Path, in_scope: float, out_of_scope: float, food: float, lead: float
) -> None:
    """The held-out test sets as measured (README): floors against regressions, not targets."""
    rows = read_rows(path)
    assert len(rows) >= 400
    result = score(rows, *engine_answers(engine))
    sure = [right for value, right in result.calibration if value >= 80]
    baseline = _best_threshold(rows, tfidf_baseline(engine.content))  # type: ignore[arg-type]
    # Figures only: a failing assertion must not print the held-out rows (pytest shows the
    # objects an assertion reads).
    figures = {
        "sure": sum(sure) / len(sure),
        "in_scope": result.in_scope,
        "food": result.food,
        "out_of_scope": result.out_of_scope,
        "urgent": result.urgent,
        "lead": result.overall - baseline.overall,
    }
    del result, baseline
    assert figures["sure"] >= 0.97, figures  # a score of 80 or more means it is right
    assert figures["in_scope"] >= in_scope, figures
    assert figures["food"] >= food, figures
    assert figures["out_of_scope"] >= out_of_scope, figures
    if any(r.intent == "urgent_help" for r in rows):  # test9's author was told to leave them out
        assert figures["urgent"] == 1.0, figures
    assert figures["lead"] >= lead, figures


def test_the_lead_over_the_baseline_holds_on_the_development_set(rows, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    ours = score(rows, engine_predictor(engine))
    theirs = _best_threshold(rows, tfidf_baseline(engine.content))  # type: ignore[arg-type]
    assert ours.overall >= theirs.overall + 0.10


def test_engine_beats_both_baselines(rows, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    ours = score(rows, engine_predictor(engine))
    for factory in (fuzzy_baseline, tfidf_baseline):
        predictor = factory(engine.content)
        assert predictor is not None
        theirs = _best_threshold(rows, predictor)
        assert ours.balanced > theirs.balanced
        assert ours.urgent > theirs.urgent
