"""End to end, polling: a user talks to the real bot through the fake Bot API server.

Every expected reply is computed from the same engine the bot loads, so these tests check
the Telegram window (rendering, buttons, storage, validation), not the matcher's wording.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from botharness import ADMIN_ID, BOTH_BACKENDS, FALLBACK_WITH_SUGGESTIONS, RunningBot

from bot.core.check import CheckEngine
from bot.core.engine import Engine
from bot.core.reply import Reply, ReplyKind
from bot.telegram import texts
from bot.telegram.handlers import INTENT_COMMANDS

pytestmark = BOTH_BACKENDS


def keyboard(message: dict) -> list[tuple[str, str]]:
    """(label, callback data) of every button, row by row."""
    rows = message.get("reply_markup", {}).get("inline_keyboard", [])
    return [(button["text"], button["callback_data"]) for row in rows for button in row]


def pick(engine: Engine, candidates: list[str], wanted: Callable[[Reply], bool]) -> str:
    """The first candidate message the engine answers the way a scenario needs."""
    for text in candidates:
        if wanted(engine.ask(text)):
            return text
    raise AssertionError(f"no candidate gives the reply this scenario needs: {candidates}")


FALLBACK_WITHOUT_SUGGESTIONS = [
    "asdkjh qwpoeiru zmxncb",
    "bitcoin price",
    "how do I fix my car",
    "zzzz qqqq xxxx",
]


def has_suggestions(reply: Reply) -> bool:
    """A did-you-mean whose first button is an answer (the check's button starts the check)."""
    return (
        reply.kind is ReplyKind.fallback
        and bool(reply.suggestions)
        and reply.suggestions[0] != "start_check"
    )


def no_suggestions(reply: Reply) -> bool:
    return reply.kind is ReplyKind.fallback and not reply.suggestions


async def test_start_shows_welcome_disclaimer_and_menu(bot: RunningBot, engine: Engine) -> None:
    fake = bot.fake
    ann = fake.user(1001)
    await fake.send_text(ann, "/start")
    [welcome] = await fake.wait_sent(1001, 1)
    assert engine.message(texts.WELCOME) in welcome["html"]
    assert engine.message(texts.DISCLAIMER) in welcome["html"]
    assert keyboard(welcome) == [
        (engine.message(label), action) for label, action in texts.MAIN_MENU
    ]
    assert [label for label, _ in keyboard(welcome)] == [
        "Check my cramps",
        "B12 foods",
        "Other causes",
        "Remedies",
        "Blood tests",
        "About",
    ]


async def test_commands_are_registered_at_startup(bot: RunningBot, engine: Engine) -> None:
    registered = bot.fake.commands["default"]
    assert [c["command"] for c in registered] == list(texts.PUBLIC_COMMANDS)
    assert all(c["description"] == engine.message(f"tg_cmd_{c['command']}") for c in registered)
    assert "stats" not in [c["command"] for c in registered]


def first_question(check: CheckEngine) -> Reply:
    """What "start the check" shows (the callback data name the check, so compare labels)."""
    return check.render(check.start(0.0))


async def test_each_menu_button_answers_its_topic(
    bot: RunningBot, engine: Engine, check: CheckEngine
) -> None:
    fake = bot.fake
    ann = fake.user(1002)
    await fake.send_text(ann, "/start")
    [menu] = await fake.wait_sent(1002, 1)
    for n, (_, action) in enumerate(keyboard(menu), start=2):
        query = await fake.press(ann, menu, action)
        sent = await fake.wait_sent(1002, n)
        await fake.wait_answered(query)
        expected = engine.act(action)
        assert expected is not None
        if expected.kind is ReplyKind.start_check:  # "Check my cramps" starts the check
            expected = first_question(check)
        assert sent[-1]["html"] == expected.text
        assert [b for b, _ in keyboard(sent[-1])] == [b.label for b in expected.buttons]


async def test_free_text_question_gets_the_engine_answer_with_buttons(
    bot: RunningBot, engine: Engine
) -> None:
    fake = bot.fake
    question = "why do I get cramps at night"
    expected = engine.ask(question)
    assert expected.kind is ReplyKind.answer
    await fake.send_text(fake.user(1003), question)
    [reply] = await fake.wait_sent(1003, 1)
    assert reply["html"] == expected.text
    assert keyboard(reply) == [(b.label, b.action) for b in expected.buttons]
    call = fake.calls_to("sendMessage")[-1]
    assert call.params["parse_mode"] == "HTML"


async def test_misspelt_question_is_answered_like_the_engine_does(
    bot: RunningBot, engine: Engine
) -> None:
    fake = bot.fake
    misspelt = pick(
        engine,
        ["wich fodds hav vitamn b12", "what causes musle crmaps", "can low b12 cuase cramps"],
        lambda r: r.kind is ReplyKind.answer,
    )
    await fake.send_text(fake.user(1004), misspelt)
    [reply] = await fake.wait_sent(1004, 1)
    assert reply["html"] == engine.ask(misspelt).text


async def test_fallback_then_pressing_a_suggestion(bot: RunningBot, engine: Engine) -> None:
    fake = bot.fake
    ann = fake.user(1005)
    text = pick(engine, FALLBACK_WITH_SUGGESTIONS, has_suggestions)
    expected = engine.ask(text)
    await fake.send_text(ann, text)
    [fallback] = await fake.wait_sent(1005, 1)
    assert fallback["html"] == expected.text
    buttons = keyboard(fallback)
    suggested = [data for _, data in buttons if data.startswith("i:")]
    assert suggested == [f"i:{s}" for s in expected.suggestions]
    assert buttons[-1][0] == engine.message("none_of_these")
    assert buttons[-1][1].startswith("n:")

    query = await fake.press(ann, fallback, suggested[0])
    sent = await fake.wait_sent(1005, 2)
    await fake.wait_answered(query)
    answer = engine.act(suggested[0])
    assert answer is not None
    assert sent[-1]["html"] == answer.text
    assert bot.rows("SELECT COUNT(*) FROM unanswered_questions") == [(0,)]


async def test_none_of_these_records_the_question_once(bot: RunningBot, engine: Engine) -> None:
    fake = bot.fake
    ann = fake.user(1006)
    text = pick(engine, FALLBACK_WITH_SUGGESTIONS, has_suggestions)
    await fake.send_text(ann, text)
    [fallback] = await fake.wait_sent(1006, 1)
    none_data = keyboard(fallback)[-1][1]

    query = await fake.press(ann, fallback, none_data)
    sent = await fake.wait_sent(1006, 2)
    await fake.wait_answered(query)
    assert sent[-1]["html"] == engine.message(texts.NONE_RECORDED)
    rows = bot.rows("SELECT user_id, text, best_score FROM unanswered_questions")
    assert [(r[0], r[1]) for r in rows] == [(1006, text)]
    assert rows[0][2] == pytest.approx(engine.ask(text).score)
    # The buttons are taken off the fallback message…
    assert "reply_markup" not in fake.messages[(1006, fallback["message_id"])]
    # …and an old client pressing it again is told politely; nothing is recorded twice.
    again = await fake.press(ann, fallback, none_data)
    sent = await fake.wait_sent(1006, 3)
    await fake.wait_answered(again)
    assert sent[-1]["html"] == engine.message(texts.BUTTON_STALE)
    assert len(bot.rows("SELECT * FROM unanswered_questions")) == 1


async def test_fallback_with_nothing_to_suggest_is_recorded_at_once(
    bot: RunningBot, engine: Engine
) -> None:
    fake = bot.fake
    text = pick(engine, FALLBACK_WITHOUT_SUGGESTIONS, no_suggestions)
    await fake.send_text(fake.user(1007), text)
    [reply] = await fake.wait_sent(1007, 1)
    assert reply["html"] == engine.ask(text).text
    assert bot.rows("SELECT user_id, text FROM unanswered_questions") == [(1007, text)]


@pytest.mark.parametrize("kind", ["sticker", "photo", "voice", "document", "location"])
async def test_non_text_messages_get_a_friendly_reply(
    bot: RunningBot, engine: Engine, kind: str
) -> None:
    fake = bot.fake
    await fake.send_other(fake.user(1008), kind)
    [reply] = await fake.wait_sent(1008, 1)
    assert reply["html"] == engine.message(texts.TEXT_ONLY)


async def test_a_flood_gets_one_slow_down_then_silence(bot: RunningBot, engine: Engine) -> None:
    fake = bot.fake
    ann = fake.user(1009)
    limit = bot.service.application.bot_data["b12_deps"].flood.limit  # type: ignore[union-attr]
    for n in range(limit + 5):
        last = await fake.send_text(ann, f"why do I get cramps at night {n}")
    # Barrier: a press after the burst is acknowledged (silently) only once every message
    # before it in this chat has been processed — updates of a chat run strictly in order.
    query = await fake.press(ann, last, "i:help")
    await fake.wait_answered(query)
    sent = fake.sent(1009)
    slow = [m for m in sent if m["html"] == engine.message(texts.SLOW_DOWN)]
    assert len(slow) == 1
    assert len(sent) == limit + 1
    assert sent[-1]["html"] == engine.message(texts.SLOW_DOWN)


@pytest.mark.parametrize(
    "data",
    [
        "i:no_such_intent",
        "f:no_such_food",
        "n:999999",
        "n:0",
        "n:abc",
        "q:1:2",
        "DROP TABLE users",
        "x" * 64,
        "é" * 40,
        None,
    ],
)
async def test_forged_or_stale_callbacks_get_a_polite_reply(
    bot: RunningBot, engine: Engine, check: CheckEngine, data: str | None
) -> None:
    fake = bot.fake
    ann = fake.user(1010)
    await fake.send_text(ann, "/start")
    [menu] = await fake.wait_sent(1010, 1)
    query = await fake.press(ann, menu, data)
    sent = await fake.wait_sent(1010, 2)
    await fake.wait_answered(query)
    if data is not None and data.startswith("q:"):  # the check's: there is no check running
        assert sent[-1]["html"] == check.ui.ended
    else:
        assert sent[-1]["html"] == engine.message(texts.BUTTON_STALE)
    # …and the bot is still fine.
    await fake.send_text(ann, "/privacy")
    sent = await fake.wait_sent(1010, 3)
    assert sent[-1]["html"] == engine.message(texts.PRIVACY)
    assert not fake.calls_to("sendMessage", ok=False)


async def test_a_none_of_these_id_from_another_chat_is_refused(
    bot: RunningBot, engine: Engine
) -> None:
    fake = bot.fake
    ann, bob = fake.user(1011), fake.user(1012, "Bob")
    text = pick(engine, FALLBACK_WITH_SUGGESTIONS, has_suggestions)
    await fake.send_text(ann, text)
    [fallback] = await fake.wait_sent(1011, 1)
    none_data = keyboard(fallback)[-1][1]
    await fake.send_text(bob, "/start")
    [bobs_menu] = await fake.wait_sent(1012, 1)
    query = await fake.press(bob, bobs_menu, none_data)  # Bob forges Ann's id
    sent = await fake.wait_sent(1012, 2)
    await fake.wait_answered(query)
    assert sent[-1]["html"] == engine.message(texts.BUTTON_STALE)
    assert bot.rows("SELECT COUNT(*) FROM unanswered_questions") == [(0,)]


async def test_forget_deletes_everything_about_the_user(bot: RunningBot, engine: Engine) -> None:
    fake = bot.fake
    ann, bob = fake.user(1013), fake.user(1014, "Bob")
    text = pick(engine, FALLBACK_WITH_SUGGESTIONS, has_suggestions)
    gone = pick(engine, FALLBACK_WITHOUT_SUGGESTIONS, no_suggestions)
    await fake.send_text(ann, text)
    await fake.send_text(ann, gone)
    await fake.send_text(bob, gone)
    await fake.wait_sent(1013, 2)
    await fake.wait_sent(1014, 1)
    assert bot.rows("SELECT COUNT(*) FROM message_log WHERE user_id = 1013") == [(2,)]

    await fake.send_text(ann, "/forget")
    sent = await fake.wait_sent(1013, 3)
    assert sent[-1]["html"] == engine.message(texts.FORGET_DONE)
    for table in ("users", "message_log", "unanswered_questions", "pending_questions"):
        assert bot.rows(f"SELECT COUNT(*) FROM {table} WHERE user_id = 1013") == [(0,)], table  # noqa: S608
    # Other users are untouched.
    assert bot.rows("SELECT COUNT(*) FROM users WHERE user_id = 1014") == [(1,)]
    assert bot.rows("SELECT COUNT(*) FROM unanswered_questions WHERE user_id = 1014") == [(1,)]


@pytest.mark.parametrize("command", sorted(INTENT_COMMANDS))
async def test_topic_commands_answer_from_the_engine(
    bot: RunningBot, engine: Engine, check: CheckEngine, command: str
) -> None:
    fake = bot.fake
    await fake.send_text(fake.user(1015), f"/{command}")
    [reply] = await fake.wait_sent(1015, 1)
    expected = engine.act(INTENT_COMMANDS[command])
    assert expected is not None
    if expected.kind is ReplyKind.start_check:  # /check starts the check
        expected = first_question(check)
    assert reply["html"].startswith(expected.text)
    if command == "help":
        assert reply["html"].endswith(engine.message(texts.HELP_COMMANDS))


@pytest.mark.parametrize(
    ("command", "key"),
    [
        ("/privacy", texts.PRIVACY),
        ("/cancel", texts.CANCEL_NOTHING),
        ("/nonsense", texts.UNKNOWN_COMMAND),
        ("/stats", texts.UNKNOWN_COMMAND),  # not an admin
    ],
)
async def test_plain_text_commands(bot: RunningBot, engine: Engine, command: str, key: str) -> None:
    fake = bot.fake
    await fake.send_text(fake.user(1016), command)
    [reply] = await fake.wait_sent(1016, 1)
    assert reply["html"] == engine.message(key)


async def test_cancel_ends_a_stored_check(
    bot: RunningBot, engine: Engine, check: CheckEngine
) -> None:
    fake = bot.fake
    assert bot.service.storage is not None
    running = check.start(time.time())
    await bot.service.storage.save_session(1017, 1017, running.to_dict(), None)
    await fake.send_text(fake.user(1017), "/cancel")
    [reply] = await fake.wait_sent(1017, 1)
    assert reply["html"] == engine.message(texts.CANCEL_DONE)
    [(state,)] = bot.rows("SELECT state FROM check_sessions")
    assert '"status":"stopped"' in state.replace(" ", "")
    # A stored state this content cannot continue is dropped: nothing to cancel.
    await bot.service.storage.save_session(1017, 1017, {"step": 3}, None)
    await fake.send_text(fake.user(1017), "/cancel")
    sent = await fake.wait_sent(1017, 2)
    assert sent[-1]["html"] == engine.message(texts.CANCEL_NOTHING)
    assert bot.rows("SELECT COUNT(*) FROM check_sessions") == [(0,)]


async def test_stats_for_admins(bot: RunningBot, engine: Engine) -> None:
    fake = bot.fake
    ann, admin = fake.user(1018), fake.user(ADMIN_ID, "Admin")
    answered = "why do I get cramps at night"
    unanswered = pick(engine, FALLBACK_WITHOUT_SUGGESTIONS, no_suggestions)
    for text in (answered, unanswered, unanswered):
        await fake.send_text(ann, text)
    await fake.wait_sent(1018, 3)
    await fake.send_text(admin, "/stats")
    [stats] = await fake.wait_sent(ADMIN_ID, 1)
    shown = stats["text"]
    assert "Users: 2" in shown
    assert "Messages today: 4" in shown
    assert "33% (1 of 3)" in shown
    assert f"1. {unanswered} ×2" in shown


async def test_edited_messages_are_not_answered_again(bot: RunningBot, engine: Engine) -> None:
    fake = bot.fake
    ann = fake.user(1019)
    original = await fake.send_text(ann, "why do I get cramps at night")
    await fake.wait_sent(1019, 1)
    await fake.send_edit(original, "does salmon have b12")
    await fake.send_text(ann, "/privacy")  # barrier: same chat, processed after the edit
    sent = await fake.wait_sent(1019, 2)
    assert [m["html"] for m in sent] == [
        engine.ask("why do I get cramps at night").text,
        engine.message(texts.PRIVACY),
    ]


async def test_updates_of_one_chat_are_answered_in_order(bot: RunningBot, engine: Engine) -> None:
    fake = bot.fake
    questions = [
        "why do I get cramps at night",
        "does salmon have b12",
        "/privacy",
        "how much magnesium should I take for cramps",
        "is b12 safe",
        "/about",
    ] * 2
    ann, bob = fake.user(1020), fake.user(1021, "Bob")
    for text in questions:
        await fake.send_text(ann, text)
        await fake.send_text(bob, text)
    for user_id in (1020, 1021):
        sent = await fake.wait_sent(user_id, len(questions))
        firsts = [m["html"][:80] for m in sent]
        expected = []
        for text in questions:
            if text == "/privacy":
                expected.append(engine.message(texts.PRIVACY)[:80])
            elif text == "/about":
                reply = engine.act("i:about")
                assert reply is not None
                expected.append(reply.text[:80])
            else:
                expected.append(engine.ask(text).text[:80])
        assert firsts == expected


async def test_group_chats_answer_only_what_is_addressed_to_the_bot(
    bot: RunningBot, engine: Engine
) -> None:
    fake = bot.fake
    group = fake.group_chat(-100500)
    ann, bob = fake.user(1022), fake.user(1023, "Bob")
    question = "why do I get cramps at night"
    await fake.send_text(ann, question, chat=group)  # not addressed: ignored
    await fake.send_text(ann, "/help@OtherBot", chat=group)  # another bot's command
    await fake.send_text(ann, "/weather", chat=group)  # a bare command that is not ours
    await fake.send_text(bob, "hello @SomeoneElse", chat=group)
    await fake.send_other(ann, "sticker", chat=group)
    mention = await fake.send_text(ann, f"@{fake.bot['username']} {question}", chat=group)
    [answer] = await fake.wait_sent(group["id"], 1)
    assert answer["html"] == engine.ask(question).text
    assert answer["reply_to_message"]["message_id"] == mention["message_id"]

    await fake.send_text(bob, "does salmon have b12", chat=group, reply_to=answer)
    await fake.send_text(bob, f"/privacy@{fake.bot['username']}", chat=group)
    await fake.send_text(bob, "/privacy", chat=group)
    sent = await fake.wait_sent(group["id"], 4)
    assert [m["html"] for m in sent[1:]] == [
        engine.ask("does salmon have b12").text,
        engine.message(texts.PRIVACY),
        engine.message(texts.PRIVACY),
    ]
    assert len(fake.sent(group["id"])) == 4
    # People who only chatted among themselves are not recorded.
    assert bot.rows("SELECT user_id FROM users ORDER BY user_id") == [(1022,), (1023,)]
