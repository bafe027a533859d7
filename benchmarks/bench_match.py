"""Speed and memory of one `ask`, at the shipped content and with the content scaled ×10.

    .venv/bin/python benchmarks/bench_match.py [--repeat N]

Prints messages/second, p50 and p99 latency over tests/data/eval.jsonl, the process's memory
at each stage (resident now and peak so far: the peak is what a memory limit meets, and
loading can set it before any message does), and the time from process start to the first
answer. Targets (issue 2): p99 ≤ 1 ms shipped, ≤ 5 ms at ×10, start to first answer ≤ 1.5 s.
It also times the safety layer alone — the time it adds to every message — on the same
messages, on the emergency corpus and on 10,000 fuzz messages (issue 10: p99 ≤ 0.2 ms).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.content import Content  # noqa: E402
from bot.content.model_cache import ModelDirectory  # noqa: E402
from bot.content.urgent import load_urgent_examples  # noqa: E402
from bot.core.engine import Engine  # noqa: E402
from bot.core.turn import ChatState, Text, Turns  # noqa: E402
from tests.fuzz import fuzz_messages  # noqa: E402


def scaled(content: Content, factor: int, seed: int = 7) -> Content:
    """The content with (factor - 1) synthetic copies of every intent, phrasings reshuffled."""
    rng = random.Random(seed)
    intents = dict(content.intents)
    for intent in content.intents.values():
        for copy in range(1, factor):
            examples = []
            for example in intent.examples:
                words = example.split()
                rng.shuffle(words)
                examples.append(
                    " ".join([*words, f"synthetic{copy}", f"topic{rng.randrange(10**6)}"])
                )
            new_id = f"{intent.id}_x{copy}"
            intents[new_id] = intent.model_copy(update={"id": new_id, "examples": examples})
    return dataclasses.replace(content, intents=intents)


def measure(answer: Callable[[str], object], messages: list[str], repeat: int) -> dict[str, float]:
    """Timings of `answer` (an engine's `ask`, or the safety layer's `check` alone)."""
    for message in messages:  # warm the caches a real process would have warm
        answer(message)
    timings = []
    for _ in range(repeat):
        for message in messages:
            start = time.perf_counter()
            answer(message)
            timings.append(time.perf_counter() - start)
    timings.sort()
    return {
        "messages_per_second": len(timings) / sum(timings),
        "p50_ms": statistics.median(timings) * 1000,
        "p99_ms": timings[int(len(timings) * 0.99)] * 1000,
        "max_ms": timings[-1] * 1000,
    }


def never_repeating(engine: Engine, count: int, seed: int = 5) -> int:
    """Ask `count` messages of random made-up words; returns how many words that was.

    What months of varied (or hostile) traffic do to the per-word caches: memory must level
    off at their bound instead of growing with every new word.
    """
    rng = random.Random(seed)
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = 0
    for _ in range(count):
        message = [
            "".join(rng.choice(letters) for _ in range(rng.randint(3, 10))) for _ in range(8)
        ]
        engine.ask(" ".join(message))
        words += len(message)
    return words


def conversation(engine: Engine) -> Callable[[str], object]:
    """Every message a follow-up of the one before: the dialogue state carried along, as
    Telegram does per chat (issue 13), so the follow-up rules run on each."""
    turns, state = Turns(engine, None), [ChatState()]

    def answer(text: str) -> object:
        taken = turns.turn(state[0], Text(text), time.time())
        state[0] = taken.state
        return taken.answer

    return answer


def memory_mb() -> tuple[float, float]:
    """(resident now, peak resident so far) in MB; where /proc is missing, the peak twice."""
    status = Path("/proc/self/status")
    if status.exists():
        fields = dict(line.split(":", 1) for line in status.read_text().splitlines())
        return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return peak, peak


def start_to_first_answer(cache: Path | None = None) -> float:
    """`cache`: an empty model cache directory, to time a start that has to train."""
    env = dict(os.environ, MODEL_CACHE_DIR=str(cache)) if cache else None
    # As deployed: `make run` and the Dockerfile compile the bytecode first.
    subprocess.run([sys.executable, "-m", "compileall", "-q", "bot"], cwd=ROOT, check=True)
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "bot", "ask", "--json", "why do i get cramps at night"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        env=env,
    )
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    lines = (ROOT / "tests" / "data" / "eval.jsonl").read_text(encoding="utf-8").splitlines()
    messages = [json.loads(line)["text"] for line in lines if line.strip()]

    stages = [("before loading", memory_mb())]
    started = time.perf_counter()
    engine = Engine.load(ROOT / "content")
    load_s = time.perf_counter() - started
    stages.append(("shipped engine loaded", memory_mb()))
    rows = [("shipped", len(engine.content.intents), measure(engine.ask, messages, args.repeat))]
    rows.append(("shipped, as one conversation (`turn`)", len(engine.content.intents),
                 measure(conversation(engine), messages, args.repeat)))  # fmt: skip
    stages.append((f"after {len(messages) * (args.repeat + 1)} messages", memory_mb()))
    made_up = never_repeating(engine, 4000)
    stages.append((f"after {made_up:,} made-up words", memory_mb()))
    big = Engine(
        scaled(engine.content, 10),
        tools=engine.tools,
        urgent=engine.urgent,
        store=ModelDirectory(),
        urgent_examples=load_urgent_examples(ROOT / "content"),
    )
    stages.append(("x10 engine loaded too", memory_mb()))
    rows.append(("x10", len(big.content.intents), measure(big.ask, messages, args.repeat)))
    stages.append((f"after {len(messages) * (args.repeat + 1)} messages on it", memory_mb()))

    print(f"{len(messages)} messages x {args.repeat} repeats; engine load {load_s:.2f} s")
    print("| content | intents | messages/s | p50 ms | p99 ms | max ms |")
    print("|---|---|---|---|---|---|")
    for name, intents, m in rows:
        print(
            f"| {name} | {intents} | {m['messages_per_second']:.0f} | {m['p50_ms']:.3f} "
            f"| {m['p99_ms']:.3f} | {m['max_ms']:.3f} |"
        )
    urgent_lines = (ROOT / "tests" / "data" / "urgent.jsonl").read_text(encoding="utf-8")
    corpus = [json.loads(line)["text"] for line in urgent_lines.splitlines() if line.strip()]
    safety_rows = [
        ("eval.jsonl", measure(engine.safety.check, messages, args.repeat)),
        ("urgent.jsonl", measure(engine.safety.check, corpus, args.repeat)),
        ("10,000 fuzz messages", measure(engine.safety.check, fuzz_messages(10_000), 1)),
    ]
    print("safety layer alone (added to every message)")
    print("| messages | messages/s | p50 ms | p99 ms | max ms |")
    print("|---|---|---|---|---|")
    for name, m in safety_rows:
        print(
            f"| {name} | {m['messages_per_second']:.0f} | {m['p50_ms']:.3f} "
            f"| {m['p99_ms']:.3f} | {m['max_ms']:.3f} |"
        )
    print("| stage | RSS MB | peak RSS MB |")
    print("|---|---|---|")
    for stage, (rss, peak) in stages:
        print(f"| {stage} | {rss:.0f} | {peak:.0f} |")
    first = min(start_to_first_answer() for _ in range(3))
    print(f"process start to first answer (`python -m bot ask`, best of 3): {first:.2f} s")
    with tempfile.TemporaryDirectory() as empty:
        cold = start_to_first_answer(Path(empty))
    print(f"the same with an empty model cache (both models trained first): {cold:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
