"""Applying updates once and in order, and start-up tasks done once — on both backends.

`store`-like fixtures here open two storages on one database where the backend is shared, as
two replicas would (PostgreSQL); SQLite is one process, one connection.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pgserver import PostgresServer

from bot.storage import SQLiteStorage, Storage, open_storage

pytestmark = pytest.mark.parametrize("backend", ["sqlite", "postgresql"])


@pytest.fixture
async def where(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if backend == "sqlite":
        return str(tmp_path / "bot.sqlite3")
    server: PostgresServer = request.getfixturevalue("postgres")
    return await server.new_database()


@pytest.fixture
async def store(where: str) -> AsyncIterator[Storage]:
    storage = await open_storage(where)
    yield storage
    await storage.close()


async def test_an_update_is_applied_once(store: Storage) -> None:
    async with store.applying(10, 501) as fresh:
        assert fresh
        await store.save_session(1, 10, {"step": 1}, None)
    async with store.applying(10, 501) as fresh:  # Telegram delivers it again
        assert not fresh
    async with store.applying(10, 502) as fresh:  # the next one is new
        assert fresh


async def test_an_update_that_changed_nothing_is_still_marked(store: Storage) -> None:
    async with store.applying(10, 601) as fresh:
        assert fresh  # e.g. /privacy: a reply, no state
    async with store.applying(10, 601) as fresh:
        assert not fresh


async def test_a_crash_before_any_state_write_leaves_the_update_to_be_applied_again(
    store: Storage,
) -> None:
    with pytest.raises(RuntimeError):
        async with store.applying(10, 701):
            await store.touch_user(1, "en")  # bookkeeping only
            raise RuntimeError("the process died here")
    async with store.applying(10, 701) as fresh:
        assert fresh


async def test_a_crash_after_the_state_write(store: Storage, backend: str) -> None:
    """PostgreSQL: the update is one transaction, so neither the answer nor the mark stays
    and the redelivery applies it. SQLite: the answer committed with the mark, so the
    redelivery is skipped — the answer is never applied twice either way."""
    with pytest.raises(RuntimeError):
        async with store.applying(10, 801):
            await store.save_session(1, 10, {"answers": ["yes"]}, None)
            raise RuntimeError("the process died here")
    session = await store.load_session(1, 10)
    async with store.applying(10, 801) as fresh:
        if backend == "postgresql":
            assert session is None and fresh
        else:
            assert session is not None and not fresh


async def test_writes_outside_an_update_are_not_marks(store: Storage) -> None:
    await store.save_session(1, 10, {"step": 1}, None)
    async with store.applying(10, 901) as fresh:
        assert fresh


async def test_a_failed_write_inside_an_update_does_not_undo_the_others(
    store: Storage, backend: str
) -> None:
    """On PostgreSQL each call is a savepoint: a refused statement does not abort the
    update's transaction (which would lose the answer saved before it)."""
    async with store.applying(10, 1001):
        await store.save_session(1, 10, {"step": 2}, None)
        with pytest.raises(Exception):  # noqa: B017 - a bug-class error of either driver
            await store.save_session(1, 10, {"bad": object()}, None)  # not JSON
        await store.save_dialogue(1, 10, {"last_intent": "x"})
    session = await store.load_session(1, 10)
    assert session is not None and session.state == {"step": 2}
    assert await store.load_dialogue(1, 10) == {"last_intent": "x"}


async def test_updates_of_one_chat_wait_for_each_other_and_other_chats_do_not(
    where: str, backend: str
) -> None:
    """Two storages on one database, as two replicas: the second update of chat 10 starts
    only after the first finished; chat 11 goes on meanwhile."""
    first, second = await open_storage(where), await open_storage(where)
    if backend == "sqlite":  # one process owns an SQLite file: the Telegram layer orders
        await second.close()
        second = first
    order: list[str] = []
    entered = asyncio.Event()
    release = asyncio.Event()

    async def slow() -> None:
        async with first.applying(10, 1):
            entered.set()
            order.append("first in")
            await release.wait()
            await first.save_session(1, 10, {"n": 1}, None)
            order.append("first out")

    async def queued() -> None:
        await entered.wait()
        async with second.applying(10, 2):
            order.append("second in")

    async def other_chat() -> None:
        await entered.wait()
        async with second.applying(11, 3):
            order.append("other chat")

    tasks = [asyncio.create_task(c()) for c in (slow, queued, other_chat)]
    try:
        await entered.wait()
        await asyncio.sleep(0.3)
        if backend == "postgresql":
            assert order == ["first in", "other chat"]  # chat 10's second update waits
        release.set()
        await asyncio.gather(*tasks)
        if backend == "postgresql":
            assert order == ["first in", "other chat", "first out", "second in"]
    finally:
        release.set()  # a failed assertion must not leave a connection held forever
        await asyncio.gather(*tasks, return_exceptions=True)
        await first.close()
        if second is not first:
            await second.close()


async def test_a_start_up_task_is_due_once_per_fingerprint(where: str) -> None:
    replicas = [await open_storage(where) for _ in range(3)]
    if isinstance(replicas[0], SQLiteStorage):
        for extra in replicas[1:]:
            await extra.close()
        replicas = [replicas[0]] * 3
    done: list[int] = []

    async def start(n: int) -> None:
        async with replicas[n].once("webhook", "https://a.example/hook") as due:
            if due:
                await asyncio.sleep(0.1)  # setWebhook takes a moment
                done.append(n)

    try:
        await asyncio.gather(*(start(n) for n in range(3)))
        assert len(done) == 1  # only one replica registered the webhook
        async with replicas[1].once("webhook", "https://b.example/hook") as due:
            assert due  # a new URL: due again
        async with replicas[2].once("webhook", "https://b.example/hook") as due:
            assert not due
        with pytest.raises(RuntimeError):  # a failed attempt records nothing
            async with replicas[0].once("commands", "v1") as due:
                assert due
                raise RuntimeError("Telegram refused")
        async with replicas[0].once("commands", "v1") as due:
            assert due
    finally:
        for storage in dict.fromkeys(replicas):
            await storage.close()


async def test_processed_updates_are_purged_after_two_days(store: Storage) -> None:
    async with store.applying(10, 1):
        pass
    from datetime import UTC, datetime, timedelta

    assert await store.purge(now=datetime.now(UTC) + timedelta(days=3)) >= 1
    async with store.applying(10, 1) as fresh:
        assert fresh
