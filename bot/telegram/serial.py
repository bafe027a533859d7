"""Concurrent across chats, strictly in order within a chat, and each update applied once.

python-telegram-bot's `concurrent_updates` runs every update in its own task, so a chat's
second message can be answered before its first (or two button presses can race on the same
questionnaire state). This processor gives each chat a FIFO lock: updates of one chat run one
after another, in the order they arrived, while different chats proceed in parallel.
Ordering holds because the application starts one task per update in arrival order and both
the semaphore and `asyncio.Lock` wake waiters first-in, first-out.

Inside that lock each update runs in the storage's `applying` block (bot/storage/base.py):
on PostgreSQL, one transaction holding an advisory lock on the chat, so replicas sharing the
database also take a chat's updates one at a time; on both backends a redelivered update
(Telegram retrying a webhook, a poller restarted before confirming) is found already
processed and skipped without running a handler.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from contextlib import AbstractAsyncContextManager
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor


def chat_key(update: object) -> int | None:
    """The chat an update belongs to (the user's id for updates without a chat)."""
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return update.effective_chat.id
    if update.effective_user is not None:
        return update.effective_user.id
    return None


#: `Storage.applying`: (chat id, update id) → a block that yields whether the update is new.
Applying = Callable[[int, int], AbstractAsyncContextManager[bool]]


class PerChatUpdateProcessor(BaseUpdateProcessor):
    def __init__(
        self, max_concurrent_updates: int = 256, *, applying: Applying | None = None
    ) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._waiting: dict[int, int] = {}
        self._applying = applying

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = chat_key(update)
        if key is None:
            await coroutine
            return
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._waiting[key] = self._waiting.get(key, 0) + 1
        try:
            async with lock:
                await self._apply(key, update, coroutine)
        finally:
            self._waiting[key] -= 1
            if not self._waiting[key]:
                # Nobody else queued for this chat: drop the lock so memory stays bounded.
                del self._waiting[key]
                del self._locks[key]

    async def _apply(self, key: int, update: object, coroutine: Awaitable[Any]) -> None:
        if self._applying is None or not isinstance(update, Update):
            await coroutine
            return
        async with self._applying(key, update.update_id) as fresh:
            if fresh:
                await coroutine
                return
        if isinstance(coroutine, Coroutine):
            coroutine.close()  # a redelivery: its handlers never run

    @property
    def active_chats(self) -> int:
        return len(self._locks)

    async def initialize(self) -> None:
        """Nothing to set up: locks are created on demand."""

    async def shutdown(self) -> None:
        """Nothing to free: the application waits for in-flight updates before this."""
