"""SQL injection strings through every path that writes user text to SQLite.

All SQL in bot/storage uses parameters; this proves it end to end, through the fake Bot API
server and the real bot, rather than by reading the code: free-text messages (logged,
possibly kept as unanswered or pending questions), /intake meals (kept for re-counting),
"None of these" presses (move a pending question to unanswered_questions) and the user's
language code (kept in users). Afterwards the schema must be exactly what it was, the database
must pass SQLite's integrity check, row counts must match what the users did, and every
stored text must be the injection string byte for byte — not escaped, not truncated.
"""

from __future__ import annotations

import asyncio
from typing import Any

from botharness import BOTH_BACKENDS, FALLBACK_WITH_SUGGESTIONS, RunningBot

from bot.core.engine import Engine
from bot.core.reply import ReplyKind
from bot.core.turn import ChatState, Text, Turns

pytestmark = BOTH_BACKENDS

INJECTIONS = [
    "'; DROP TABLE users; --",
    "'); DROP TABLE message_log; --",
    '"; DELETE FROM unanswered_questions; --',
    "' OR '1'='1",
    "' OR 1=1 --",
    "1; UPDATE users SET blocked = 1; --",
    "' UNION SELECT sql FROM sqlite_master --",
    "x'); ATTACH DATABASE '/tmp/pwned.db' AS p; --",
    "Robert'); DROP TABLE last_meals;--",
    "%' AND 1=0 UNION SELECT NULL --",
    "\\'; PRAGMA writable_schema = 1; --",
    "'||(SELECT COUNT(*) FROM users)||'",
]
MEAL = "2 eggs and a glass of milk"
FIRST_USER = 7100


def schema(bot: RunningBot) -> list[tuple[Any, ...]]:
    """(kind, name, table, definition) of every table, index and column."""
    if bot.service.settings.database_url is None:
        return bot.rows("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name")
    return bot.rows(
        "SELECT 'table', table_name, table_name, NULL FROM information_schema.tables "
        "WHERE table_schema = 'public' UNION ALL "
        "SELECT 'index', indexname, tablename, indexdef FROM pg_indexes "
        "WHERE schemaname = 'public' UNION ALL "
        "SELECT 'column', column_name, table_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'public' ORDER BY 1, 3, 2"
    )


def intact(bot: RunningBot) -> bool:
    """SQLite's integrity check; PostgreSQL has no equivalent for a whole database (its
    schema, compared before and after, is what an injection would change)."""
    if bot.service.settings.database_url is not None:
        return True
    return bot.rows("PRAGMA integrity_check") == [("ok",)]


def none_of_these_question(engine: Engine, injection: str) -> str | None:
    """A message holding `injection` that gets a fallback with did-you-mean suggestions (so it
    is kept as a pending question and "None of these" is offered), if any does — read, as the
    bot reads it, as the follow-up of the injection sent alone first."""
    turns = Turns(engine, None)
    first = turns.turn(ChatState(), Text(injection), 0.0).state
    for base in FALLBACK_WITH_SUGGESTIONS:
        text = f"{base} {injection}"
        reply = turns.turn(first, Text(text), 1.0).answer
        if reply is not None and reply.kind is ReplyKind.fallback and reply.suggestions:
            return text
    return None


async def test_sql_injection_strings_are_stored_verbatim_and_tables_stay_intact(
    bot: RunningBot, engine: Engine
) -> None:
    fake = bot.fake
    before = schema(bot)
    assert {name for kind, name, *_ in before if kind == "table"} >= {
        "users",
        "message_log",
        "unanswered_questions",
        "pending_questions",
        "last_meals",
    }
    pressed: dict[int, str] = {}  # user id → question recorded through "None of these"

    async def one_user(index: int, injection: str) -> None:
        uid = FIRST_USER + index
        user = fake.user(uid, first_name=injection, language_code=injection)
        await fake.send_text(user, injection)
        await fake.wait_sent(uid, 1)
        meal = f"{MEAL} {injection}"
        assert engine.count_intake(meal) is not None, meal
        await fake.send_text(user, f"/intake {meal}")
        await fake.wait_sent(uid, 2)
        question = none_of_these_question(engine, injection)
        if question is None:
            return
        await fake.send_text(user, question)
        [*_, fallback] = await fake.wait_sent(uid, 3)
        none_data = fallback["reply_markup"]["inline_keyboard"][-1][0]["callback_data"]
        assert none_data.startswith("n:")
        query = await fake.press(user, fallback, none_data)
        await fake.wait_sent(uid, 4)
        await fake.wait_answered(query)
        pressed[uid] = question

    await asyncio.gather(*(one_user(i, text) for i, text in enumerate(INJECTIONS)))
    assert pressed, "no injection string reached the 'None of these' button"

    # Nothing was dropped, added, altered or corrupted.
    assert schema(bot) == before
    assert intact(bot)
    uids = range(FIRST_USER, FIRST_USER + len(INJECTIONS))
    assert bot.rows("SELECT COUNT(*), SUM(blocked) FROM users") == [(len(INJECTIONS), 0)]
    for index, uid in enumerate(uids):
        injection = INJECTIONS[index]
        assert bot.rows("SELECT language_code FROM users WHERE user_id = ?", (uid,)) == [
            (injection,)
        ]
        assert bot.rows("SELECT text FROM last_meals WHERE user_id = ?", (uid,)) == [
            (f"{MEAL} {injection}",)
        ]
        [(logged,)] = bot.rows("SELECT COUNT(*) FROM message_log WHERE user_id = ?", (uid,))
        assert logged >= 2, (uid, logged)  # at least the message and /intake
        kept = {
            text
            for (text,) in bot.rows(
                "SELECT text FROM unanswered_questions WHERE user_id = ? "
                "UNION ALL SELECT text FROM pending_questions WHERE user_id = ?",
                (uid, uid),
            )
        }
        if uid in pressed:  # moved from pending to unanswered, exactly once
            assert bot.rows(
                "SELECT COUNT(*) FROM unanswered_questions WHERE user_id = ? AND text = ?",
                (uid, pressed[uid]),
            ) == [(1,)]
            assert bot.rows(
                "SELECT COUNT(*) FROM pending_questions WHERE user_id = ? AND text = ?",
                (uid, pressed[uid]),
            ) == [(0,)]
        reply = engine.ask(injection)
        if reply.kind is ReplyKind.fallback:  # the plain message is kept as a question too
            assert injection in kept, (injection, kept)

    # The bot still answers normally.
    ann = fake.user(FIRST_USER + 500)
    await fake.send_text(ann, "/privacy")
    await fake.wait_sent(ann["id"], 1)
    assert not fake.calls_to("sendMessage", ok=False)
