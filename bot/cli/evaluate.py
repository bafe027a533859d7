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
    per_intent: dict[str, tuple[int, int]]
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


def score(rows: Iterable[Row], predict: Predict) -> Scores:
    per_intent: dict[str, list[int]] = {}
    confusions: Counter[tuple[str, str]] = Counter()
    misses = []
    inside = inside_ok = oos = oos_ok = urgent = urgent_ok = food = food_ok = 0
    for row in rows:
        intent, food_id = predict(row.text)
        right = intent == row.intent and (row.food is None or food_id == row.food)
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
        confusions=confusions,
        misses=misses,
    )


def engine_predictor(engine: Engine) -> Predict:
    def predict(text: str) -> tuple[str | None, str | None]:
        reply = engine.ask(text)
        return reply.intent, reply.food

    return predict


def evaluate_file(engine: Engine, path: Path, *, baselines: bool, tune: bool) -> int:
    rows = read_rows(path)
    if tune:
        engine = _tune(engine, rows)
    result = score(rows, engine_predictor(engine))
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
    print("\naccuracy per intent")
    for intent, (ok, n) in sorted(s.per_intent.items(), key=lambda kv: kv[1][0] / kv[1][1]):
        print(f"  {intent:28} {ok / n:.2f}  ({ok}/{n})")
    print("\nmost confused (expected -> got)")
    for (want, got), n in s.confusions.most_common(10):
        print(f"  {n:3}  {want} -> {got}")
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
    for answer, margin in itertools.product(range(40, 66, 2), (0.0, 1.0, 2.0, 3.0, 5.0)):
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
