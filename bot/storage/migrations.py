"""Versioned SQLite schema migrations, applied in order at start-up.

The database records the version it is at (`PRAGMA user_version`); each migration runs in its
own transaction together with the version bump, so a crash mid-migration leaves the database
at the previous version instead of half-migrated. Never edit a shipped migration: append one.
Times are stored as integer Unix seconds (UTC).
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
)
