"""Load benchmark: N simulated users against the real bot, then against a minimal echo bot.

    .venv/bin/python benchmarks/bench_e2e.py [--users 500] [--questions 2] [--pace 0.6]
                          [--max-rate 0] [--patience 300] [--source DIR] [--skip-echo]
    .venv/bin/python benchmarks/bench_e2e.py --replicas 3 --database postgresql [--users 500]

Scale-out (--replicas N --database postgresql): the same load runs against one bot on SQLite
(polling, the default deployment) and then against N webhook replicas sharing a PostgreSQL
server that the script starts on 127.0.0.1 (tests/pgserver.py), behind a small round-robin
proxy (tests/telegram_bot/replicas.py) — Telegram's side POSTs each update and retries it
until answered 200, as Telegram does. Memory is each replica's peak (and their sum); the
PostgreSQL server's own memory is not included. Everything shares this machine's cores, so
replicas add no CPU here: the run shows what the shared database and the extra hop cost.

Each user, concurrently with all the others, asks a free-text question, takes a whole B12
check (/check, then button presses — driven by the same pure state machine the tests use as
a mirror — until the result), then asks the remaining questions. A user waits for the reply
to each update before sending the next, like a person would, and leaves at least --pace
seconds between two of its updates (a fast thumb; it also keeps every user under the bot's
flood limit of 20 updates in 10 seconds, which would otherwise silence a user typing faster
than any person). Everything goes over real HTTP on 127.0.0.1 through the tests' fake Bot
API server; the bot runs as a subprocess (`python -m bot serve`, TELEGRAM_API_BASE_URL
pointing at the fake, real SQLite), so the peak memory (VmHWM from /proc/<pid>/status) is
the bot's own.

Reported: updates/second, p50/p99 from "update available" to "reply arrived at the server"
(a new message for a text or a command, the edit of the check message for a press), replies
lost (must be 0), presses left unanswered (must be 0) and peak memory. Then the identical
load runs against a minimal echo bot built with the same python-telegram-bot version and the
same Application (bot/telegram/app.py's `bare_application`: rate limiter and retries, the
per-chat concurrent update processor, HTML defaults, polling the same update types) and the
throughput ratio is printed.

Both bots get the same TELEGRAM_MAX_RATE (--max-rate). By default it is 0, which turns
AIORateLimiter's overall limit off for both, so the ratio compares the bots and not the
limiter; with --max-rate 30 (Telegram's real limit, the bot's default) both queue at the
same gate of 30 sends/second once there are more than a few dozen users, and the script
says so. answerCallbackQuery is exempt from that limit either way.
Results vary with the machine; the bounded waits (--patience) make it stop by itself.
--source runs the bot of another checkout (e.g. a `git archive HEAD` copy) under the same load.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import os
import signal
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

THIS = Path(__file__).resolve()
REPO = THIS.parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "telegram_bot"))
sys.path.insert(0, str(REPO / "tests"))

QUESTIONS = [
    "why do I get cramps at night",
    "does salmon have b12",
    "how much magnesium should I take for cramps",
    "is b12 safe",
    "what causes muscle cramps",
]
_OUR_ENV = ("TELEGRAM_", "MODE", "WEBHOOK_", "DATABASE_", "ADMIN_IDS", "LOG_LEVEL")


# -- the echo bot (run as `bench_e2e.py --echo-bot`, in its own process) -----------------------


def run_echo_bot() -> None:
    """Echo text back; "/check" also gets one button; a press is answered and edits the
    message to the button's data. The bot's own Application, without its handlers."""
    from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
    from telegram.ext import CallbackQueryHandler, ContextTypes, MessageHandler, filters

    from bot.settings import load_settings
    from bot.telegram.app import ALLOWED_UPDATES, bare_application

    async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        text = update.effective_message.text or ""
        markup = None
        if text.startswith("/check"):
            markup = InlineKeyboardMarkup([[InlineKeyboardButton("tap", callback_data="t")]])
        await update.effective_message.reply_text(html.escape(text), reply_markup=markup)

    async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer()
        markup = InlineKeyboardMarkup([[InlineKeyboardButton("tap", callback_data="t")]])
        await query.edit_message_text(html.escape(query.data or "?"), reply_markup=markup)

    application = bare_application(load_settings())
    application.add_handler(MessageHandler(filters.TEXT, on_text))
    application.add_handler(CallbackQueryHandler(on_button))
    application.run_polling(allowed_updates=ALLOWED_UPDATES)


# -- the load ------------------------------------------------------------------------------------


@dataclass
class Outcome:
    latencies: list[float] = field(default_factory=list)  # seconds
    sent: int = 0  # updates sent
    lost: int = 0  # updates without a reply within the patience
    skipped: int = 0  # updates a user could not send because an earlier reply was lost
    mismatched: int = 0  # check messages that differ from what the state machine says
    extra: int = 0  # replies nobody was waiting for


def make_fake_class() -> type:
    from fake_telegram import FakeTelegram

    class LoadFake(FakeTelegram):
        """The tests' fake, plus a per-chat queue of replies (sent or edited messages)."""

        def __init__(self) -> None:
            super().__init__()
            self.replies: dict[int, asyncio.Queue[tuple[float, str, dict[str, Any]]]] = {}
            self.pressed: set[str] = set()

        async def press(self, user: dict, message: dict, data: str | None) -> str:
            query_id = await super().press(user, message, data)
            self.pressed.add(query_id)
            return query_id

        def inbox(self, chat_id: int) -> asyncio.Queue[tuple[float, str, dict[str, Any]]]:
            return self.replies.setdefault(chat_id, asyncio.Queue())

        async def _api_sendMessage(self, params: dict[str, Any]) -> Any:
            at = time.perf_counter()
            result = await super()._api_sendMessage(params)
            self.inbox(params["chat_id"]).put_nowait((at, "send", result))
            return result

        async def _api_editMessageText(self, params: dict[str, Any]) -> Any:
            at = time.perf_counter()
            result = await super()._api_editMessageText(params)
            self.inbox(params["chat_id"]).put_nowait((at, "edit", result))
            return result

    return LoadFake


class User:
    def __init__(
        self, fake: Any, user_id: int, outcome: Outcome, patience: float, pace: float
    ) -> None:
        self.fake, self.id, self.outcome, self.patience = fake, user_id, outcome, patience
        self.user = fake.user(user_id)
        self.inbox = fake.inbox(user_id)
        self.pace = pace
        self._next = 0.0

    async def _wait_turn(self) -> float:
        """A person needs a moment between two messages or taps; returns the send time."""
        now = time.perf_counter()
        if now < self._next:
            await asyncio.sleep(self._next - now)
            now = time.perf_counter()
        self._next = now + self.pace
        return now

    async def _await_reply(self, asked: float, wanted: Any) -> dict[str, Any] | None:
        """The first reply `wanted(kind, message)` accepts; others count as extra."""
        self.outcome.sent += 1
        deadline = asked + self.patience
        while True:
            try:
                at, kind, message = await asyncio.wait_for(
                    self.inbox.get(), max(0.0, deadline - time.perf_counter())
                )
            except TimeoutError:
                self.outcome.lost += 1
                return None
            if wanted(kind, message):
                self.outcome.latencies.append(at - asked)
                return message
            self.outcome.extra += 1

    async def say(self, text: str) -> dict[str, Any] | None:
        self._drain()
        asked = await self._wait_turn()
        await self.fake.send_text(self.user, text)
        return await self._await_reply(asked, lambda kind, _: kind == "send")

    async def press(self, message_id: int, data: str) -> dict[str, Any] | None:
        self._drain()
        asked = await self._wait_turn()
        await self.fake.press(self.user, self.fake.messages[(self.id, message_id)], data)
        return await self._await_reply(
            asked, lambda kind, message: kind == "edit" and message["message_id"] == message_id
        )

    def _drain(self) -> None:
        while not self.inbox.empty():
            self.inbox.get_nowait()
            self.outcome.extra += 1


async def real_user(user: User, check: Any, questions: list[str]) -> None:
    from checkharness import PROFILE, Mirror, choose, data_of

    def give_up(done: int) -> None:
        user.outcome.skipped += steps - done

    steps = len(questions) + 1 + taps_per_check(check)
    done = 0
    if questions and await user.say(questions[0]) is None:
        return give_up(done + 1)
    done += 1 if questions else 0
    shown = await user.say("/check")
    done += 1
    if shown is None:
        return give_up(done)
    message_id = shown["message_id"]
    mirror = Mirror(check)
    while mirror.active:
        view = mirror.view()
        assert view is not None
        for label in mirror.taps_for(choose(view, PROFILE)):
            data = data_of(user.fake.messages[(user.id, message_id)], label)
            edited = await user.press(message_id, data)
            done += 1
            if edited is None:
                return give_up(done)
            mirror.tap(label)
            if user.fake.messages[(user.id, message_id)]["html"] != mirror.reply().text:
                user.outcome.mismatched += 1
    for text in questions[1:]:
        done += 1
        if await user.say(text) is None:
            return give_up(done)
    return None


async def echo_user(user: User, taps: int, questions: list[str]) -> None:
    steps = len(questions) + 1 + taps
    done = 0

    async def step(reply: Any) -> bool:
        nonlocal done
        done += 1
        if reply is None:
            user.outcome.skipped += steps - done
        return reply is not None

    if questions and not await step(await user.say(questions[0])):
        return
    shown = await user.say("/check")
    if not await step(shown):
        return
    for n in range(taps):
        if not await step(await user.press(shown["message_id"], f"tap {n}")):
            return
    for text in questions[1:]:
        if not await step(await user.say(text)):
            return


def taps_per_check(check: Any) -> int:
    """Presses one whole check takes with the test profile (the same for every user)."""
    from checkharness import PROFILE, Mirror, choose

    mirror, taps = Mirror(check), 0
    while mirror.active:
        view = mirror.view()
        assert view is not None
        for label in mirror.taps_for(choose(view, PROFILE)):
            mirror.tap(label)
            taps += 1
    return taps


@dataclass
class Result:
    name: str
    users: int
    updates: int
    elapsed: float
    outcome: Outcome
    unanswered_presses: int
    limited_sends: int
    memory_mb: float
    exit_code: int | None
    replicas: int = 1
    retries: int = 0  # webhook deliveries Telegram had to repeat

    @property
    def throughput(self) -> float:
        return self.updates / self.elapsed if self.elapsed else 0.0

    @property
    def send_rate(self) -> float:
        return self.limited_sends / self.elapsed if self.elapsed else 0.0

    def percentile(self, q: float) -> float:
        values = sorted(self.outcome.latencies)
        if not values:
            return float("nan")
        if q == 0.5:
            return statistics.median(values) * 1000
        return values[min(len(values) - 1, int(len(values) * q))] * 1000


async def run_load(
    name: str,
    command: list[str],
    users: int,
    questions: list[str],
    patience: float,
    source: Path = REPO,
    max_rate: float = 0.0,
    pace: float = 0.6,
) -> Result:
    from bot.content.questionnaire import load_questionnaire
    from bot.core.check import CheckEngine
    from bot.telegram.service import content_dir

    check = CheckEngine(load_questionnaire(content_dir()))
    taps = taps_per_check(check)
    fake = await make_fake_class()().start()
    outcome = Outcome()
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.upper().startswith(_OUR_ENV)}
        env.update(
            PYTHONPATH=str(source),
            PYTHONUNBUFFERED="1",
            TELEGRAM_BOT_TOKEN=fake.token,
            TELEGRAM_API_BASE_URL=fake.base_url,
            DATABASE_PATH=str(Path(tmp) / "bench.sqlite3"),
            MODE="polling",
            LOG_LEVEL="WARNING",
            TELEGRAM_MAX_RATE=str(max_rate),
        )
        log_path = Path(tmp) / "bot.log"
        with log_path.open("wb") as log:
            proc = await asyncio.create_subprocess_exec(
                *command, env=env, cwd=tmp, stdin=asyncio.subprocess.DEVNULL,
                stdout=log, stderr=asyncio.subprocess.STDOUT,
            )  # fmt: skip
            try:
                await fake.wait_for(
                    lambda: fake.calls_to("getUpdates", ok=None) or proc.returncode is not None,
                    f"{name} to start polling",
                    patience=60,
                )
                if proc.returncode is not None:
                    raise RuntimeError(f"{name} exited: {log_path.read_text()[-2000:]}")
                people = [User(fake, 10_000 + n, outcome, patience, pace) for n in range(users)]
                for person in people:
                    fake.private_chat(person.user)
                start = time.perf_counter()
                if name == "echo bot":
                    scripts = [echo_user(p, taps, questions) for p in people]
                else:
                    scripts = [real_user(p, check, questions) for p in people]
                await asyncio.gather(*scripts)
                elapsed = time.perf_counter() - start
                await asyncio.sleep(0.5)  # late duplicates would show up as "extra"
                for person in people:
                    person._drain()
                from replicas import peak_memory_mb

                memory = peak_memory_mb(proc.pid)
            finally:
                if proc.returncode is None:
                    proc.send_signal(signal.SIGTERM)
                    try:
                        await asyncio.wait_for(proc.wait(), 30)
                    except TimeoutError:
                        proc.kill()
                        await proc.wait()
            exit_code = proc.returncode
    answered = fake.answered_queries()
    presses = fake.pressed
    limited = len(fake.calls_to("sendMessage")) + len(fake.calls_to("editMessageText"))
    await fake.stop()
    return Result(
        name, users, outcome.sent, elapsed, outcome, len(presses - answered), limited,
        memory, exit_code,
    )  # fmt: skip


async def run_replicated(
    name: str, replicas: int, users: int, questions: list[str], patience: float, pace: float
) -> Result:
    """The real bot as `replicas` webhook processes on one PostgreSQL, behind the proxy."""
    from pgserver import PostgresServer
    from replicas import Replica, RoundRobinProxy, deliver_by_webhook

    from bot.content.questionnaire import load_questionnaire
    from bot.core.check import CheckEngine
    from bot.telegram.service import content_dir

    check = CheckEngine(load_questionnaire(content_dir()))
    fake = await make_fake_class()().start()
    outcome = Outcome()
    server = PostgresServer().start()
    proxy = await RoundRobinProxy([]).start()
    bots: list[Any] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            database = await server.new_database()
            bots = [Replica(n, fake, database, proxy.url, Path(tmp)) for n in range(replicas)]
            for bot in bots:
                bot.env["LOG_LEVEL"] = "WARNING"
            proxy.backends = [bot.url for bot in bots]
            await asyncio.gather(*(bot.start() for bot in bots))
            delivery = deliver_by_webhook(fake, proxy.url + "/telegram/hook", patience=patience)
            people = [User(fake, 10_000 + n, outcome, patience, pace) for n in range(users)]
            for person in people:
                fake.private_chat(person.user)
            start = time.perf_counter()
            await asyncio.gather(*(real_user(p, check, questions) for p in people))
            elapsed = time.perf_counter() - start
            await asyncio.sleep(0.5)
            for person in people:
                person._drain()
            memories = [bot.peak_memory_mb() for bot in bots]
            codes = [await bot.terminate() for bot in bots]
    finally:
        for bot in bots:
            await bot.kill()
        await proxy.stop()
        server.stop()
    answered = fake.answered_queries()
    limited = len(fake.calls_to("sendMessage")) + len(fake.calls_to("editMessageText"))
    await fake.stop()
    return Result(
        name, users, outcome.sent, elapsed, outcome, len(fake.pressed - answered), limited,
        sum(memories), next((c for c in codes if c != 0), 0), replicas, delivery.retries,
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--questions", type=int, default=2, help="free-text questions per user")
    parser.add_argument("--patience", type=float, default=300.0, help="max wait for one reply (s)")
    parser.add_argument(
        "--source", type=Path, default=REPO, help="checkout whose bot to run (default: this one)"
    )
    parser.add_argument(
        "--max-rate",
        type=float,
        default=0.0,
        help="TELEGRAM_MAX_RATE for both bots: overall sends/second (0 = no limit, the default; "
        "30 = Telegram's)",
    )
    parser.add_argument(
        "--pace",
        type=float,
        default=0.6,
        help="least seconds between two updates of one user (default 0.6: a fast thumb, and "
        "under the bot's flood limit of 20 updates in 10 s)",
    )
    parser.add_argument("--skip-echo", action="store_true", help="only the real bot")
    parser.add_argument(
        "--replicas", type=int, default=1, help="webhook replicas for the scale-out run"
    )
    parser.add_argument(
        "--database",
        choices=["sqlite", "postgresql"],
        default="sqlite",
        help="postgresql: also run --replicas webhook replicas on one PostgreSQL server and "
        "compare them with one bot on SQLite (no echo bot then)",
    )
    parser.add_argument("--echo-bot", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.echo_bot:
        run_echo_bot()
        return
    asyncio.run(bench(args))


async def bench(args: argparse.Namespace) -> None:
    questions = [QUESTIONS[n % len(QUESTIONS)] for n in range(args.questions)]
    runs = [("B12 bot", [sys.executable, "-m", "bot", "serve"])]
    scale_out = args.database == "postgresql"
    if not args.skip_echo and not scale_out:
        runs.append(("echo bot", [sys.executable, str(THIS), "--echo-bot"]))
    results = []
    for name, command in runs:
        print(f"running {name} with {args.users} users …", flush=True)
        results.append(
            await run_load(
                name,
                command,
                args.users,
                questions,
                args.patience,
                args.source,
                args.max_rate,
                args.pace,
            )
        )
    if scale_out:
        name = f"{args.replicas}× PG"
        print(f"running {name} (webhook) with {args.users} users …", flush=True)
        results.append(
            await run_replicated(
                name, args.replicas, args.users, questions, args.patience, args.pace
            )
        )
        results[0].name = "1× SQLite"
    report(results, args.max_rate)


def report(results: list[Result], max_rate: float) -> None:
    header = (
        f"{'bot':<9} {'users':>5} {'updates':>7} {'secs':>7} {'upd/s':>7} {'sends/s':>7} "
        f"{'p50 ms':>8} {'p99 ms':>8} {'lost':>4} {'unans':>5} {'mism':>4} {'peak MB':>7}"
    )
    print()
    print(header)
    print("-" * len(header))
    for r in results:
        o = r.outcome
        print(
            f"{r.name:<9} {r.users:>5} {r.updates:>7} {r.elapsed:>7.1f} {r.throughput:>7.1f} "
            f"{r.send_rate:>7.1f} {r.percentile(0.5):>8.0f} {r.percentile(0.99):>8.0f} "
            f"{o.lost + o.skipped:>4} {r.unanswered_presses:>5} {o.mismatched:>4} "
            f"{r.memory_mb:>7.1f}"
        )
    print(
        "lost = updates without a reply (+ ones never sent after a loss); unans = presses never "
        "answered;\nmism = check messages differing from the state machine; sends/s = "
        "sendMessage + editMessageText per second"
    )
    for r in results:
        if r.replicas > 1:
            print(
                f"note: {r.name}: peak MB is the sum over {r.replicas} replicas "
                f"({r.memory_mb / r.replicas:.1f} each on average); Telegram repeated "
                f"{r.retries} deliveries"
            )
        if r.outcome.extra:
            print(f"note: {r.name} sent {r.outcome.extra} replies nobody was waiting for")
        if r.exit_code not in (0, None):
            print(f"note: {r.name} exited with code {r.exit_code}")
    if len(results) == 2 and results[1].replicas > 1:
        single, many = results
        ratio = many.throughput / single.throughput if single.throughput else float("nan")
        print(f"throughput ratio {many.name} / {single.name}: {ratio:.2f} ({ratio:.0%})")
    elif len(results) == 2:
        bot, echo = results
        ratio = bot.throughput / echo.throughput if echo.throughput else float("nan")
        print(f"throughput ratio B12 bot / echo bot: {ratio:.2f} ({ratio:.0%})")
        gate = 0.8 * max_rate
        if max_rate and bot.send_rate >= gate and echo.send_rate >= gate:
            print(
                f"note: both bots send at ~{max_rate:.0f}/s, the overall limit (--max-rate): the "
                "limiter dominates both runs, so the ratio measures the limiter,\n      not the "
                "bot. Run with --max-rate 0 to compare the bots themselves."
            )
    print(f"overall send limit: {max_rate:g}/s" if max_rate else "overall send limit: none")
    ok = all(r.outcome.lost + r.outcome.skipped == 0 and r.unanswered_presses == 0 for r in results)
    print("replies lost: 0 (as required)" if ok else "REPLIES LOST — see the table")


if __name__ == "__main__":
    main()
