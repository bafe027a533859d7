"""Versioned schema migrations for both backends, applied in order at start-up.

SQLite records the version it is at in `PRAGMA user_version`, PostgreSQL in a one-row
`schema_version` table; each migration runs in its own transaction together with the version
bump, so a crash mid-migration leaves the database at the previous version instead of
half-migrated. Never edit a shipped migration: append one, to both lists, with the same
number — a version means the same tables on either backend, which is what lets
`python -m bot storage copy` move a database from one to the other (`TABLES`).
Times are stored as integer Unix seconds (UTC) on both.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    description: str
    statements: tuple[str, ...]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "users, message log, questionnaire sessions and results, unanswered questions",
        (
            """
            CREATE TABLE users (
                user_id       INTEGER PRIMARY KEY,
                first_seen    INTEGER NOT NULL,
                last_seen     INTEGER NOT NULL,
                language_code TEXT,
                blocked       INTEGER NOT NULL DEFAULT 0
            )
            """,
            """
            CREATE TABLE message_log (
                id         INTEGER PRIMARY KEY,
                user_id    INTEGER NOT NULL,
                chat_id    INTEGER NOT NULL,
                kind       TEXT NOT NULL,
                intent     TEXT,
                created_at INTEGER NOT NULL
            )
            """,
            "CREATE INDEX message_log_created ON message_log (created_at)",
            "CREATE INDEX message_log_user ON message_log (user_id)",
            """
            CREATE TABLE check_sessions (
                user_id    INTEGER NOT NULL,
                chat_id    INTEGER NOT NULL,
                state      TEXT NOT NULL,
                message_id INTEGER,
                updated_at INTEGER NOT NULL,
                PRIMARY KEY (user_id, chat_id)
            )
            """,
            """
            CREATE TABLE check_results (
                id         INTEGER PRIMARY KEY,
                user_id    INTEGER NOT NULL,
                result     TEXT NOT NULL,
                created_at INTEGER NOT NULL
            )
            """,
            "CREATE INDEX check_results_user ON check_results (user_id, created_at)",
            """
            CREATE TABLE unanswered_questions (
                id         INTEGER PRIMARY KEY,
                user_id    INTEGER,
                text       TEXT NOT NULL,
                best_score REAL NOT NULL,
                created_at INTEGER NOT NULL
            )
            """,
            "CREATE INDEX unanswered_created ON unanswered_questions (created_at)",
            """
            CREATE TABLE pending_questions (
                id         INTEGER PRIMARY KEY,
                user_id    INTEGER NOT NULL,
                chat_id    INTEGER NOT NULL,
                text       TEXT NOT NULL,
                best_score REAL NOT NULL,
                created_at INTEGER NOT NULL
            )
            """,
            "CREATE INDEX pending_created ON pending_questions (created_at)",
        ),
    ),
    Migration(
        2,
        "personal tools: the user's life stage and their last meal (for re-counting it)",
        (
            """
            CREATE TABLE user_profiles (
                user_id    INTEGER PRIMARY KEY,
                life_stage TEXT,
                updated_at INTEGER NOT NULL
            )
            """,
            """
            CREATE TABLE last_meals (
                user_id    INTEGER PRIMARY KEY,
                text       TEXT NOT NULL,
                created_at INTEGER NOT NULL
            )
            """,
            "CREATE INDEX last_meals_created ON last_meals (created_at)",
        ),
    ),
    Migration(
        3,
        "dialogue state per chat, for follow-ups in context (expires after 30 minutes)",
        (
            """
            CREATE TABLE dialogues (
                user_id    INTEGER NOT NULL,
                chat_id    INTEGER NOT NULL,
                state      TEXT NOT NULL,
                updated_at INTEGER NOT NULL,
                PRIMARY KEY (user_id, chat_id)
            )
            """,
        ),
    ),
    Migration(
        4,
        "updates applied once (processed update ids) and start-up tasks done once",
        (
            """
            CREATE TABLE processed_updates (
                update_id  INTEGER PRIMARY KEY,
                chat_id    INTEGER NOT NULL,
                created_at INTEGER NOT NULL
            )
            """,
            "CREATE INDEX processed_updates_created ON processed_updates (created_at)",
            """
            CREATE TABLE startup_tasks (
                key         TEXT PRIMARY KEY,
                fingerprint TEXT NOT NULL,
                done_at     INTEGER NOT NULL
            )
            """,
        ),
    ),
)

#: Every table and its columns, in the order `storage copy` reads and writes them. The tables
#: whose first column is an `id` the database assigns get their counters moved on after a copy.
TABLES: dict[str, tuple[str, ...]] = {
    "users": ("user_id", "first_seen", "last_seen", "language_code", "blocked"),
    "message_log": ("id", "user_id", "chat_id", "kind", "intent", "created_at"),
    "check_sessions": ("user_id", "chat_id", "state", "message_id", "updated_at"),
    "check_results": ("id", "user_id", "result", "created_at"),
    "unanswered_questions": ("id", "user_id", "text", "best_score", "created_at"),
    "pending_questions": ("id", "user_id", "chat_id", "text", "best_score", "created_at"),
    "user_profiles": ("user_id", "life_stage", "updated_at"),
    "last_meals": ("user_id", "text", "created_at"),
    "dialogues": ("user_id", "chat_id", "state", "updated_at"),
    "processed_updates": ("update_id", "chat_id", "created_at"),
    "startup_tasks": ("key", "fingerprint", "done_at"),
}
IDENTITY_TABLES = ("message_log", "check_results", "unanswered_questions", "pending_questions")
#: The tables holding a user's rows: what /forget deletes (with the chat's processed updates).
USER_TABLES = tuple(table for table, columns in TABLES.items() if "user_id" in columns)

#: The same schema on PostgreSQL. Telegram ids exceed 32 bits: every id is BIGINT.
POSTGRES_MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "users, message log, questionnaire sessions and results, unanswered questions",
        (
            """
            CREATE TABLE users (
                user_id       BIGINT PRIMARY KEY,
                first_seen    BIGINT NOT NULL,
                last_seen     BIGINT NOT NULL,
                language_code TEXT,
                blocked       INTEGER NOT NULL DEFAULT 0
            )
            """,
            """
            CREATE TABLE message_log (
                id         BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                user_id    BIGINT NOT NULL,
                chat_id    BIGINT NOT NULL,
                kind       TEXT NOT NULL,
                intent     TEXT,
                created_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX message_log_created ON message_log (created_at)",
            "CREATE INDEX message_log_user ON message_log (user_id)",
            """
            CREATE TABLE check_sessions (
                user_id    BIGINT NOT NULL,
                chat_id    BIGINT NOT NULL,
                state      TEXT NOT NULL,
                message_id BIGINT,
                updated_at BIGINT NOT NULL,
                PRIMARY KEY (user_id, chat_id)
            )
            """,
            """
            CREATE TABLE check_results (
                id         BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                user_id    BIGINT NOT NULL,
                result     TEXT NOT NULL,
                created_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX check_results_user ON check_results (user_id, created_at)",
            """
            CREATE TABLE unanswered_questions (
                id         BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                user_id    BIGINT,
                text       TEXT NOT NULL,
                best_score DOUBLE PRECISION NOT NULL,
                created_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX unanswered_created ON unanswered_questions (created_at)",
            """
            CREATE TABLE pending_questions (
                id         BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                user_id    BIGINT NOT NULL,
                chat_id    BIGINT NOT NULL,
                text       TEXT NOT NULL,
                best_score DOUBLE PRECISION NOT NULL,
                created_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX pending_created ON pending_questions (created_at)",
        ),
    ),
    Migration(
        2,
        "personal tools: the user's life stage and their last meal (for re-counting it)",
        (
            """
            CREATE TABLE user_profiles (
                user_id    BIGINT PRIMARY KEY,
                life_stage TEXT,
                updated_at BIGINT NOT NULL
            )
            """,
            """
            CREATE TABLE last_meals (
                user_id    BIGINT PRIMARY KEY,
                text       TEXT NOT NULL,
                created_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX last_meals_created ON last_meals (created_at)",
        ),
    ),
    Migration(
        3,
        "dialogue state per chat, for follow-ups in context (expires after 30 minutes)",
        (
            """
            CREATE TABLE dialogues (
                user_id    BIGINT NOT NULL,
                chat_id    BIGINT NOT NULL,
                state      TEXT NOT NULL,
                updated_at BIGINT NOT NULL,
                PRIMARY KEY (user_id, chat_id)
            )
            """,
        ),
    ),
    Migration(
        4,
        "updates applied once (processed update ids) and start-up tasks done once",
        (
            """
            CREATE TABLE processed_updates (
                update_id  BIGINT PRIMARY KEY,
                chat_id    BIGINT NOT NULL,
                created_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX processed_updates_created ON processed_updates (created_at)",
            """
            CREATE TABLE startup_tasks (
                key         TEXT PRIMARY KEY,
                fingerprint TEXT NOT NULL,
                done_at     BIGINT NOT NULL
            )
            """,
        ),
    ),
)
