"""Flood control never leaves a button spinning: every callback query is answered, a press
over the limit with a "slow down" toast, and taps on the check's own buttons are counted
apart from typed messages — against the bot's real limits, through the fake Bot API server."""

from __future__ import annotations

import asyncio
import time

from botharness import RunningBot
from checkharness import PROFILE, Mirror, Person, choose, labels, stored

from bot.core.check import CheckEngine, Status
from bot.core.engine import Engine
from bot.telegram import texts
from bot.telegram.deps import Deps
from bot.telegram.flood import FloodGuard

TAPS_PER_SECOND = 3


def deps_of(bot: RunningBot) -> Deps:
    assert bot.service.application is not None
    found = bot.service.application.bot_data["b12_deps"]
    assert isinstance(found, Deps)
    return found


async def started(bot: RunningBot, person: Person) -> int:
    """/check; the id of the check message once its state is stored."""
    [message] = await person.say("/check", 1)
    await bot.fake.wait_for(lambda: stored(bot, person.id)[1] == message["message_id"])
    return int(message["message_id"])


def whole_check(check: CheckEngine, token: str) -> tuple[list[str], Mirror]:
    """The callback data of every tap of a whole check (PROFILE), worked out on the pure
    engine for the bot's own check (its token), so the taps need not wait for each other."""
    mirror = Mirror(check)
    mirror.state = mirror.state.model_copy(update={"token": token})
    taps = []
    while (view := mirror.view()) is not None:
        for label in mirror.taps_for(choose(view, PROFILE)):
            taps.append(next(b.action for b in mirror.reply().buttons if b.label == label))
            mirror.tap(label)
    return taps, mirror


async def test_a_whole_check_tapped_at_three_taps_a_second_reaches_the_result(
    bot: RunningBot, check: CheckEngine
) -> None:
    guard = deps_of(bot).flood
    ann = Person(bot.fake, 5001)
    message_id = await started(bot, ann)
    taps, mirror = whole_check(check, stored(bot, 5001)[0].token)
    # More taps, and faster, than the limit for typed messages would let through.
    assert len(taps) > guard.limit and TAPS_PER_SECOND * guard.window > guard.limit
    queries = []
    begun = time.monotonic()
    for n, data in enumerate(taps):
        await asyncio.sleep(max(0.0, begun + n / TAPS_PER_SECOND - time.monotonic()))
        queries.append(await bot.fake.press(ann.user, ann.message(message_id), data))
    assert (time.monotonic() - begun) < len(taps) / TAPS_PER_SECOND + 1  # really 3 a second
    for query in queries:
        await bot.fake.wait_answered(query)
    slow = bot.fake.calls_to("answerCallbackQuery")
    assert not [c for c in slow if c.params.get("text")]  # not one toast: nothing was limited
    result = check.result(mirror.state).text
    await bot.fake.wait_for(lambda: ann.message(message_id)["html"] == result, "the result")
    state, _ = stored(bot, 5001)
    assert state.status is Status.finished and state.answers == mirror.state.answers
    assert len(ann.sent()) == 1  # and no "slow down" message either


async def test_taps_over_their_limit_get_a_toast_and_typed_messages_are_counted_apart(
    bot: RunningBot, engine: Engine, check: CheckEngine
) -> None:
    deps_of(bot).flood = FloodGuard(limit=4, tap_limit=6)
    ben = Person(bot.fake, 5002)
    message_id = await started(bot, ben)  # 1 of 4 messages
    why = next(b.action for b in check.render(stored(bot, 5002)[0]).buttons if "why" in b.action)
    queries = [await bot.fake.press(ben.user, ben.message(message_id), why) for _ in range(9)]
    for query in queries:
        await bot.fake.wait_answered(query)
    toast = engine.message(texts.SLOW_DOWN_TAP)
    assert [ben.toast(q) for q in queries[6:]] == [toast] * 3
    assert all(ben.toast(q) != toast for q in queries[:6])
    assert len(ben.sent()) == 1  # a toast, never a message, for taps
    # The taps did not use up the messages' allowance: a question is still answered.
    sent = await ben.say("does salmon have b12", 2)
    assert sent[-1]["html"].startswith(engine.ask("does salmon have b12").text)


async def test_a_press_while_messages_are_limited_is_answered_with_a_toast(
    bot: RunningBot, engine: Engine, check: CheckEngine
) -> None:
    deps_of(bot).flood = FloodGuard(limit=3)
    cat = Person(bot.fake, 5003)
    message_id = await started(bot, cat)
    for n in range(3):  # garbled answers: each asks again in the check message
        await bot.fake.send_text(cat.user, f"asdkjh qwpoeiru zmxncb {n}")
    menu = await cat.press(message_id, "i:help")  # not a check button: counted as a message
    assert cat.toast(menu) == engine.message(texts.SLOW_DOWN_TAP)
    slow = [m for m in cat.sent() if m["html"] == engine.message(texts.SLOW_DOWN)]
    assert len(slow) == 1
    # The check's own buttons are not silenced by the typed messages.
    await cat.tap(message_id, "No")
    assert "Question 2 of " in cat.message(message_id)["text"]
    assert labels(cat.message(message_id))


async def test_a_press_on_an_inline_message_is_answered(bot: RunningBot) -> None:
    """A card sent in inline mode has no chat: its press is answered all the same."""
    fake = bot.fake
    user = fake.user(5004)
    query_id = "cq-inline-1"
    callback = {"id": query_id, "from": user, "chat_instance": "ci", "inline_message_id": "im1"}
    await fake.enqueue({"callback_query": callback | {"data": "i:help"}})
    await fake.wait_answered(query_id)
