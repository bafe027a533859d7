"""`python -m bot eval tests/data/urgent.jsonl`: how well the safety layer finds emergencies.

Each line is {"text", "urgent": true, "situation"} for an emergency happening now, or
{"text", "urgent": false, "kind", "near"} for a look-alike (negated, past, a figure of
speech, …). Every row also has "split": "dev" (tune on it) or "holdout" (kept aside, run
only to report). The report gives recall per situation and false alarms per kind, through
the engine's own `ask`, the path every window takes.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bot.core.engine import URGENT, Engine


@dataclass(frozen=True)
class Case:
    text: str
    urgent: bool
    label: str  # the situation of an emergency, the kind of a look-alike
    split: str


@dataclass(frozen=True)
class SafetyScores:
    recall: float
    false_alarm_rate: float
    per_situation: dict[str, tuple[int, int]]  # situation → (caught, total)
    per_kind: dict[str, tuple[int, int]]  # look-alike kind → (alarms, total)
    misses: list[Case]
    false_alarms: list[tuple[Case, list[str]]]


def is_safety_file(path: Path) -> bool:
    """A file of emergencies and look-alikes (it labels "urgent"), not of intents."""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            return "urgent" in json.loads(line)
    return False


def read_cases(path: Path, split: str) -> list[Case]:
    cases = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        data = json.loads(line)
        case = Case(
            data["text"],
            bool(data["urgent"]),
            data.get("situation") or data.get("kind") or "?",
            data.get("split", "dev"),
        )
        if split == "all" or case.split == split:
            cases.append(case)
    return cases


def score_safety(engine: Engine, cases: list[Case]) -> SafetyScores:
    caught: Counter[str] = Counter()
    alarms: Counter[str] = Counter()
    totals: Counter[str] = Counter()
    misses: list[Case] = []
    false_alarms: list[tuple[Case, list[str]]] = []
    for case in cases:
        reply = engine.ask(case.text)
        fired = reply.intent == URGENT
        totals[case.label] += 1
        if case.urgent:
            caught[case.label] += fired
            if not fired:
                misses.append(case)
        elif fired:
            alarms[case.label] += 1
            situations = (reply.details or {}).get("situations", [])
            false_alarms.append((case, list(situations) if isinstance(situations, list) else []))
    urgent = [c for c in cases if c.urgent]
    lookalikes = [c for c in cases if not c.urgent]
    return SafetyScores(
        recall=1 - len(misses) / max(len(urgent), 1),
        false_alarm_rate=len(false_alarms) / max(len(lookalikes), 1),
        per_situation={s: (caught[s], totals[s]) for s in sorted({c.label for c in urgent})},
        per_kind={k: (alarms[k], totals[k]) for k in sorted({c.label for c in lookalikes})},
        misses=misses,
        false_alarms=false_alarms,
    )


def evaluate_safety(engine: Engine, path: Path, split: str) -> int:
    cases = read_cases(path, split)
    s = score_safety(engine, cases)
    n_urgent = sum(c.urgent for c in cases)
    print(
        f"{len(cases)} messages ({split}): {n_urgent} emergencies, {len(cases) - n_urgent} look-alikes"
    )
    print(f"emergency recall   {s.recall:.3f}")
    print(f"false-alarm rate   {s.false_alarm_rate:.3f}")
    print("\n| situation | recall | caught / total |")
    print("|---|---|---|")
    for situation, (ok, n) in s.per_situation.items():
        print(f"| {situation} | {ok / n:.2f} | {ok}/{n} |")
    print("\n| look-alike kind | false alarms | rate |")
    print("|---|---|---|")
    for kind, (bad, n) in s.per_kind.items():
        print(f"| {kind} | {bad}/{n} | {bad / n:.2f} |")
    print(f"\nmissed emergencies ({len(s.misses)})")
    for case in s.misses:
        print(f"  {case.label:18} {case.text!r}")
    print(f"\nfalse alarms ({len(s.false_alarms)})")
    for case, situations in s.false_alarms:
        print(f"  {case.label:18} {','.join(situations):20} {case.text!r}")
    return 0
