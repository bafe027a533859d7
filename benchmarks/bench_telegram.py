"""End-to-end throughput of the Telegram window, against the tests' fake Bot API server.

    .venv/bin/python benchmarks/bench_telegram.py [--users 50] [--messages 10]

Each of N users sends M questions at once; the bot (in this process, real HTTP over
127.0.0.1, real SQLite) answers them all. Reports messages/second and the latency from
"update available" to "reply received by the fake server" (p50, p99). The figures include
python-telegram-bot's HTTP stack, the rate limiter's bookkeeping and SQLite writes, and
show per-chat serialisation letting different chats run concurrently. Outgoing messages pass
AIORateLimiter, which holds the bot to Telegram's 30 messages/second overall: above that the
figure measures the limiter, as it should. Results vary with the machine: they are for
comparison between versions, not assertions.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "telegram_bot"))

from fake_telegram import FakeTelegram  # noqa: E402

from bot.core.engine import Engine  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from bot.telegram.service import Service, content_dir  # noqa: E402

QUESTIONS = [
    "why do I get cramps at night",
    "does salmon have b12",
    "how much magnesium should I take for cramps",
    "is b12 safe",
    "what causes muscle cramps",
]


async def bench(users: int, messages: int) -> None:
    engine = Engine.load(content_dir())
    fake = await FakeTelegram().start()
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(
            _env_file=None,
            telegram_bot_token=fake.token,
            telegram_api_base_url=fake.base_url,
            database_path=str(Path(tmp) / "bench.sqlite3"),
            log_level="WARNING",
        )
        service = Service(settings, engine)
        task = asyncio.create_task(service.run())
        await asyncio.wait_for(service.ready.wait(), 30)
        sent_at: dict[int, list[float]] = {}
        start = time.perf_counter()
        for n in range(messages):
            for user_id in range(1, users + 1):
                await fake.send_text(fake.user(user_id), QUESTIONS[n % len(QUESTIONS)])
                sent_at.setdefault(user_id, []).append(time.perf_counter())
        total = users * messages
        await fake.wait_for(
            lambda: len(fake.calls_to("sendMessage")) >= total, "all replies", patience=600
        )
        elapsed = time.perf_counter() - start
        service.stop()
        await task
    await fake.stop()
    # One reply per question, in order within a chat: the k-th reply answers the k-th question.
    replied: dict[int, list[float]] = {}
    for call in fake.calls_to("sendMessage"):
        replied.setdefault(call.params["chat_id"], []).append(call.at)
    latencies = sorted(
        (done - asked) * 1000
        for uid, asked_times in sent_at.items()
        for asked, done in zip(asked_times, replied[uid], strict=True)
    )
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    print(f"{users} users × {messages} messages = {total} replies in {elapsed:.2f} s")
    print(f"throughput: {total / elapsed:.0f} messages/s")
    print(f"latency (ms): p50 {statistics.median(latencies):.1f}, p99 {p99:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--messages", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(bench(args.users, args.messages))


if __name__ == "__main__":
    main()
