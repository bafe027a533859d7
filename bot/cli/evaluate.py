"""`python -m bot eval FILE`: how well the engine answers a labelled file, like `rasa test nlu`.

Each line of FILE is {"text", "intent" (id or null), "food" (id or null)}. The same
file also scores two baselines built from the same content, each with its own
best fallback threshold, so the engine's figures have something to stand against.
"""

from __future__ import annotations

import itertools
import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from bot.core.engine import URGENT, Engine, Thresholds

Predict = Callable[[str], tuple[str | None, str | None]]
Scorer = Callable[[str], float]
BANDS = (0, 40, 60, 70, 80, 90, 95, 101)  # score bands of the calibration table


@dataclass(frozen=True)
class Row:
    text: str
    intent: str | None
    food: str | None


@dataclass(frozen=True)
class Scores:
    overall: float  # intent right, and the food too where one is labelled
    in_scope: float
    food: float
    out_of_scope: float
    urgent: float
    per_intent: dict[str, tuple[int, int]]  # right, labelled
    predicted: Counter[str]  # how often each intent was answered
    calibration: list[tuple[float, bool]]  # (score, right) for every message answered
    confusions: Counter[tuple[str, str]]
    misses: list[tuple[Row, str | None, str | None]]

    @property
    def balanced(self) -> float:
        """One figure to tune on: in-scope and out-of-scope weighed alike."""
        return (self.in_scope + self.out_of_scope) / 2


def read_rows(path: Path) -> list[Row]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            data = json.loads(line)
            rows.append(Row(data["text"], data.get("intent"), data.get("food")))
    return rows


def score(rows: Iterable[Row], predict: Predict, scorer: Scorer | None = None) -> Scores:
    """`scorer`, when given, says how sure each answer was (for the calibration table)."""
    per_intent: dict[str, list[int]] = {}
    predicted: Counter[str] = Counter()
    calibration: list[tuple[float, bool]] = []
    confusions: Counter[tuple[str, str]] = Counter()
    misses = []
    inside = inside_ok = oos = oos_ok = urgent = urgent_ok = food = food_ok = 0
    for row in rows:
        intent, food_id = predict(row.text)
        right = intent == row.intent and (row.food is None or food_id == row.food)
        if intent is not None:
            predicted[intent] += 1
            if scorer is not None:
                calibration.append((scorer(row.text), right))
        if row.intent is None:
            oos += 1
            oos_ok += intent is None
        else:
            inside += 1
            inside_ok += intent == row.intent
            counts = per_intent.setdefault(row.intent, [0, 0])
            counts[0] += intent == row.intent
            counts[1] += 1
        if row.intent == URGENT:
            urgent += 1
            urgent_ok += intent == URGENT
        if row.food is not None:
            food += 1
            food_ok += right
        if intent != row.intent:
            confusions[(str(row.intent), str(intent))] += 1
        if not right:
            misses.append((row, intent, food_id))
    total = inside + oos
    return Scores(
        overall=(total - len(misses)) / max(total, 1),
        in_scope=inside_ok / max(inside, 1),
        food=food_ok / max(food, 1),
        out_of_scope=oos_ok / max(oos, 1),
        urgent=urgent_ok / max(urgent, 1),
        per_intent={k: (v[0], v[1]) for k, v in per_intent.items()},
        predicted=predicted,
        calibration=calibration,
        confusions=confusions,
        misses=misses,
    )


def engine_predictor(engine: Engine) -> Predict:
    return engine_answers(engine)[0]


def engine_answers(engine: Engine) -> tuple[Predict, Scorer]:
    """The engine's answer and its score, from one call per text."""
    cache: dict[str, tuple[str | None, str | None, float]] = {}

    def answer(text: str) -> tuple[str | None, str | None, float]:
        if text not in cache:
            reply = engine.ask(text)
            cache[text] = (reply.intent, reply.food, reply.score)
        return cache[text]

    return (lambda text: answer(text)[:2]), (lambda text: answer(text)[2])


def evaluate_file(engine: Engine, path: Path, *, baselines: bool, tune: bool) -> int:
    rows = read_rows(path)
    if tune:
        engine = _tune(engine, rows)
    result = score(rows, *engine_answers(engine))
    _print_report(result, len(rows))
    table = [("engine", result)]
    if baselines:
        from bot.cli.baselines import fuzzy_baseline, tfidf_baseline

        for name, factory in (
            ("rapidfuzz WRatio", fuzzy_baseline),
            ("TF-IDF + LogReg", tfidf_baseline),
        ):
            predictor = factory(engine.content)
            if predictor is None:
                print(f"\n{name}: skipped (install the dev extras: pip install -e '.[dev]')")
                continue
            table.append((name, _best_threshold(rows, predictor)))
    print("\n| model | all messages | in-scope | food | out-of-scope rejection | urgent recall |")
    print("|---|---|---|---|---|---|")
    for name, s in table:
        food = f"{s.food:.3f}" if name == "engine" else "n/a"  # the baselines name no food
        print(
            f"| {name} | {s.overall:.3f} | {s.in_scope:.3f} | {food} | {s.out_of_scope:.3f} | {s.urgent:.3f} |"
        )
    return 0


def _print_report(s: Scores, total: int) -> None:
    print(f"{total} messages")
    print(f"in-scope accuracy      {s.in_scope:.3f}")
    print(f"food accuracy          {s.food:.3f}")
    print(f"out-of-scope rejection {s.out_of_scope:.3f}")
    print(f"urgent recall          {s.urgent:.3f}")
    print_per_intent(s)
    print_calibration(s)
    _print_misses(s)


def print_per_intent(s: Scores) -> None:
    print("\nper intent (worst F1 first)      precision recall  F1    n")
    rows = []
    for intent, (ok, n) in s.per_intent.items():
        answered = s.predicted[intent]
        precision = ok / answered if answered else 0.0
        recall = ok / n
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        rows.append((f1, intent, precision, recall, n))
    for f1, intent, precision, recall, n in sorted(rows):
        print(f"  {intent:30} {precision:9.2f} {recall:6.2f} {f1:5.2f} {n:4}")
    print("\nmost confused (expected -> got)")
    for (want, got), n in s.confusions.most_common(10):
        print(f"  {n:3}  {want} -> {got}")


def print_calibration(s: Scores) -> None:
    """Accuracy per score band of the messages answered: a score should mean how sure."""
    if not s.calibration:
        return
    print("\ncalibration: answers by score band")
    print("  band      answers  right")
    for low, high in itertools.pairwise(BANDS):
        band = [right for value, right in s.calibration if low <= value < high]
        if band:
            print(f"  {low:3}–{min(high, 100):<3}  {len(band):8}  {sum(band) / len(band):.3f}")
    sure = [right for value, right in s.calibration if value >= 80]
    if sure:
        print(f"  score ≥ 80: {len(sure)} answers, {sum(sure) / len(sure):.3f} right")


def _print_misses(s: Scores) -> None:
    print(f"\nmisses ({len(s.misses)})")
    for row, intent, food in s.misses:
        expected = row.intent + (f"/{row.food}" if row.food else "") if row.intent else "null"
        got = (intent or "null") + (f"/{food}" if food else "")
        print(f"  {expected:30} got {got:30} {row.text!r}")


def _best_threshold(rows: list[Row], predictor: Callable[[float], Predict]) -> Scores:
    """A baseline at the fallback threshold that suits it best on this file."""
    best = max((score(rows, predictor(t)) for t in range(0, 100, 2)), key=lambda s: s.balanced)
    return best


def _tune(engine: Engine, rows: list[Row]) -> Engine:
    """Grid-search the thresholds on the file; print the best and return an engine using them."""
    base = engine.thresholds
    best: tuple[float, Thresholds] | None = None
    for answer, margin in itertools.product(range(10, 70, 5), (0.0, 2.0, 5.0, 10.0, 20.0)):
        thresholds = replace(base, answer=float(answer), margin=margin)
        trial = Engine(engine.content, thresholds, urgent=engine.urgent)
        s = score(rows, engine_predictor(trial))
        if s.urgent < 1.0:
            continue
        if best is None or s.balanced > best[0]:
            best = (s.balanced, thresholds)
    if best is None:
        print("tune: no threshold keeps urgent recall at 1.0")
        return engine
    print(f"tuned thresholds: {best[1]}\n")
    return Engine(engine.content, best[1], urgent=engine.urgent)
