"""End to end, polling: follow-ups in context through the fake Bot API server (issue 13).

Twelve development dialogues, one chat each, typed message by message. The reply Telegram
shows for every message must be the one `Engine.turn` gives with the dialogue carried along
(the console and `ask --session` take that path too), and the dialogue must be stored per chat
in the database between the messages — so a follow-up is answered in context on Telegram.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from botharness import BOTH_BACKENDS, RunningBot

from bot.cli.dialogue_eval import expected
from bot.core.engine import Engine
from bot.core.turn import ChatState, Text, Turns

pytestmark = BOTH_BACKENDS

DIALOGUES = Path(__file__).resolve().parents[1] / "data" / "dialogues.yaml"
CHOSEN = [  # one or two of every kind
    "d001", "d006", "d011", "d015", "d019", "d024", "d028", "d032", "d037", "d041", "d047",
    "d034",
]  # fmt: skip


def dialogues() -> list[dict]:
    every = {d["id"]: d for d in yaml.safe_load(DIALOGUES.read_text(encoding="utf-8"))["dialogues"]}
    return [every[i] for i in CHOSEN]


async def test_follow_ups_are_answered_in_context_on_telegram(
    bot: RunningBot, engine: Engine
) -> None:
    fake = bot.fake
    right, turns = 0, Turns(engine, None)
    for n, dialogue in enumerate(dialogues()):
        user_id = 9600 + n  # ids no other Telegram test uses
        person = fake.user(user_id)
        state = ChatState()
        for k, turn in enumerate(dialogue["turns"]):
            taken = turns.turn(state, Text(turn["say"]), 0.0)
            state, reply = taken.state, taken.answer
            assert reply is not None
            await fake.send_text(person, turn["say"])
            sent = await fake.wait_sent(user_id, k + 1)
            assert sent[-1]["html"].startswith(reply.text), (dialogue["id"], turn["say"])
            stored = bot.rows("SELECT state FROM dialogues WHERE user_id = ?", (user_id,))
            assert stored, "the dialogue is kept in the database between messages"
        right += expected(dialogue["turns"][-1]["expect"], reply, follow_up=True)
    assert right >= 11, right
