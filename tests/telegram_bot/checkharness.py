"""Helpers for the B12 check's end-to-end tests: a user who taps and types, and a mirror.

The mirror runs the same check on the pure state machine, tap for tap, so every message the
bot shows can be compared with what the engine says it should be — the tests check the
Telegram window (one message edited in place, storage, buttons), not the wording.
"""

from __future__ import annotations

import time
from typing import Any

from botharness import RunningBot
from fake_telegram import FakeTelegram

from bot.core.check import CheckEngine, QuestionView, State, Status
from bot.core.reply import Reply

#: A vegan with tingling and tiredness on metformin: "worth asking a doctor about B12 soon".
PROFILE: dict[str, tuple[str, ...]] = {
    "diet": ("vegan",),
    "fortified": ("no",),
    "tingling": ("yes",),
    "tiredness": ("yes",),
    "when": ("night_rest",),
    "medicines": ("metformin", "acid_reducer"),
}


def keyboard(message: dict[str, Any]) -> list[tuple[str, str]]:
    rows = message.get("reply_markup", {}).get("inline_keyboard", [])
    return [(button["text"], button["callback_data"]) for row in rows for button in row]


def labels(message: dict[str, Any]) -> list[str]:
    return [label for label, _ in keyboard(message)]


def data_of(message: dict[str, Any], label: str) -> str:
    found = [data for text, data in keyboard(message) if text == label]
    assert found, f"no button {label!r} in {labels(message)}"
    return found[0]


def choose(view: QuestionView, profile: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    """The profile's answer, else "No", "None of these" or the first option."""
    if view.question.id in profile:
        return profile[view.question.id]
    ids = [o.option.id for o in view.options]
    for candidate in ("no", "none", "neither", "under_51", "meat_fish"):
        if candidate in ids:
            return (candidate,)
    return (ids[0],)


class Mirror:
    """The check as the pure engine runs it, fed the same taps and typed words."""

    def __init__(self, check: CheckEngine) -> None:
        self.check = check
        self.state: State = check.start(time.time())
        self.why = False

    def reply(self) -> Reply:
        return self.check.render(self.state, show_why=self.why)

    def view(self) -> QuestionView | None:
        step = self.check.step(self.state)
        return step if isinstance(step, QuestionView) else None

    @property
    def active(self) -> bool:
        return self.state.status is Status.active

    def taps_for(self, ids: tuple[str, ...]) -> list[str]:
        """The button labels that give this answer to the current question."""
        view = self.view()
        assert view is not None
        mark = self.check.ui.selected_mark
        chosen = [
            (mark if o.selected else "") + o.option.label
            for o in view.options
            if o.option.id in ids
        ]
        if view.question.choice == "multi":
            chosen.append(self.check.ui.button_done)
        return chosen

    def tap(self, label: str) -> None:
        button = next(b for b in self.reply().buttons if b.label == label)
        step = self.check.handle_action(self.state, button.action, time.time())
        assert step.state is not None
        self.state, self.why = step.state, label == self.check.ui.button_why

    def type(self, text: str) -> None:
        step = self.check.handle_text(self.state, text, time.time())
        assert step is not None, text
        assert step.state is not None
        self.state, self.why = step.state, False


class Person:
    """A Telegram user of the fake server, waiting after each action until the bot is done."""

    def __init__(self, fake: FakeTelegram, user_id: int) -> None:
        self.fake = fake
        self.id = user_id
        self.user = fake.user(user_id)

    def edits(self) -> int:
        return len(self.fake.calls_to("editMessageText", ok=None))

    def message(self, message_id: int) -> dict[str, Any]:
        return self.fake.messages[(self.id, message_id)]

    async def say(self, text: str, expect_messages: int | None = None) -> list[dict]:
        """Type `text`; wait for the bot to have sent `expect_messages` in all."""
        await self.fake.send_text(self.user, text)
        count = expect_messages if expect_messages is not None else len(self.sent()) + 1
        return await self.fake.wait_sent(self.id, count)

    async def type_answer(self, text: str) -> None:
        """Type an answer to the check: the check message is edited."""
        before = self.edits()
        await self.fake.send_text(self.user, text)
        await self.fake.wait_for(lambda: self.edits() > before, f"an edit after {text!r}")

    async def tap(self, message_id: int, label: str) -> str:
        """Tap a button of a message and wait until the press is answered and shown."""
        before = self.edits()
        query = await self.press(message_id, data_of(self.message(message_id), label))
        await self.fake.wait_for(lambda: self.edits() > before, f"an edit after {label!r}")
        return query

    async def press(self, message_id: int, data: str | None) -> str:
        """Send a press (even of data the message no longer shows) and wait for its answer."""
        query = await self.fake.press(self.user, self.message(message_id), data)
        await self.fake.wait_answered(query)
        return query

    def sent(self) -> list[dict]:
        return self.fake.sent(self.id)

    def toast(self, query_id: str) -> str | None:
        calls = self.fake.calls_to("answerCallbackQuery")
        found = [c for c in calls if c.params.get("callback_query_id") == query_id]
        return found[-1].params.get("text") if found else None


async def answer_all(person: Person, mirror: Mirror, message_id: int, profile: dict) -> None:
    """Tap through the rest of the check, checking every edit against the mirror."""
    while mirror.active:
        view = mirror.view()
        assert view is not None
        for label in mirror.taps_for(choose(view, profile)):
            await person.tap(message_id, label)
            mirror.tap(label)
            shown = person.message(message_id)
            expected = mirror.reply()
            assert shown["html"] == expected.text
            assert labels(shown) == [b.label for b in expected.buttons]


def stored(bot: RunningBot, user_id: int) -> tuple[State, int | None]:
    """The check's state and message id as the database holds them right now."""
    [(raw, message_id)] = bot.rows(
        "SELECT state, message_id FROM check_sessions WHERE user_id = ?", (user_id,)
    )
    state = State.from_json(raw)
    assert state is not None
    return state, message_id


def stored_message(bot: RunningBot, user_id: int) -> int | None:
    """The check's message id, or None while no check is stored (on PostgreSQL an update's
    state commits when its handlers are done, just after its reply was sent)."""
    rows = bot.rows("SELECT message_id FROM check_sessions WHERE user_id = ?", (user_id,))
    return rows[0][0] if rows else None


def answered(state: State) -> list[tuple[str, tuple[str, ...]]]:
    return [(a.q, a.o) for a in state.answers]
