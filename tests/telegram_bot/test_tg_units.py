"""The Telegram window's small parts on their own: flood guard, per-chat ordering,
callback data, log redaction, texts."""

from __future__ import annotations

import asyncio
import io
import logging
from pathlib import Path

import pytest
import yaml
from telegram import Chat, Message, Update, User

from bot.core.engine import Engine
from bot.telegram import callbacks, texts
from bot.telegram.flood import FloodGuard, Verdict
from bot.telegram.redact import MASK, RedactingFilter
from bot.telegram.serial import PerChatUpdateProcessor, chat_key

REPO = Path(__file__).resolve().parents[2]
TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"  # noqa: S105 - made up


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# -- flood ------------------------------------------------------------------------------------


def test_flood_guard_warns_once_then_drops_until_the_burst_ends() -> None:
    clock = Clock()
    guard = FloodGuard(limit=20, window=10.0, clock=clock)
    verdicts = []
    for _ in range(25):
        verdicts.append(guard.check(1))
        clock.now += 0.1
    assert verdicts[:20] == [Verdict.allow] * 20
    assert verdicts[20] == Verdict.warn
    assert verdicts[21:] == [Verdict.drop] * 4
    assert guard.check(2) is Verdict.allow  # other users are not affected
    clock.now += 10.0  # the burst is over
    assert guard.check(1) is Verdict.allow


def test_a_user_who_keeps_hammering_stays_silenced() -> None:
    clock = Clock()
    guard = FloodGuard(limit=20, window=10.0, clock=clock)
    seen = []
    for _ in range(200):  # 4 a second for 50 seconds
        seen.append(guard.check(1))
        clock.now += 0.25
    assert seen.count(Verdict.warn) == 1
    assert Verdict.allow not in seen[21:]


def test_twenty_a_window_is_fine_forever() -> None:
    clock = Clock()
    guard = FloodGuard(limit=20, window=10.0, clock=clock)
    for _ in range(500):
        assert guard.check(1) is Verdict.allow
        clock.now += 0.5


def test_flood_guard_forgets_idle_users() -> None:
    clock = Clock()
    guard = FloodGuard(limit=20, window=10.0, clock=clock)
    for user in range(999):
        guard.check(user)
    clock.now += 60
    guard.check(5000)  # the 1000th check sweeps
    assert len(guard._hits) == 1


# -- per-chat processor -----------------------------------------------------------------------


def update(update_id: int, chat_id: int) -> Update:
    user = User(chat_id, "U", is_bot=False)
    chat = Chat(chat_id, Chat.PRIVATE)
    message = Message(update_id, None, chat, from_user=user, text="x")  # type: ignore[arg-type]
    return Update(update_id, message=message)


async def test_one_chat_in_order_different_chats_concurrently() -> None:
    processor = PerChatUpdateProcessor(64)
    finished: list[tuple[int, int]] = []
    b_started = asyncio.Event()

    async def work(chat: int, n: int, delay: float) -> None:
        if chat == 2:
            b_started.set()
        if (chat, n) == (1, 0):
            # Chat 1's first update waits until chat 2 runs: only possible concurrently.
            await asyncio.wait_for(b_started.wait(), 5)
        await asyncio.sleep(delay)
        finished.append((chat, n))

    tasks = []
    for n, delay in enumerate([0.05, 0.0, 0.02, 0.0]):
        tasks.append(asyncio.create_task(processor.process_update(update(n, 1), work(1, n, delay))))
    tasks.append(asyncio.create_task(processor.process_update(update(99, 2), work(2, 0, 0.0))))
    await asyncio.gather(*tasks)
    assert [n for chat, n in finished if chat == 1] == [0, 1, 2, 3]
    assert finished.index((2, 0)) < finished.index((1, 0))
    assert processor.active_chats == 0  # locks are released


def test_chat_key() -> None:
    assert chat_key(update(1, 77)) == 77
    assert chat_key(object()) is None


# -- callback data ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        ("i:night_cramps", callbacks.Kind.engine),
        ("f:salmon", callbacks.Kind.engine),
        ("n:17", callbacks.Kind.none_of_these),
        ("q:3:yes", callbacks.Kind.check),
        ("lab:b12:180:pg", callbacks.Kind.engine),
        ("lab:mma:0.271:umol", callbacks.Kind.engine),
        ("fg:fish", callbacks.Kind.engine),
        ("fg:menu", callbacks.Kind.engine),
        ("ls:pregnancy", callbacks.Kind.life_stage),
        ("ls:", callbacks.Kind.malformed),
        ("ls:Pregnancy", callbacks.Kind.malformed),
        ("lab:b12:180", callbacks.Kind.malformed),
        ("lab:b12:18<0:pg", callbacks.Kind.malformed),
        ("fg:", callbacks.Kind.malformed),
        ("n:0", callbacks.Kind.malformed),
        ("n:-1", callbacks.Kind.malformed),
        ("n:12abc", callbacks.Kind.malformed),
        ("i:Night", callbacks.Kind.malformed),
        ("i:", callbacks.Kind.malformed),
        ("none", callbacks.Kind.malformed),
        ("", callbacks.Kind.malformed),
        (None, callbacks.Kind.malformed),
        ("i:" + "a" * 63, callbacks.Kind.malformed),
        ("é" * 33, callbacks.Kind.malformed),
    ],
)
def test_callback_data_is_classified(data: str | None, kind: callbacks.Kind) -> None:
    assert callbacks.parse(data).kind is kind


def test_none_of_these_round_trips() -> None:
    press = callbacks.parse(callbacks.none_of_these(123456789))
    assert press.pending_id == 123456789
    assert len(callbacks.none_of_these(2**62).encode()) <= callbacks.MAX_BYTES


def test_every_engine_action_fits_in_callback_data(engine: Engine) -> None:
    actions = [f"i:{i}" for i in engine.content.intents] + [f"f:{f}" for f in engine.content.foods]
    menu = engine.act("fg:menu")
    assert menu is not None and menu.buttons
    actions += [b.action for b in menu.buttons]
    for action in actions:
        assert callbacks.parse(action).kind is callbacks.Kind.engine, action


def test_life_stage_and_unit_buttons_are_accepted(engine: Engine) -> None:
    """Every button the personal tools put under a reply survives `callbacks.parse`."""
    meal = engine.count_intake("2 eggs and a glass of milk")  # no stage known: stage buttons
    assert meal is not None
    stages = [b.action for b in meal.buttons if b.action.startswith("ls:")]
    assert stages
    for action in stages:
        press = callbacks.parse(action)
        assert press.kind is callbacks.Kind.life_stage and f"ls:{press.data}" == action
    lab = engine.ask("my b12 came back 180")
    units = [b.action for b in lab.buttons if b.action.startswith("lab:")]
    assert units
    for action in units:
        assert callbacks.parse(action).kind is callbacks.Kind.engine, action


# -- log redaction ----------------------------------------------------------------------------


def logger_with_filter(secrets: list[str]) -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter(secrets))
    log = logging.getLogger(f"redact-test-{id(stream)}")
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)
    log.propagate = False
    return log, stream


def test_token_is_redacted_from_messages_arguments_and_tracebacks() -> None:
    log, stream = logger_with_filter([TOKEN, "webhook-secret"])
    log.info('HTTP Request: POST https://api.telegram.org/bot%s/getMe "200 OK"', TOKEN)
    log.warning("secret header was %s", "webhook-secret")
    try:
        raise RuntimeError(f"cannot reach https://api.telegram.org/bot{TOKEN}/sendMessage")
    except RuntimeError:
        log.exception("failed")
    log.info("another bot 987654321:ZZZdqTcvCH1vGWJxfSeofSAs0K5PALDsaw leaked")
    output = stream.getvalue()
    assert TOKEN not in output
    assert TOKEN.split(":")[1] not in output
    assert "webhook-secret" not in output
    assert "ZZZdqTcvCH1vGWJxfSeofSAs0K5PALDsaw" not in output
    assert output.count(MASK) == 4
    assert "RuntimeError" in output  # the traceback is kept, only masked


def test_bad_format_arguments_do_not_break_logging() -> None:
    log, stream = logger_with_filter([TOKEN])
    log.info("%s %s", TOKEN)  # one argument short
    assert TOKEN not in stream.getvalue()


# -- texts ------------------------------------------------------------------------------------


def test_every_text_the_window_uses_exists(engine: Engine) -> None:
    assert texts.missing_texts(engine) == []


def test_telegram_texts_live_in_their_own_prefixed_file() -> None:
    data = yaml.safe_load((REPO / "content" / "messages" / "telegram.yaml").read_text("utf-8"))
    assert all(key.startswith("tg_") for key in data)
    assert set(texts.required_keys()) <= set(data)
    for name, command in ((c, texts.command_key(c)) for c in texts.ADMIN_COMMANDS):
        assert 1 <= len(data[command]) <= 256, name  # Telegram's limit on descriptions


def test_menu_actions_and_commands_resolve(engine: Engine) -> None:
    from bot.telegram.app import startup_problems

    assert startup_problems(engine) == []
