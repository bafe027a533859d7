"""`python -m bot eval tests/data/dialogues.yaml`: how well follow-ups are answered in context.

Each dialogue is two or three messages of one chat, run through `Turns.turn` — the path
every window takes — with 30 seconds between messages. A turn's `expect` names the intent
(or a list of acceptable ones), and may add the food, the life stage the answer must be for,
the foods a running meal total must hold, or `suggest: true` (the bot must ask which one,
with buttons). The report counts the follow-up turns (the second and later messages) apart
from the first turns, by kind of follow-up.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.core.engine import Engine
from bot.core.reply import Reply, ReplyKind
from bot.core.turn import ChatState, Text, Turns

GAP_SECONDS = 30.0
NONE_ACTION = "none"  # the "None of these" button of did-you-mean replies


@dataclass(frozen=True)
class Miss:
    dialogue: str
    kind: str
    say: str
    expect: dict[str, Any]
    got: str


@dataclass(frozen=True)
class DialogueScores:
    followups: tuple[int, int]  # (right, total)
    first_turns: tuple[int, int]
    per_kind: dict[str, tuple[int, int]]
    misses: list[Miss]

    @property
    def in_context(self) -> float:
        right, total = self.followups
        return right / total if total else 0.0


def is_dialogue_file(path: Path) -> bool:
    return path.suffix in {".yaml", ".yml"}


def expected(expect: dict[str, Any], reply: Reply, *, follow_up: bool) -> bool:
    """Whether `reply` meets `expect`. A life stage is required of follow-ups only (a first
    message's general answer covers every stage)."""
    if expect.get("suggest"):  # two choices at least, besides "None of these"
        choices = [b for b in reply.buttons if b.action != NONE_ACTION]
        return reply.kind is ReplyKind.fallback and len(choices) >= 2
    wanted = expect.get("intent")
    wanted = [wanted] if isinstance(wanted, str) else wanted
    if wanted and reply.intent not in wanted:
        return False
    if "food" in expect and reply.food != expect["food"]:
        return False
    details = reply.details or {}
    stage_asked = "life_stage" in expect and (follow_up or "life_stage" in details)
    if stage_asked and details.get("life_stage") != expect["life_stage"]:
        return False
    if "foods_counted" in expect:
        items = details.get("items")
        counted = {i.get("food") for i in items if isinstance(i, dict)} if items else set()
        if not set(expect["foods_counted"]) <= counted:
            return False
    return True


def score_dialogues(engine: Engine, path: Path) -> DialogueScores:
    dialogues = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("dialogues", [])
    right = Counter[str]()
    total = Counter[str]()
    first = [0, 0]
    misses: list[Miss] = []
    turns = Turns(engine, None)
    for dialogue in dialogues:
        state = ChatState()
        now = 1_750_000_000.0
        for k, turn in enumerate(dialogue["turns"]):
            taken = turns.turn(state, Text(turn["say"]), now)
            state, reply = taken.state, taken.answer
            assert reply is not None  # noqa: S101 - without the check every message is answered
            now += GAP_SECONDS
            expect = turn.get("expect")
            if not expect:
                continue
            good = expected(expect, reply, follow_up=k > 0)
            if k == 0:
                first[0] += good
                first[1] += 1
                continue
            total[dialogue["kind"]] += 1
            right[dialogue["kind"]] += good
            if not good:
                got = f"{reply.intent} {reply.food or ''} {reply.kind.value}".strip()
                misses.append(Miss(dialogue["id"], dialogue["kind"], turn["say"], expect, got))
    per_kind = {kind: (right[kind], total[kind]) for kind in sorted(total)}
    return DialogueScores(
        (sum(right.values()), sum(total.values())), (first[0], first[1]), per_kind, misses
    )


def evaluate_dialogues(engine: Engine, path: Path) -> int:
    scores = score_dialogues(engine, path)
    right, total = scores.followups
    print(f"{path}: follow-ups answered in context {right}/{total} = {scores.in_context:.3f}")
    print(f"first messages right {scores.first_turns[0]}/{scores.first_turns[1]}")
    for kind, (good, count) in scores.per_kind.items():
        print(f"  {kind:<20} {good}/{count}")
    for miss in scores.misses:
        print(f"MISS {miss.dialogue} {miss.kind}: {miss.say!r} want {miss.expect} got {miss.got}")
    return 0
