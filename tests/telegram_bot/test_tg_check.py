"""The B12 check end to end: a user taps and types through the fake Bot API server.

Every message is compared with the pure state machine run on the same input (`Mirror`), and
the check's state is read back from the bot's SQLite file, as an operator would.
"""

from __future__ import annotations

import json
import time

import pytest
from botharness import BOTH_BACKENDS, RunningBot
from checkharness import (
    PROFILE,
    Mirror,
    Person,
    answer_all,
    answered,
    keyboard,
    labels,
    stored,
    stored_message,
)

from bot.core.check import CheckEngine, Status
from bot.core.engine import Engine
from bot.core.reply import ReplyKind
from bot.telegram import texts
from bot.telegram.check import LAST_SUMMARY
from bot.telegram.deps import Deps
from bot.telegram.flood import FloodGuard

pytestmark = BOTH_BACKENDS

URGENT_CANDIDATES = [
    "I have crushing chest pain and can't breathe",
    "my calf is swollen red and hot and really painful",
    "sudden weakness on one side of my face",
]


@pytest.fixture(autouse=True)
def tireless(bot: RunningBot) -> None:
    """These users tap through a whole check in a second: more than flood control allows."""
    assert bot.service.application is not None
    deps = bot.service.application.bot_data["b12_deps"]
    assert isinstance(deps, Deps)
    deps.flood = FloodGuard(limit=10_000)


async def moved_to(bot: RunningBot, user_id: int, message_id: int) -> None:
    """Wait until the check has recorded its new message (saved just after sending it)."""
    await bot.fake.wait_for(
        lambda: stored_message(bot, user_id) == message_id, f"check message {message_id} stored"
    )


async def start(
    bot: RunningBot, person: Person, check: CheckEngine, command: str = "/check"
) -> int:
    """Start a check; returns the id of its message (after checking it is question 1)."""
    before = len(person.sent())
    sent = await person.say(command)
    assert len(sent) == before + 1
    first = sent[-1]
    shown = check.render(check.start(0.0))
    assert first["html"] == shown.text
    assert labels(first) == [b.label for b in shown.buttons]
    await moved_to(bot, person.id, first["message_id"])
    return int(first["message_id"])


async def test_a_whole_check_by_buttons_is_one_message_edited_in_place(
    bot: RunningBot, check: CheckEngine
) -> None:
    ann = Person(bot.fake, 3001)
    message_id = await start(bot, ann, check)
    first = ann.message(message_id)
    ui = check.ui
    assert "Question 1 of " in first["text"]
    assert keyboard(first)[-1][0] == ui.button_stop
    assert ui.button_why in labels(first) and ui.button_back not in labels(first)
    rows = first["reply_markup"]["inline_keyboard"]
    assert [b["text"] for b in rows[-1]] == [ui.button_why, ui.button_stop]  # controls together

    mirror = Mirror(check)
    await ann.tap(message_id, "No")
    mirror.tap("No")
    second = ann.message(message_id)
    assert "Question 2 of " in second["text"]
    assert [b["text"] for b in second["reply_markup"]["inline_keyboard"][-1]] == [
        ui.button_back,
        ui.button_why,
        ui.button_stop,
    ]
    # Why? shows the reason in the same message; Back returns with the answer marked.
    await ann.tap(message_id, ui.button_why)
    mirror.tap(ui.button_why)
    assert ann.message(message_id)["html"] == mirror.reply().text
    assert check.spec.questions[1].why in ann.message(message_id)["html"]
    await ann.tap(message_id, ui.button_back)
    mirror.tap(ui.button_back)
    assert ann.message(message_id)["html"] == mirror.reply().text
    assert ui.selected_mark + "No" in labels(ann.message(message_id))
    assert answered(stored(bot, 3001)[0]) == []

    await answer_all(ann, mirror, message_id, PROFILE)
    assert len(ann.sent()) == 1  # the whole check was one message…
    assert not bot.fake.calls_to("editMessageText", ok=False)  # …edited without a refusal
    state, stored_id = stored(bot, 3001)
    assert state.status is Status.finished and stored_id == message_id
    assert answered(state) == answered(mirror.state)
    result = check.result(state)
    assert result.level == "b12_soon"
    assert ann.message(message_id)["html"] == result.text
    assert labels(ann.message(message_id)) == [ui.button_summary, ui.button_back]
    [(saved,)] = bot.rows("SELECT result FROM check_results WHERE user_id = 3001")
    assert json.loads(saved)["level"] == "b12_soon"

    # "Summary for my doctor" arrives as a new message; the result stays as it was.
    await ann.press(message_id, dict(keyboard(ann.message(message_id)))[ui.button_summary])
    sent = await bot.fake.wait_sent(3001, 2)
    assert sent[-1]["html"] == result.summary
    assert "Metformin" in sent[-1]["text"]
    assert ann.message(message_id)["html"] == result.text


async def test_typed_answers_move_the_check_on(bot: RunningBot, check: CheckEngine) -> None:
    ben = Person(bot.fake, 3002)
    message_id = await start(bot, ben, check, "start the check")
    mirror = Mirror(check)
    typed = [
        "nope",
        "n",
        "nah",
        "not sure",
        "No!",
        "no",
        "nope",
        "1",
        "any time",
        "2",
        "2",
        "y",
        "yes",
    ]
    for text in typed:
        await ben.type_answer(text)
        mirror.type(text)
        assert ben.message(message_id)["html"] == mirror.reply().text
    assert len(ben.sent()) == 1
    state, _ = stored(bot, 3002)
    assert answered(state) == answered(mirror.state)
    assert answered(state)[:4] == [
        ("rf_leg", ("no",)),
        ("rf_chest", ("no",)),
        ("rf_one_side", ("no",)),
        ("rf_dark_urine", ("unsure",)),
    ]
    assert answered(state)[-2:] == [("tingling", ("yes",)), ("tiredness", ("yes",))]
    # Typed commands work too.
    await ben.type_answer("back")
    assert stored(bot, 3002)[0].current == "tiredness"
    await ben.type_answer("stop")
    assert ben.message(message_id)["html"] == check.ui.stop_confirm
    await ben.type_answer("yes")  # "Yes, stop" — not a "yes" to the question
    assert ben.message(message_id)["html"] == check.ui.stopped
    assert stored(bot, 3002)[0].answers[-1].q == "tingling"
    assert "reply_markup" not in ben.message(message_id)
    assert bot.rows("SELECT kind FROM message_log WHERE user_id = 3002 AND kind = 'check'")


async def test_a_question_mid_check_gets_its_answer_and_a_continue_button(
    bot: RunningBot, engine: Engine, check: CheckEngine
) -> None:
    cat = Person(bot.fake, 3003)
    message_id = await start(bot, cat, check)
    mirror = Mirror(check)
    for _ in range(2):
        await cat.tap(message_id, "No")
        mirror.tap("No")
    question = "does salmon have b12"
    expected = engine.ask(question)
    sent = await cat.say(question, 2)
    answer = sent[-1]
    assert answer["html"] == expected.text
    buttons = keyboard(answer)
    assert [label for label, _ in buttons[:-1]] == [b.label for b in expected.buttons]
    assert buttons[-1][0] == check.ui.button_continue
    assert "reply_markup" not in cat.message(message_id)  # one live set of check buttons
    assert stored(bot, 3003)[1] is None

    await cat.press(answer["message_id"], buttons[-1][1])
    sent = await bot.fake.wait_sent(3003, 3)
    moved = sent[-1]
    assert moved["html"] == mirror.reply().text  # question 3, at the bottom of the chat
    await moved_to(bot, 3003, moved["message_id"])
    await cat.tap(moved["message_id"], "No")
    mirror.tap("No")
    assert cat.message(moved["message_id"])["html"] == mirror.reply().text
    assert len(cat.sent()) == 3  # answered in place
    assert answer["html"] == expected.text  # the answer message was left alone
    assert answered(stored(bot, 3003)[0]) == answered(mirror.state)


async def test_a_garbled_answer_asks_again(bot: RunningBot, check: CheckEngine) -> None:
    dan = Person(bot.fake, 3004)
    message_id = await start(bot, dan, check)
    await dan.type_answer("asdkjh qwpoeiru zmxncb")
    shown = dan.message(message_id)["html"]
    hint = check.not_understood(check.start(0.0))
    assert hint is not None and shown == hint.text
    assert len(dan.sent()) == 1
    assert not bot.rows("SELECT * FROM unanswered_questions")
    assert answered(stored(bot, 3004)[0]) == []


async def test_an_emergency_mid_check_gets_the_urgent_reply(
    bot: RunningBot, engine: Engine, check: CheckEngine
) -> None:
    eve = Person(bot.fake, 3005)
    message_id = await start(bot, eve, check)
    await eve.tap(message_id, "No")
    urgent = next(t for t in URGENT_CANDIDATES if engine.ask(t).kind is ReplyKind.urgent)
    sent = await eve.say(urgent, 2)
    assert sent[-1]["html"] == engine.ask(urgent).text
    state, _ = stored(bot, 3005)
    assert answered(state) == [("rf_leg", ("no",))] and state.status is Status.active


async def test_a_mild_typed_answer_to_a_safety_question_is_not_an_alarm(
    bot: RunningBot, engine: Engine, check: CheckEngine
) -> None:
    """A mild typed answer to the breathlessness question goes to the check (its own
    message is edited in place), not to the emergency reply."""
    gus = Person(bot.fake, 3011)
    message_id = await start(bot, gus, check)
    await gus.tap(message_id, "No")  # one swollen leg: no; now chest pain or breathlessness
    await gus.type_answer(
        "no, only a bit short of breath going up the stairs, getting worse with age"
    )
    assert len(gus.sent()) == 1
    assert engine.urgent.lines.call not in gus.message(message_id)["html"]
    state, _ = stored(bot, 3011)
    assert answered(state) == [("rf_leg", ("no",)), ("rf_chest", ("no",))]
    assert state.status is Status.active


async def test_stale_and_forged_presses_never_break_the_check(
    bot: RunningBot, check: CheckEngine
) -> None:
    fay = Person(bot.fake, 3006)
    message_id = await start(bot, fay, check)
    old_no = dict(keyboard(fay.message(message_id)))["No"]
    await fay.tap(message_id, "No")
    shown = fay.message(message_id)["html"]

    query = await fay.press(message_id, old_no)  # an old client taps question 1 again
    assert fay.toast(query) == check.ui.stale_notice
    await fay.press(message_id, old_no)
    token = stored(bot, 3006)[0].token
    for forged in ["q:zzzzzz:0:0", "q:abc", f"q:{token}:99:0", f"q:{token}:1:sum", "q:" + "9" * 60]:
        await fay.press(message_id, forged)
    await fay.say("/privacy")  # barrier: every press before it has been handled
    assert answered(stored(bot, 3006)[0]) == [("rf_leg", ("no",))]
    assert fay.message(message_id)["html"] == shown
    # Another check's token: "this check has ended". Malformed data: the check as it is.
    ended = [m for m in fay.sent() if m["html"] == check.ui.ended]
    assert len(ended) == 1
    assert not bot.fake.calls_to("sendMessage", ok=False)
    await fay.tap(message_id, "No")  # and the check goes on
    assert answered(stored(bot, 3006)[0]) == [("rf_leg", ("no",)), ("rf_chest", ("no",))]


async def _expire(bot: RunningBot, user_id: int) -> None:
    """Make the stored check look idle for 25 hours (through the storage API)."""
    storage = bot.service.storage
    assert storage is not None
    session = await storage.load_session(user_id, user_id)
    assert session is not None
    idle = time.time() - 25 * 3600
    state = dict(session.state) | {"started_at": idle - 60, "updated_at": idle}
    await storage.save_session(user_id, user_id, state, session.message_id)


async def test_an_idle_check_expires_and_says_so(bot: RunningBot, check: CheckEngine) -> None:
    gus = Person(bot.fake, 3007)
    message_id = await start(bot, gus, check)
    await gus.tap(message_id, "No")
    await _expire(bot, 3007)
    expired = check.ui.expired.format(hours=check.spec.settings.expire_after_hours)

    await gus.press(message_id, dict(keyboard(gus.message(message_id)))["No"])
    sent = await bot.fake.wait_sent(3007, 2)
    assert sent[-1]["html"] == expired
    assert "reply_markup" not in gus.message(message_id)
    state, _ = stored(bot, 3007)
    assert state.status is Status.expired and answered(state) == [("rf_leg", ("no",))]
    # Its buttons are dead now.
    query = await gus.press(message_id, f"q:{state.token}:1:1")
    assert gus.toast(query) == check.ui.ended
    sent = await bot.fake.wait_sent(3007, 3)
    assert sent[-1]["html"] == check.ui.ended
    # /check starts afresh.
    await start(bot, gus, check)
    assert answered(stored(bot, 3007)[0]) == []


async def test_an_idle_check_expires_on_the_next_typed_message(
    bot: RunningBot, engine: Engine, check: CheckEngine
) -> None:
    expired = check.ui.expired.format(hours=check.spec.settings.expire_after_hours)
    hal, ida = Person(bot.fake, 3008), Person(bot.fake, 3009)
    for person in (hal, ida):
        await start(bot, person, check)
        await _expire(bot, person.id)
    sent = await hal.say("no", 2)  # an answer to the expired question: only the notice
    assert sent[-1]["html"] == expired
    await hal.say("/privacy", 3)
    assert len(hal.sent()) == 3
    question = "does salmon have b12"
    sent = await ida.say(question, 3)  # a real question: the notice, then its answer
    assert [m["html"] for m in sent[-2:]] == [expired, engine.ask(question).text]
    assert check.ui.button_continue not in labels(sent[-1])
    assert stored(bot, 3009)[0].status is Status.expired


async def test_result_shows_the_last_result_with_its_summary(
    bot: RunningBot, engine: Engine, check: CheckEngine
) -> None:
    jo = Person(bot.fake, 3010)
    sent = await jo.say("/result", 1)
    assert sent[-1]["html"] == engine.message(texts.RESULT_NONE)
    message_id = await start(bot, jo, check)
    await answer_all(jo, Mirror(check), message_id, PROFILE)
    result = check.result(stored(bot, 3010)[0])
    await start(bot, jo, check)  # a new check does not hide the last result

    sent = await jo.say("/result")
    assert sent[-1]["html"] == result.text
    assert keyboard(sent[-1]) == [(check.ui.button_summary, LAST_SUMMARY)]
    await jo.press(sent[-1]["message_id"], LAST_SUMMARY)
    sent = await bot.fake.wait_sent(3010, len(sent) + 1)
    assert sent[-1]["html"] == result.summary


async def test_forget_deletes_check_answers_and_results(
    bot: RunningBot, engine: Engine, check: CheckEngine
) -> None:
    kim, lou = Person(bot.fake, 3011), Person(bot.fake, 3012)
    for person in (kim, lou):
        message_id = await start(bot, person, check)
        await answer_all(person, Mirror(check), message_id, {})
    running = await start(bot, kim, check)
    await kim.tap(running, "No")
    assert bot.rows("SELECT COUNT(*) FROM check_results WHERE user_id = 3011") == [(1,)]

    sent = await kim.say("/forget")
    assert sent[-1]["html"] == engine.message(texts.FORGET_DONE)
    for table in ("check_sessions", "check_results"):
        assert bot.rows(f"SELECT COUNT(*) FROM {table} WHERE user_id = 3011") == [(0,)]  # noqa: S608
        assert bot.rows(f"SELECT COUNT(*) FROM {table} WHERE user_id = 3012") == [(1,)]  # noqa: S608
    sent = await kim.say("/result")
    assert sent[-1]["html"] == engine.message(texts.RESULT_NONE)
    await kim.press(running, dict(keyboard(kim.message(running)))["No"])
    sent = await bot.fake.wait_sent(3011, len(sent) + 1)
    assert sent[-1]["html"] == check.ui.ended


async def test_cancel_stops_a_running_check(
    bot: RunningBot, engine: Engine, check: CheckEngine
) -> None:
    max_ = Person(bot.fake, 3013)
    message_id = await start(bot, max_, check)
    await max_.tap(message_id, "No")
    sent = await max_.say("/cancel")
    assert sent[-1]["html"] == engine.message(texts.CANCEL_DONE)
    assert max_.message(message_id)["html"] == check.ui.stopped
    assert "reply_markup" not in max_.message(message_id)
    assert stored(bot, 3013)[0].status is Status.stopped
    sent = await max_.say("/cancel")
    assert sent[-1]["html"] == engine.message(texts.CANCEL_NOTHING)


async def test_asking_for_the_check_mid_check_continues_it(
    bot: RunningBot, check: CheckEngine
) -> None:
    ned = Person(bot.fake, 3014)
    message_id = await start(bot, ned, check)
    mirror = Mirror(check)
    await ned.tap(message_id, "No")
    mirror.tap("No")
    sent = await ned.say("/check", 2)
    assert sent[-1]["html"] == mirror.reply().text  # question 2 again, nothing lost
    assert "reply_markup" not in ned.message(message_id)
    await moved_to(bot, 3014, sent[-1]["message_id"])
    assert answered(stored(bot, 3014)[0]) == [("rf_leg", ("no",))]


#: A man in his sixties on metformin and water tablets, typing every answer in his own words.
#: Earlier words for a question are hedges: each gets a short question back, nothing stored.
NATURAL = {
    "rf_leg": ["kinda", "no"],
    "rf_chest": ["no not really"],
    "rf_one_side": ["nah"],
    "rf_dark_urine": ["nope"],
    "rf_heat": ["no never"],
    "rf_wound": ["no"],
    "rf_quinine": ["dont think so"],
    "where": ["my calves and feet"],
    "when": ["usually at night"],
    "how_often": ["a couple of times a week"],
    "how_long": ["maybe 5 minutes"],
    "tingling": ["sometimes in my toes", "yeah i do"],
    "tiredness": ["yess"],
    "tongue": ["neither"],
    "memory": ["not really"],
    "balance": ["nope"],
    "vision": ["no"],
    "pale": ["no"],
    "age": ["im in my 60s"],
    "diet": ["i eat meat"],
    "medicines": ["i take metformin and water tablets"],
    "conditions": ["none of them"],
    "nitrous": ["never"],
    "alcohol": ["nah"],
    "lifestyle": ["none"],
}


async def test_a_whole_check_typed_in_natural_words(bot: RunningBot, check: CheckEngine) -> None:
    pat, ui = Person(bot.fake, 3015), check.ui
    message_id = await start(bot, pat, check)
    mirror = Mirror(check)
    while (view := mirror.view()) is not None:
        *hedges, answer = NATURAL[view.question.id]
        for text in [*hedges, answer]:
            step = check.handle_text(mirror.state, text, time.time())
            assert step is not None and step.state is not None, text
            await pat.type_answer(text)
            assert pat.message(message_id)["html"] == step.reply.text
            if text in hedges:
                assert step.state == mirror.state and step.reply.text.startswith(ui.ask_yes_no)
            else:
                assert len(step.state.answers) == len(mirror.state.answers) + 1, text
            mirror.state = step.state
    assert len(pat.sent()) == 1  # every answer, and every question back, in the one message
    state, _ = stored(bot, 3015)
    assert state.status is Status.finished and answered(state) == answered(mirror.state)
    assert dict(answered(state))["medicines"] == ("metformin", "diuretic")
    result = check.result(state)
    assert result.level == "b12_soon"
    assert pat.message(message_id)["html"] == result.text
    assert "You ticked: Water tablets (diuretics)." in result.text
    assert bot.rows("SELECT COUNT(*) FROM unanswered_questions") == [(0,)]


async def test_stop_asks_to_confirm(bot: RunningBot, check: CheckEngine) -> None:
    ui = check.ui
    quinn = Person(bot.fake, 3016)
    message_id = await start(bot, quinn, check)
    await quinn.tap(message_id, "No")
    await quinn.tap(message_id, ui.button_stop)
    shown = quinn.message(message_id)
    assert shown["html"] == ui.stop_confirm
    assert labels(shown) == [ui.button_stop_yes, ui.button_resume]
    assert stored(bot, 3016)[0].stopping
    await quinn.tap(message_id, ui.button_resume)
    mirror = Mirror(check)
    mirror.tap("No")
    assert quinn.message(message_id)["html"] == mirror.reply().text  # question 2 again
    await quinn.tap(message_id, ui.button_stop)
    await quinn.tap(message_id, ui.button_stop_yes)
    assert quinn.message(message_id)["html"] == ui.stopped
    state, _ = stored(bot, 3016)
    assert state.status is Status.stopped and answered(state) == [("rf_leg", ("no",))]
