"""End to end, polling: the personal tools (issue 6) through the fake Bot API server.

Lab results with and without a unit, a day's B12 with a remembered life stage, the food-group
browser and inline mode. Expected texts come from the engine the bot loads, so these tests
check the Telegram window: buttons, storage, /forget and the inline answers.
"""

from __future__ import annotations

from typing import Any

from botharness import BOTH_BACKENDS, RunningBot

from bot.core.engine import Engine
from bot.telegram import texts
from bot.telegram.deps import Deps
from bot.telegram.handlers import INLINE_CACHE_SECONDS

pytestmark = BOTH_BACKENDS

USERNAME = "B12TestBot"  # fake_telegram.BOT_USER


def keyboard(message: dict[str, Any]) -> list[tuple[str, str]]:
    rows = message.get("reply_markup", {}).get("inline_keyboard", [])
    return [(button["text"], button["callback_data"]) for row in rows for button in row]


def actions(message: dict[str, Any], prefix: str) -> list[str]:
    return [data for _, data in keyboard(message) if data.startswith(prefix)]


async def test_a_lab_value_with_its_unit_is_explained(bot: RunningBot, engine: Engine) -> None:
    fake = bot.fake
    text = "my b12 came back 180 pg/ml"
    expected = engine.ask(text)
    assert expected.intent == "lab_result"
    await fake.send_text(fake.user(2001), text)
    [reply] = await fake.wait_sent(2001, 1)
    assert reply["html"].startswith(expected.text)
    assert bot.rows("SELECT kind, intent FROM message_log WHERE user_id = 2001") == [
        ("answer", "lab_result")
    ]


async def test_a_lab_value_without_unit_asks_and_a_unit_button_answers(
    bot: RunningBot, engine: Engine
) -> None:
    fake = bot.fake
    ann = fake.user(2002)
    await fake.send_text(ann, "my b12 came back 180")
    [question] = await fake.wait_sent(2002, 1)
    units = actions(question, "lab:")
    assert len(units) >= 2  # pg/mL and pmol/L at least
    query = await fake.press(ann, question, units[0])
    [_, answer] = await fake.wait_sent(2002, 2)
    await fake.wait_answered(query)
    expected = engine.act(units[0])
    assert expected is not None and expected.intent == "lab_result"
    assert answer["html"].startswith(expected.text)
    assert answer["html"] != question["html"]


async def test_intake_remembers_the_life_stage_until_forget(
    bot: RunningBot, engine: Engine
) -> None:
    fake = bot.fake
    ann = fake.user(2003)
    meal, later = "3 oz salmon, yogurt", "today I had 2 eggs and a glass of milk"
    first = engine.count_intake(meal)
    pregnant = engine.count_intake(meal, "pregnancy")
    assert first is not None and pregnant is not None and first.text != pregnant.text
    assert engine.ask(later, "pregnancy").text != engine.ask(later).text  # the stage matters

    await fake.send_text(ann, f"/intake {meal}")
    [counted] = await fake.wait_sent(2003, 1)
    assert counted["html"].startswith(first.text)
    assert "ls:pregnancy" in actions(counted, "ls:")

    query = await fake.press(ann, counted, "ls:pregnancy")
    [*_, recounted] = await fake.wait_sent(2003, 2)
    await fake.wait_answered(query)
    assert recounted["html"].startswith(pregnant.text)  # the last meal, counted again
    assert bot.rows("SELECT life_stage FROM user_profiles WHERE user_id = 2003") == [("pregnancy",)]

    await fake.send_text(ann, later)  # a free-text meal uses the stored stage
    [*_, reply] = await fake.wait_sent(2003, 3)
    assert reply["html"].startswith(engine.ask(later, "pregnancy").text)
    assert bot.rows("SELECT text FROM last_meals WHERE user_id = 2003") == [(later,)]

    await fake.send_text(ann, "/forget")
    [*_, done] = await fake.wait_sent(2003, 4)
    assert done["html"] == engine.message(texts.FORGET_DONE)
    for table in ("user_profiles", "last_meals"):
        assert bot.rows(f"SELECT COUNT(*) FROM {table} WHERE user_id = 2003") == [(0,)], table  # noqa: S608

    await fake.send_text(ann, later)
    [*_, again] = await fake.wait_sent(2003, 5)
    assert again["html"].startswith(engine.ask(later).text)  # the stage is asked again
    assert actions(again, "ls:")


async def test_a_life_stage_without_a_recent_meal_is_confirmed(
    bot: RunningBot, engine: Engine
) -> None:
    fake = bot.fake
    ann = fake.user(2004)
    await fake.send_text(ann, "/intake")
    [usage] = await fake.wait_sent(2004, 1)
    assert usage["html"] == engine.message(texts.INTAKE_USAGE)
    await fake.press(ann, usage, "ls:breastfeeding")  # e.g. an old message's button
    [_, saved] = await fake.wait_sent(2004, 2)
    assert saved["html"] == engine.message(texts.LIFE_STAGE_SAVED, stage="breastfeeding")
    assert bot.rows("SELECT life_stage FROM user_profiles WHERE user_id = 2004") == [
        ("breastfeeding",)
    ]
    await fake.press(ann, usage, "ls:astronaut")  # not a stage of this content
    [*_, stale] = await fake.wait_sent(2004, 3)
    assert stale["html"] == engine.message(texts.BUTTON_STALE)


async def test_foods_browses_a_group_and_its_foods(bot: RunningBot, engine: Engine) -> None:
    fake = bot.fake
    ann = fake.user(2005)
    menu = engine.act("fg:menu")
    assert menu is not None
    await fake.send_text(ann, "/foods")
    [shown] = await fake.wait_sent(2005, 1)
    assert shown["html"].startswith(menu.text)
    groups = actions(shown, "fg:")
    assert groups == [b.action for b in menu.buttons]
    await fake.press(ann, shown, groups[0])
    [_, group] = await fake.wait_sent(2005, 2)
    expected = engine.act(groups[0])
    assert expected is not None
    assert group["html"].startswith(expected.text)
    foods = actions(group, "f:")
    assert foods and "fg:menu" in actions(group, "fg:")
    await fake.press(ann, group, foods[0])
    [*_, food] = await fake.wait_sent(2005, 3)
    food_reply = engine.act(foods[0])
    assert food_reply is not None and food["html"].startswith(food_reply.text)


# -- inline mode ------------------------------------------------------------------------------


def footer(engine: Engine) -> str:
    return engine.message(texts.INLINE_FOOTER, username=USERNAME)


def deps_of(bot: RunningBot) -> Deps:
    found = [v for v in bot.service.application.bot_data.values() if isinstance(v, Deps)]
    assert len(found) == 1
    return found[0]


async def test_inline_query_for_a_food(bot: RunningBot, engine: Engine) -> None:
    fake = bot.fake
    answer = await fake.wait_inline_answer(await fake.inline_query(fake.user(2006), "salmon"))
    results = answer["results"]
    assert 1 <= len(results) <= 10
    first = results[0]
    assert first["id"] == "f:salmon"
    assert first["title"] == engine.content.foods["salmon"].name
    text = first["input_message_content"]["message_text"]
    assert text.startswith(engine.act("f:salmon").text)  # type: ignore[union-attr]
    assert text.endswith(footer(engine))
    assert f"@{USERNAME}" in text
    assert answer["cache_time"] == INLINE_CACHE_SECONDS
    assert bot.rows("SELECT COUNT(*) FROM users WHERE user_id = 2006") == [(1,)]


async def test_inline_query_for_an_intent(bot: RunningBot, engine: Engine) -> None:
    fake = bot.fake
    answer = await fake.wait_inline_answer(await fake.inline_query(fake.user(2007), "magnesium"))
    results = answer["results"]
    assert results[0]["id"] == "i:remedy_magnesium"
    assert results[0]["title"] == engine.content.intents["remedy_magnesium"].button
    assert results[0]["description"]
    text = results[0]["input_message_content"]["message_text"]
    # an inline message has no More or Sources to press: the whole answer, with its sources
    assert text == f"{engine.act('i:remedy_magnesium').full}\n\n{footer(engine)}"  # type: ignore[union-attr]


async def test_an_empty_inline_query_shows_the_popular_topics(
    bot: RunningBot, engine: Engine
) -> None:
    fake = bot.fake
    answer = await fake.wait_inline_answer(await fake.inline_query(fake.user(2008), ""))
    popular = engine.message(texts.INLINE_POPULAR).split()
    assert [r["id"] for r in answer["results"]] == popular[:10]


async def test_inline_results_are_cached_per_query(bot: RunningBot) -> None:
    fake = bot.fake
    cache = deps_of(bot).inline_cache
    ann = fake.user(2009)
    first = await fake.wait_inline_answer(await fake.inline_query(ann, "salmon"))
    misses, hits = cache.misses, cache.hits
    again = await fake.wait_inline_answer(await fake.inline_query(ann, "  Salmon "))
    assert (cache.misses, cache.hits) == (misses, hits + 1)  # served from the LRU
    assert again["results"] == first["results"]
    other = await fake.wait_inline_answer(await fake.inline_query(ann, "magnesium"))
    assert cache.misses == misses + 1
    assert other["results"] != first["results"]
