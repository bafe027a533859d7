"""End to end, polling: phone-sized answers — a summary first, More and Sources in place.

A question gets its summary with More and Sources ahead of the follow-up buttons; More edits
the same message to the whole answer and Sources adds its Source line, each keeping the other
buttons; a message Telegram will not edit any more gets the view as a new message; a forged or
outdated view gets a toast. Expected texts come from the engine the bot loads.
"""

from __future__ import annotations

from typing import Any

from botharness import RunningBot

from bot.core.check import CheckEngine
from bot.core.engine import Engine
from bot.telegram import texts

QUESTION = "why do i get leg cramps at night"
MORE, SOURCES, BOTH = "m:i:night_cramps", "s:i:night_cramps", "ms:i:night_cramps"


def keyboard(message: dict[str, Any]) -> list[tuple[str, str]]:
    rows = message.get("reply_markup", {}).get("inline_keyboard", [])
    return [(button["text"], button["callback_data"]) for row in rows for button in row]


async def ask(bot: RunningBot, user_id: int, text: str = QUESTION) -> dict[str, Any]:
    fake = bot.fake
    await fake.send_text(fake.user(user_id), text)
    [*_, first] = await fake.wait_sent(user_id, 1)
    return first


async def shows(bot: RunningBot, message: dict[str, Any], html: str) -> None:
    await bot.fake.wait_for(lambda: message["html"] == html, "the message edited in place")


async def test_more_then_sources_edit_the_answer_in_place(bot: RunningBot, engine: Engine) -> None:
    fake, ann = bot.fake, bot.fake.user(3101)
    reply = engine.ask(QUESTION)
    more, sources = engine.message("more_button"), engine.message("sources_button")
    first = await ask(bot, 3101)
    assert first["html"] == reply.text and "Source:" not in first["text"]
    related = [(b.label, b.action) for b in reply.buttons[2:]]
    assert keyboard(first) == [(more, MORE), (sources, SOURCES), *related]

    query = await fake.press(ann, first, MORE)
    await shows(bot, first, reply.more or "")
    await fake.wait_answered(query)
    assert keyboard(first) == [(sources, BOTH), *related]

    await fake.press(ann, first, BOTH)
    await shows(bot, first, reply.full)
    assert keyboard(first) == related
    assert len(fake.sent(3101)) == 1  # edited, never sent again
    assert not fake.calls_to("editMessageText", ok=False)


async def test_sources_adds_the_source_line_and_keeps_more(bot: RunningBot, engine: Engine) -> None:
    fake, ann = bot.fake, bot.fake.user(3102)
    reply = engine.ask(QUESTION)
    first = await ask(bot, 3102)
    await fake.press(ann, first, SOURCES)
    await shows(bot, first, f"{reply.text}\n\n{reply.sources}")
    assert "Source:" in first["text"]
    assert keyboard(first)[0] == (engine.message("more_button"), BOTH)
    assert keyboard(first)[1:] == [(b.label, b.action) for b in reply.buttons[2:]]


async def test_a_refused_edit_sends_the_view_as_a_new_message(
    bot: RunningBot, engine: Engine
) -> None:
    fake, ann = bot.fake, bot.fake.user(3103)
    reply = engine.ask(QUESTION)
    first = await ask(bot, 3103)
    fake.fail("editMessageText", 400, "Bad Request: message can't be edited", chat_id=3103)
    await fake.press(ann, first, MORE)
    [_, again] = await fake.wait_sent(3103, 2)
    assert again["html"] == reply.more
    assert keyboard(again)[0] == (engine.message("sources_button"), BOTH)
    assert first["html"] == reply.text  # the old message is left as it was
    assert len(fake.calls_to("editMessageText", ok=False)) == 1


async def test_a_forged_view_gets_a_toast(bot: RunningBot, engine: Engine) -> None:
    fake, ann = bot.fake, bot.fake.user(3104)
    first = await ask(bot, 3104)
    for data in ("m:i:no_such_intent", "m:in:0123456789", "s:lab:b12:200:umol"):
        query = await fake.press(ann, first, data)
        await fake.wait_answered(query)
        [call] = [
            c
            for c in fake.calls_to("answerCallbackQuery")
            if c.params["callback_query_id"] == query
        ]
        assert call.params.get("text") == engine.message(texts.VIEW_STALE), data
    assert len(fake.sent(3104)) == 1 and not fake.calls_to("editMessageText", ok=None)


async def test_more_of_a_meal_recounts_it_and_an_earlier_meal_gets_a_toast(
    bot: RunningBot, engine: Engine
) -> None:
    fake, ann = bot.fake, bot.fake.user(3105)
    meal = "today I had 2 eggs and a glass of milk"
    reply = engine.ask(meal)
    first = await ask(bot, 3105, meal)
    assert first["html"] == reply.text and len(reply.text) <= 400
    more = keyboard(first)[0][1]
    assert more.startswith("m:in:")
    await fake.press(ann, first, more)
    await shows(bot, first, reply.more or "")

    await ask(bot, 3105, "/intake 3 oz salmon")  # the last meal is another one now
    [_, later] = await fake.wait_sent(3105, 2)
    query = await fake.press(ann, later, more.replace("m:", "s:"))
    await fake.wait_answered(query)
    [call] = [
        c for c in fake.calls_to("answerCallbackQuery") if c.params["callback_query_id"] == query
    ]
    assert call.params.get("text") == engine.message(texts.VIEW_STALE)


async def test_more_keeps_the_continue_button_of_a_question_mid_check(
    bot: RunningBot, engine: Engine, check: CheckEngine
) -> None:
    fake, ann = bot.fake, bot.fake.user(3106)
    await fake.send_text(ann, "/check")
    await fake.wait_sent(3106, 1)
    await fake.send_text(ann, QUESTION)
    [*_, answer] = await fake.wait_sent(3106, 2)
    [cont] = [data for _, data in keyboard(answer) if data.startswith("q:")]
    assert keyboard(answer)[0][1] == MORE
    await fake.press(ann, answer, MORE)
    await shows(bot, answer, engine.ask(QUESTION).more or "")
    assert keyboard(answer)[-1][1] == cont  # still there, after the answer's own buttons


async def test_help_sends_the_whole_answer_and_the_commands(
    bot: RunningBot, engine: Engine
) -> None:
    await bot.fake.send_text(bot.fake.user(3107), "/help")
    [reply] = await bot.fake.wait_sent(3107, 1)
    expected = engine.act("i:help")
    assert expected is not None and expected.more is not None
    assert reply["html"] == f"{expected.full}\n\n{engine.message(texts.HELP_COMMANDS)}"
    assert not [data for _, data in keyboard(reply) if data.startswith(("m:", "s:"))]
