"""Hostile input as real updates: the bad-input corpus and malformed updates through the fake
Bot API server and the real bot (python-telegram-bot's own parsing and dispatch included).

tests/test_bad_input.py proves the engine never fails on this corpus; this proves the whole
bot does — every update gets its one reply, Telegram accepts every reply, and the bot is
still up and answering normally afterwards. Malformed updates (no message, no sender,
channel posts, edits, unknown types, forged callback data) must not crash it either.
"""

from __future__ import annotations

import time
from typing import Any

from botharness import RunningBot
from corpus import corpus

from bot.core.engine import Engine
from bot.telegram import texts

HOSTILE_USERS = 1_000
FIRST_USER = 300_000


async def assert_answers_normally(bot: RunningBot, engine: Engine, user_id: int) -> None:
    """The bot is still running and a fresh user gets the normal /privacy answer."""
    assert not bot.task.done()
    user = bot.fake.user(user_id)
    await bot.fake.send_text(user, "/privacy")
    [reply] = await bot.fake.wait_sent(user_id, 1, patience=60)
    assert reply["html"] == engine.message(texts.PRIVACY)


async def test_a_thousand_corpus_messages_each_get_one_reply(
    bot: RunningBot, engine: Engine
) -> None:
    # Every tenth message spreads the sample over all the corpus' kinds; one user per message
    # keeps every sender far below the flood limit and maps each update to its reply.
    messages = corpus()[::10]
    assert len(messages) == HOSTILE_USERS
    fake = bot.fake
    chats = range(FIRST_USER, FIRST_USER + HOSTILE_USERS)
    for chat_id, text in zip(chats, messages, strict=True):
        await fake.send_text(fake.user(chat_id), text)

    def replied() -> set[int]:
        return {m["chat"]["id"] for m in fake.sent()}

    await fake.wait_for(
        lambda: len(replied() & set(chats)) == HOSTILE_USERS, "a reply to every message", 300
    )
    await assert_answers_normally(bot, engine, FIRST_USER + HOSTILE_USERS)
    per_chat: dict[int, int] = {}
    for message in fake.sent():
        per_chat[message["chat"]["id"]] = per_chat.get(message["chat"]["id"], 0) + 1
    assert all(per_chat[chat_id] == 1 for chat_id in chats), "an update got more than one reply"
    assert not fake.calls_to("sendMessage", ok=False)  # Telegram refused no reply
    assert fake.confirmed_offset > fake.last_update_id  # and every update was consumed


async def test_malformed_updates_do_not_crash_the_bot(bot: RunningBot, engine: Engine) -> None:
    fake = bot.fake
    ann, bob = fake.user(310_001), fake.user(310_002, "Bob")

    await fake.enqueue({})  # no payload at all

    no_sender = fake.text_message(ann, "does magnesium help night cramps")
    del no_sender["from"]
    await fake.enqueue({"message": no_sender})

    channel: dict[str, Any] = {"id": -1001234567890, "type": "channel", "title": "News"}
    fake.chats[channel["id"]] = channel  # so a reply there would not 400
    post = {"message_id": 1, "date": int(time.time()), "chat": channel, "text": "b12 cramps?"}
    await fake.enqueue({"channel_post": post})
    await fake.enqueue({"edited_channel_post": {**post, "edit_date": int(time.time())}})

    # Unknown to PTB. (A *known* key holding a broken object, e.g. a message without "date",
    # would make PTB 22.8 fail on the whole getUpdates batch forever; test_tg_bad_updates.py
    # shows bot/telegram/updates.py skipping it instead.)
    last = await fake.enqueue({"future_update_kind": {"id": 1, "whatever": ["x"]}})
    await fake.wait_confirmed(last, patience=60)

    # An edit of a message already answered: no crash (the bot may or may not answer it).
    await fake.send_text(bob, "/start")
    [bobs_menu] = await fake.wait_sent(bob["id"], 1)
    original = await fake.send_text(bob, "why do I get cramps")
    await fake.wait_sent(bob["id"], 2)
    await fake.send_edit(original, "'; DROP TABLE users; -- <b>")

    # Forged callback data: garbage, over Telegram's 64 bytes, or on another user's message.
    await fake.send_text(ann, "/start")
    [anns_menu] = await fake.wait_sent(ann["id"], 1)
    stale = engine.message(texts.BUTTON_STALE)
    for count, data in enumerate(["\x00\u202e💥garbage", "i:" + "x" * 100, "n:" + "9" * 80], 2):
        query = await fake.press(ann, anns_menu, data)
        await fake.wait_answered(query)
        [*_, reply] = await fake.wait_sent(ann["id"], count)
        assert reply["html"] == stale, data
    foreign = bobs_menu["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    query = await fake.press(ann, bobs_menu, foreign)  # Ann presses a button in Bob's chat
    await fake.wait_answered(query)

    await assert_answers_normally(bot, engine, 310_003)
    assert not fake.calls_to("sendMessage", ok=False)
    assert bot.rows("PRAGMA integrity_check") == [("ok",)]
