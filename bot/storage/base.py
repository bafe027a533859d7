"""The storage interface the rest of the bot talks to, and the plain records it returns.

Handlers depend on `Storage` (a Protocol), never on SQLite: a PostgreSQL backend can be added
later by implementing the same methods, with no change outside this package. Records are
frozen dataclasses so callers cannot mistake them for live rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol, runtime_checkable

#: How long unanswered questions (and the pending "None of these" candidates) are kept.
RETENTION = timedelta(days=90)
#: A meal is kept only so a life-stage button can re-count it; after this it is stale.
MEAL_RETENTION = timedelta(days=1)
#: Processed update ids are kept this long: Telegram keeps an unconfirmed update 24 hours.
UPDATE_RETENTION = timedelta(days=2)


class StorageError(Exception):
    """The database cannot be used (for example: its schema is newer than this code)."""


@dataclass(frozen=True, slots=True)
class User:
    user_id: int
    first_seen: datetime
    last_seen: datetime
    language_code: str | None
    blocked: bool


@dataclass(frozen=True, slots=True)
class PendingQuestion:
    """A question that got the fallback reply; it waits for "None of these" to be pressed."""

    id: int
    user_id: int
    chat_id: int
    text: str
    best_score: float
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Session:
    """A questionnaire in progress: one per user and chat."""

    user_id: int
    chat_id: int
    state: dict[str, Any]
    message_id: int | None
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Result:
    """A finished questionnaire."""

    id: int
    user_id: int
    result: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Stats:
    """What /stats shows an admin."""

    users: int
    blocked_users: int
    messages_today: int
    messages_7d: int
    questions_7d: int
    answered_7d: int
    top_unanswered: tuple[tuple[str, int], ...] = field(default=())

    @property
    def answered_share(self) -> float | None:
        """Share of questions answered in the last 7 days, or None when there were none."""
        return self.answered_7d / self.questions_7d if self.questions_7d else None


#: Message-log kinds that count as a question, and those of them that count as answered.
QUESTION_KINDS = frozenset({"answer", "food", "urgent", "fallback"})
ANSWERED_KINDS = frozenset({"answer", "food", "urgent"})


@runtime_checkable
class Storage(Protocol):
    """Everything the bot persists. All methods are safe to call from concurrent tasks."""

    async def close(self) -> None: ...

    async def ping(self) -> None:
        """Raise `StorageUnavailable` unless the database answers a query now (/readyz)."""

    # applying an update (issue 14)
    def applying(self, chat_id: int, update_id: int) -> AbstractAsyncContextManager[bool]:
        """Apply one Telegram update of a chat: `async with storage.applying(chat, update) as
        fresh:` yields False when the update was applied before (a redelivery: skip it).

        Inside the block, this task's writes belong to that update. Updates of one chat wait
        for each other, across processes where the backend is shared (PostgreSQL holds an
        advisory lock on the chat for the block, and the whole block is one transaction
        with the processed mark). When the database is down it yields True and applies
        nothing itself: the handlers' own writes then fail as outages, as they do anyway."""

    def once(self, key: str, fingerprint: str) -> AbstractAsyncContextManager[bool]:
        """`async with storage.once("webhook", fp) as due:` — one process at a time holds the
        block; `due` is True unless `key` was last done with this same `fingerprint`. A
        block left without an exception records `fingerprint` as done (when `due`)."""

    # copying between databases (bot/storage/copy.py)
    async def export_rows(self, table: str) -> list[tuple[Any, ...]]:
        """Every row of `table` (one of migrations.TABLES), its columns in that order."""

    async def import_rows(self, table: str, rows: Sequence[Sequence[Any]]) -> None:
        """Add rows `export_rows` gave (from either backend) to an empty `table`."""

    # users
    async def touch_user(
        self, user_id: int, language_code: str | None, *, now: datetime | None = None
    ) -> None:
        """Create or refresh a user on any update from them (which also means: not blocked)."""

    async def set_blocked(self, user_id: int, blocked: bool) -> None: ...

    async def get_user(self, user_id: int) -> User | None: ...

    async def forget_user(self, user_id: int) -> None:
        """Delete everything stored about a user (/forget)."""

    # message log, for /stats
    async def log_message(
        self,
        user_id: int,
        chat_id: int,
        kind: str,
        intent: str | None = None,
        *,
        now: datetime | None = None,
    ) -> None: ...

    async def stats(self, *, now: datetime | None = None, top: int = 10) -> Stats: ...

    # unanswered questions
    async def save_pending_question(
        self,
        user_id: int,
        chat_id: int,
        text: str,
        best_score: float,
        *,
        now: datetime | None = None,
    ) -> int:
        """Keep a fallback question until the user says "None of these"; returns a short id."""

    async def take_pending_question(self, pending_id: int, chat_id: int) -> PendingQuestion | None:
        """Remove and return a pending question, only if it belongs to that chat."""

    async def record_unanswered(
        self, user_id: int | None, text: str, best_score: float, *, now: datetime | None = None
    ) -> None: ...

    async def purge(self, *, now: datetime | None = None, keep: timedelta = RETENTION) -> int:
        """Delete unanswered/pending questions and log rows older than `keep`; returns a count."""

    # questionnaire (issue 4)
    async def save_session(
        self,
        user_id: int,
        chat_id: int,
        state: Mapping[str, Any],
        message_id: int | None,
        *,
        now: datetime | None = None,
    ) -> None: ...

    async def load_session(self, user_id: int, chat_id: int) -> Session | None: ...

    async def delete_session(self, user_id: int, chat_id: int) -> bool: ...

    async def add_result(
        self, user_id: int, result: Mapping[str, Any], *, now: datetime | None = None
    ) -> int: ...

    # conversation (issue 13)
    async def save_dialogue(
        self, user_id: int, chat_id: int, state: Mapping[str, Any], *, now: datetime | None = None
    ) -> None:
        """Keep the chat's dialogue state (bot.core.conversation.Dialogue.to_dict())."""

    async def load_dialogue(self, user_id: int, chat_id: int) -> dict[str, Any] | None:
        """The stored dialogue state, or None; a row that does not parse reads as None."""

    async def latest_result(self, user_id: int) -> Result | None: ...

    # personal tools (issue 6)
    async def set_life_stage(
        self, user_id: int, life_stage: str | None, *, now: datetime | None = None
    ) -> None:
        """Remember the life stage a user picked, so later meals are counted against it."""

    async def get_life_stage(self, user_id: int) -> str | None: ...

    async def save_last_meal(self, user_id: int, text: str, *, now: datetime | None = None) -> None:
        """Keep the user's latest meal text (one per user) for a life-stage button to re-count."""

    async def last_meal(
        self, user_id: int, *, now: datetime | None = None, keep: timedelta = MEAL_RETENTION
    ) -> str | None:
        """The latest meal text if younger than `keep`."""
