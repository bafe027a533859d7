"""`python -m bot eval --safety-cv FILE…`: the safety layer's two cut-offs, cross-validated.

Why: the second opinion learns from every development corpus, so running one of them
through the shipped layer says little — the model has seen its answers. Here each corpus is
judged by the rules and by a model trained without that corpus's rows (as a new, unseen
corpus would be), and the counts are summed over all of them for a grid of the model's own
alarm threshold and of the veto over the rules' alarms (bot/core/safety/learned.py). The
shipped pair is marked. A corpus's holdout half (urgent.jsonl's) is never read.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.cli.safety_eval import read_cases
from bot.content.urgent import load_urgent_examples
from bot.core.engine import Engine
from bot.core.safety.detect import Verdict, combined
from bot.core.safety.learned import MAX_CHARS, THRESHOLD, VETO

THRESHOLDS = (0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6)
VETOES = (0.002, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.05)


@dataclass(frozen=True, slots=True)
class Judged:
    text: str
    corpus: str
    urgent: bool
    rules: Verdict
    probability: float | None  # None: the model is not asked about this message
    situation: str


def judge_corpora(engine: Engine, paths: list[Path]) -> list[Judged]:
    """Every dev row of `paths`, each judged with a model trained without its corpus."""
    safety = engine.safety
    examples = load_urgent_examples(engine.content.directory)
    if examples is None:
        raise SystemExit("content/urgent_examples.yaml is missing: nothing to cross-validate")
    ordinary = [e for i in engine.content.intents.values() for e in i.examples]
    judged: list[Judged] = []
    for path in paths:
        cases = read_cases(path, "dev")
        texts = {c.text for c in cases}
        kept = {k: tuple(t for t in v if t not in texts) for k, v in examples.examples.items()}
        second = safety.retrained(examples.model_copy(update={"examples": kept}), ordinary)
        for case in cases:
            words, rules, asks_model = safety.reading(case.text)
            probability, situation = None, ""
            if asks_model:
                probability, situation = second.assess(
                    case.text, words if len(case.text) <= MAX_CHARS else None
                )
            judged.append(
                Judged(case.text, path.name, case.urgent, rules.verdict, probability, situation)
            )
        print(f"  {path.name}: {len(cases)} rows", flush=True)
    return judged


def _alarm(j: Judged, threshold: float, veto: float, vetoes: dict[str, float]) -> bool:
    if j.probability is None:
        return bool(j.rules.alarms)
    return bool(combined(j.rules, j.probability, j.situation, threshold, veto, vetoes).alarms)


def safety_cross_validate(engine: Engine, paths: list[Path]) -> int:
    print(f"safety cross-validation over {len(paths)} corpora (each without its own rows)")
    judged = judge_corpora(engine, paths)
    vetoes = engine.safety.vetoes  # situations with a veto of their own (urgent.yaml)
    emergencies = [j for j in judged if j.urgent]
    lookalikes = [j for j in judged if not j.urgent]
    print(f"{len(emergencies)} emergencies, {len(lookalikes)} look-alikes")
    print("| threshold | veto | missed | recall | false alarms | rate |")
    print("|---|---|---|---|---|---|")
    for threshold in THRESHOLDS:
        for veto in VETOES:
            missed = sum(not _alarm(j, threshold, veto, vetoes) for j in emergencies)
            alarms = sum(_alarm(j, threshold, veto, vetoes) for j in lookalikes)
            shipped = " (shipped)" if (threshold, veto) == (THRESHOLD, VETO) else ""
            print(
                f"| {threshold}{shipped} | {veto} | {missed} | "
                f"{1 - missed / max(len(emergencies), 1):.4f} | {alarms} | "
                f"{alarms / max(len(lookalikes), 1):.2%} |"
            )
    # What an unseen corpus would get wrong at the shipped pair: where rules are still missing.
    print("\nat the shipped pair, cross-validated (development rows):")
    for title, rows in (
        ("missed", [j for j in emergencies if not _alarm(j, THRESHOLD, VETO, vetoes)]),
        ("false alarms", [j for j in lookalikes if _alarm(j, THRESHOLD, VETO, vetoes)]),
    ):
        print(f"{title} ({len(rows)})")
        for j in rows:
            p = "rules only" if j.probability is None else f"p={j.probability:.3f} {j.situation}"
            print(f"  {j.corpus:22s} {p:28s} {j.text!r}")
    # The veto by the rules' leading situation: emergencies it loses, false alarms it saves.
    vetoed = [
        j for j in judged if j.rules.alarms and j.probability is not None and j.probability < VETO
    ]
    print(f"\nthe veto of {VETO} by situation (own vetoes: {vetoes}):")
    print("  emergencies lost / false alarms saved")
    for situation in sorted({j.rules.alarms[0] for j in vetoed}):
        mine = [j for j in vetoed if j.rules.alarms[0] == situation]
        print(
            f"  {situation:18s} {sum(j.urgent for j in mine)} / {sum(not j.urgent for j in mine)}"
        )
    return 0
