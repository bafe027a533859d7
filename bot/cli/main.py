"""`python -m bot`: ask, content, chat, eval, serve and run."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path

from bot.content import ContentError, report
from bot.content.conversation import check_conversation
from bot.content.entities import check_entities
from bot.content.food_lists import check_food_lists
from bot.content.intake import check_intake
from bot.content.labs import check_labs
from bot.content.questionnaire import check_questionnaire
from bot.content.urgent import check_urgent, check_urgent_examples
from bot.core.check import CheckEngine
from bot.core.engine import Engine
from bot.core.turn import ChatState, Text, Turns

CONTENT_DIR = Path(__file__).resolve().parents[2] / "content"
logger = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    parser.add_argument("--content", type=Path, default=None, help="content directory")
    commands = parser.add_subparsers(dest="command", required=True)

    ask = commands.add_parser("ask", help="answer one message (or one per line with --stdin)")
    ask.add_argument("text", nargs="?", default=None)
    ask.add_argument("--json", action="store_true", help="print the machine-readable answer")
    ask.add_argument("--stdin", action="store_true", help="read one message per line from stdin")
    ask.add_argument(
        "--session", action="store_true", help="with --stdin: the lines are one conversation"
    )

    content = commands.add_parser("content", help="validate or dump the content store")
    content.add_argument("action", nargs="?", choices=["check"], help="validate and report")
    content.add_argument("--json", action="store_true", help="print the loaded content as JSON")

    commands.add_parser("chat", help="talk to the bot offline in this terminal")
    evaluate = commands.add_parser("eval", help="measure the matcher on a labelled JSONL file")
    evaluate.add_argument("file", type=Path, nargs="?", default=None)
    evaluate.add_argument(
        "--cv", type=int, metavar="K", help="k-fold cross-validation over the content phrasings"
    )
    evaluate.add_argument(
        "--safety-cv",
        type=Path,
        nargs="+",
        metavar="FILE",
        help="cross-validate the safety layer's cut-offs over these development corpora",
    )
    evaluate.add_argument("--no-baselines", action="store_true")
    evaluate.add_argument("--tune", action="store_true", help="search thresholds on the file")
    evaluate.add_argument(
        "--split",
        choices=["dev", "holdout", "all"],
        default="dev",
        help="for an emergency file: which half to run (the holdout half only to report)",
    )
    storage = commands.add_parser("storage", help="database tools")
    storage_actions = storage.add_subparsers(dest="action", required=True)
    copy = storage_actions.add_parser(
        "copy", help="copy every table of SRC into the empty DST (e.g. SQLite to PostgreSQL)"
    )
    copy.add_argument("source", help="sqlite:///path, postgresql://… or an SQLite file's path")
    copy.add_argument("destination", help="the same forms; must hold no rows")
    commands.add_parser("serve", help="run the Telegram bot")
    commands.add_parser("run", help="serve when TELEGRAM_BOT_TOKEN is set, else chat")

    args = parser.parse_args(argv)
    directory: Path = args.content or CONTENT_DIR
    if args.command == "content" and args.action == "check":
        return _content_check(directory)
    if args.command == "storage":
        return _storage_copy(args.source, args.destination)
    if args.command == "serve" or (args.command == "run" and _has_token()):
        from bot.telegram import serve

        return serve(args.content)  # None: the service finds content/ itself
    try:
        engine = Engine.load(directory)
    except ContentError as exc:
        print(exc, file=sys.stderr)
        return 1
    if args.command == "ask":
        turns = Turns(engine, _check_engine(directory)) if args.session else None
        return _ask(engine, args.text, as_json=args.json, from_stdin=args.stdin, turns=turns)
    if args.command == "content":
        print(json.dumps(_content_json(engine), ensure_ascii=False, indent=2))
        return 0
    if args.command == "eval":
        from bot.cli.dialogue_eval import evaluate_dialogues, is_dialogue_file
        from bot.cli.evaluate import evaluate_file
        from bot.cli.safety_eval import evaluate_safety, is_safety_file

        if args.safety_cv:
            from bot.cli.safety_cv import safety_cross_validate

            return safety_cross_validate(engine, args.safety_cv)
        if args.cv:
            from bot.cli.crossval import cross_validate

            cross_validate(engine, args.cv)
            if args.file is None:
                return 0
        if args.file is None:
            print("eval needs FILE or --cv K", file=sys.stderr)
            return 2
        if is_dialogue_file(args.file):
            return evaluate_dialogues(engine, args.file)
        if is_safety_file(args.file):
            return evaluate_safety(engine, args.file, args.split)
        return evaluate_file(engine, args.file, baselines=not args.no_baselines, tune=args.tune)
    from bot.cli.chat import chat

    check = _check_engine(directory)
    return 1 if check is None else chat(engine, check)


def _storage_copy(source: str, destination: str) -> int:
    """`storage copy`: rows per table on success; a one-line error (exit 1) otherwise."""
    import asyncio

    from bot.storage import StorageError
    from bot.storage.copy import copy_database

    try:
        copied = asyncio.run(copy_database(source, destination))
    except (StorageError, ValueError) as error:
        print(f"storage copy failed: {error}", file=sys.stderr)
        return 1
    for table, rows in copied.items():
        print(f"{table}: {rows} rows")
    print(f"copied {sum(copied.values())} rows")
    return 0


def _has_token() -> bool:
    if os.environ.get("TELEGRAM_BOT_TOKEN"):
        return True
    env = Path(".env")
    if not env.is_file():
        return False
    for line in env.read_text(encoding="utf-8").splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "TELEGRAM_BOT_TOKEN" and value.strip().strip("'\""):
            return True
    return False


def _content_check(directory: Path) -> int:
    """Every problem of the answer content and of the B12 check's questionnaire, at once."""
    problems = []
    try:
        Engine.load(directory)
    except ContentError as exc:
        problems += exc.problems
    problems += check_questionnaire(directory)[1]
    seen = {str(p) for p in problems}
    tools = check_labs(directory) + check_intake(directory) + check_food_lists(directory)
    tools += check_urgent(directory) + check_urgent_examples(directory)
    tools += check_conversation(directory)
    tools += check_entities(directory)
    problems += [p for p in tools if str(p) not in seen]
    if problems:
        print(report(problems))
        return 1
    print(f"content OK: {directory}")
    return 0


def _check_engine(directory: Path) -> CheckEngine | None:
    """The B12 check for the console; None (reported) if its content is invalid."""
    questionnaire, problems = check_questionnaire(directory)
    if questionnaire is None:
        print(report(problems), file=sys.stderr)
        return None
    return CheckEngine(questionnaire)


def _ask(
    engine: Engine,
    text: str | None,
    *,
    as_json: bool,
    from_stdin: bool,
    turns: Turns | None = None,
) -> int:
    """One reply per message; with `turns` (--session), the messages are one conversation:
    each is a turn of the chat before it (its follow-ups and its B12 check, as Telegram keeps
    them per chat), and the reply shown is the last the bot would send for it."""
    if from_stdin:
        messages = [line.rstrip("\r\n") for line in sys.stdin]
    elif text is not None:
        messages = [text]
    else:
        print("ask needs TEXT or --stdin", file=sys.stderr)
        return 2
    state = ChatState()
    for message in messages:
        if turns is not None:
            taken = turns.turn(state, Text(message), time.time())
            state, reply = taken.state, taken.replies[-1]
        else:
            reply = engine.ask(message)
        if as_json:
            record = {
                "text": message,
                "intent": reply.intent,
                "food": reply.food,
                "score": reply.score,
                "suggestions": list(reply.suggestions),
                "reply": reply.full,
                "summary": reply.text,
                "details": reply.details,
                "entities": [
                    {"kind": e.kind, "value": e.value, "text": e.text} for e in reply.entities
                ],
            }
            print(json.dumps(record, ensure_ascii=False))
        else:
            from bot.cli.render import render

            print(render(reply, colour=sys.stdout.isatty()))
    return 0


def _content_json(engine: Engine) -> dict[str, object]:
    content = engine.content
    return {
        "intents": [
            {
                "id": i.id,
                "title": i.title,
                "category": i.category.value,
                "examples": i.examples,
                "related": i.related,
                "sources": i.sources,
            }
            for i in content.intents.values()
        ],
        "foods": [f.model_dump(mode="json") for f in content.foods.values()],
        "sources": [s.model_dump(mode="json") for s in content.sources.values()],
    }
