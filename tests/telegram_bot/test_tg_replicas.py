"""Scale-out end to end: three webhook replicas, one PostgreSQL, a replica killed mid-run.

Fifty users each ask a question, take a whole B12 check by buttons and ask two more, all at
once. Every update of a chat goes to another replica than the one before (`X-Replica`), and
the fake Bot API server delivers them as Telegram does: POSTed to the load balancer, retried
until answered 200. A third of the way through, one replica is SIGKILLed — updates in flight
on it die with it — and restarted a second later. Afterwards, from the database: every
user's check holds exactly the answers they gave, in the order they gave them; every typed
message was logged once (an update applied twice would log twice); one result per check;
one processed mark per update; and every update got its reply.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from botharness import postgres_rows
from checkharness import PROFILE, Mirror, choose, data_of
from fake_telegram import FakeTelegram
from pgserver import PostgresServer
from replicas import SECRET, Replica, RoundRobinProxy, deliver_by_webhook

from bot.core.check import CheckEngine, State, Status
from bot.telegram.webhook import SECRET_HEADER

USERS = 50
REPLICAS = 3
QUESTIONS = ["why do I get cramps at night", "does salmon have b12", "is b12 safe"]


async def _until(predicate: Any, what: str, patience: float = 60.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + patience
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


async def _user(fake: FakeTelegram, check: CheckEngine, user_id: int) -> list[str]:
    """One person's whole visit; returns the check answers they gave, in order."""
    user = fake.user(user_id)
    fake.private_chat(user)

    async def say(text: str) -> dict[str, Any]:
        before = len(fake.sent(user_id))
        await fake.send_text(user, text)  # returns once a replica acknowledged it
        await _until(lambda: len(fake.sent(user_id)) > before, f"a reply to {text!r}")
        return fake.sent(user_id)[before]

    await say(QUESTIONS[0])
    shown = await say("/check")
    key = (user_id, shown["message_id"])
    mirror = Mirror(check)
    while mirror.active:
        view = mirror.view()
        assert view is not None
        for label in mirror.taps_for(choose(view, PROFILE)):
            query = await fake.press(user, fake.messages[key], data_of(fake.messages[key], label))
            mirror.tap(label)
            expected = mirror.reply().text
            await _until(lambda e=expected: fake.messages[key]["html"] == e, f"the tap {label!r}")
            await _until(lambda q=query: q in fake.answered_queries(), "the tap's answer")
    for text in QUESTIONS[1:]:
        await say(text)
    assert mirror.state.status is Status.finished
    return [f"{a.q}={','.join(a.o)}" for a in mirror.state.answers]


async def test_three_replicas_one_killed_lose_nothing_and_apply_nothing_twice(
    fake: FakeTelegram, check: CheckEngine, postgres: PostgresServer, tmp_path: Path
) -> None:
    database = await postgres.new_database()
    proxy = await RoundRobinProxy([]).start()
    replicas = [Replica(n, fake, database, proxy.url, tmp_path) for n in range(REPLICAS)]
    proxy.backends = [r.url for r in replicas]
    try:
        await asyncio.gather(*(r.start() for r in replicas))
        assert len(fake.calls_to("setWebhook")) == 1  # one replica registered it
        delivery = deliver_by_webhook(fake, proxy.url + "/telegram/hook", spread=REPLICAS)

        async def kill_one() -> None:
            await _until(lambda: len(delivery.acknowledged) >= USERS * 5, "a third of the run")
            await replicas[1].kill()
            await asyncio.sleep(1.0)
            await replicas[1].start()

        killer = asyncio.create_task(kill_one())
        given = await asyncio.gather(*(_user(fake, check, 7000 + n) for n in range(USERS)))
        await killer
    finally:
        codes = [await r.terminate() for r in replicas]
        await proxy.stop()
    assert codes == [0] * REPLICAS  # SIGTERM: in-flight updates finished, clean exit

    def rows(sql: str) -> list[tuple[Any, ...]]:
        return postgres_rows(database, sql)

    updates = len(fake.history)
    assert replicas[1].starts == 2
    assert delivery.retries > 0, "the kill should have made Telegram retry some updates"
    assert sorted(set(delivery.acknowledged)) == sorted(fake.history)  # every update, once 200
    assert rows("SELECT COUNT(*) FROM processed_updates") == [(updates,)]
    assert all(proxy.forwarded[n] > 0 for n in range(REPLICAS))
    sessions = {uid: raw for uid, raw in rows("SELECT user_id, state FROM check_sessions")}
    logged = dict(rows("SELECT user_id, COUNT(*) FROM message_log GROUP BY user_id"))
    results = dict(rows("SELECT user_id, COUNT(*) FROM check_results GROUP BY user_id"))
    for n, answers in enumerate(given):
        uid = 7000 + n
        state = State.from_json(sessions[uid])
        assert state is not None
        assert [f"{a.q}={','.join(a.o)}" for a in state.answers] == answers, uid
        assert logged[uid] == len(QUESTIONS) + 1, uid  # each typed message applied once
        assert results[uid] == 1, uid
        assert state.status is Status.finished
    # Every press was answered and every typed message got its reply (the users waited for
    # each one); the killed replica's log shows it did serve before and after the kill.
    presses = {c.params["callback_query_id"] for c in fake.calls_to("answerCallbackQuery")}
    pressed = {u["callback_query"]["id"] for u in fake.history.values() if "callback_query" in u}
    assert pressed <= presses
    assert replicas[1].output().count("is up (webhook)") == 2


@pytest.fixture
async def two(
    fake: FakeTelegram, postgres: PostgresServer, tmp_path: Path
) -> AsyncIterator[tuple[list[Replica], str]]:
    database = await postgres.new_database()
    proxy = await RoundRobinProxy([]).start()
    replicas = [Replica(n, fake, database, proxy.url, tmp_path) for n in range(2)]
    proxy.backends = [r.url for r in replicas]
    try:
        await asyncio.gather(*(r.start() for r in replicas))
        yield replicas, database
    finally:
        for replica in replicas:
            await replica.terminate()
        await proxy.stop()


async def test_two_taps_at_once_on_two_replicas_both_count(
    fake: FakeTelegram, check: CheckEngine, two: tuple[list[Replica], str]
) -> None:
    """A quick double tap on a multiple-choice question, the two presses reaching two
    replicas at the same moment: the second waits for the first's commit, so neither choice
    is lost (if both started from the same stored state, the last to commit would win). Two
    locks see to it here: the advisory lock on the chat, and the user's row that the first
    update's user record holds until its commit; tests/test_storage_updates.py shows the
    advisory lock alone doing it."""
    replicas, database = two
    deliver_by_webhook(fake, f"{replicas[0].url}/telegram/hook")  # the taps before the double
    user_id = 7900
    user = fake.user(user_id)
    fake.private_chat(user)
    await fake.send_text(user, "/check")
    await _until(lambda: fake.sent(user_id), "the check's first question")
    key = (user_id, fake.sent(user_id)[0]["message_id"])
    mirror = Mirror(check)
    while mirror.active:
        view = mirror.view()
        assert view is not None
        labels = mirror.taps_for(choose(view, PROFILE))
        if view.question.choice == "multi" and len(labels) >= 3:
            break
        for label in labels:
            await fake.press(user, fake.messages[key], data_of(fake.messages[key], label))
            mirror.tap(label)
            await _until(lambda: fake.messages[key]["html"] == mirror.reply().text, label)
    else:
        raise AssertionError("the profile has no multiple-choice question with two answers")
    *options, _done = labels
    message = dict(fake.messages[key])
    presses = [
        _post_to(replica, fake, user, message, data_of(message, label))
        for replica, label in zip(replicas, options[:2], strict=True)
    ]
    assert await asyncio.gather(*presses) == [200, 200]
    for label in options[:2]:
        mirror.tap(label)
    await _until(lambda: fake.messages[key]["html"] == mirror.reply().text, "both choices")
    [(raw,)] = postgres_rows(
        database, "SELECT state FROM check_sessions WHERE user_id = $1", (user_id,)
    )
    stored = State.from_json(raw)
    assert stored is not None
    assert sorted(stored.pending) == sorted(mirror.state.pending)
    assert len(stored.pending) == 2  # both ticks kept


async def _post_to(
    replica: Replica, fake: FakeTelegram, user: dict[str, Any], message: dict[str, Any], data: str
) -> int:
    """A press POSTed straight to one replica, as Telegram would deliver it."""
    update_id = max(fake.history) + 1 if fake.history else 1
    fake._update_ids = itertools.count(update_id + 1)
    update = {
        "update_id": update_id,
        "callback_query": {
            "id": f"cq-{update_id}",
            "from": user,
            "chat_instance": f"ci{message['chat']['id']}",
            "message": {k: v for k, v in message.items() if k != "html"},
            "data": data,
        },
    }
    fake.history[update_id] = update
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{replica.url}/telegram/hook", json=update, headers={SECRET_HEADER: SECRET}
        ) as response,
    ):
        return response.status


async def test_an_update_redelivered_to_another_replica_is_skipped(
    fake: FakeTelegram, two: tuple[list[Replica], str]
) -> None:
    replicas, database = two
    user = fake.user(7901)
    update = {"update_id": 99_001, "message": fake.text_message(user, QUESTIONS[0])}
    for replica in replicas:  # Telegram retried on another replica: confirmed, not applied
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                f"{replica.url}/telegram/hook", json=update, headers={SECRET_HEADER: SECRET}
            ) as response,
        ):
            assert response.status == 200
    assert len(fake.sent(7901)) == 1
    assert postgres_rows(database, "SELECT COUNT(*) FROM message_log") == [(1,)]
    assert "update 99001 was applied before: skipped" in replicas[1].output()
