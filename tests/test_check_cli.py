"""The B12 check outside Telegram: a whole check in `python -m bot chat` through stdin, and
invalid questionnaire content stopping `content check` and `serve`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

from bot.cli.check import button, numbers
from bot.cli.render import to_terminal
from bot.content.questionnaire import load_questionnaire
from bot.core.check import CheckEngine, QuestionView, State
from bot.core.engine import Engine

REPO = Path(__file__).resolve().parents[1]
CONTENT = REPO / "content"
CHECK = CheckEngine(load_questionnaire(CONTENT))
#: A 67-year-old on metformin with numb feet (and diabetes): "worth asking a doctor soon".
PROFILE = {
    "age": ("age_51_74",),
    "tingling": ("yes",),
    "medicines": ("metformin",),
    "conditions": ("diabetes",),
}


def run(
    *args: str, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        check=False,
        timeout=120,
    )


def typed_answer(view: QuestionView) -> str:
    """What a person types: the options' labels. (A bare number would press that button —
    on a multi-choice question, tick that option.)"""
    wanted = PROFILE.get(view.question.id)
    visible = [o.option for o in view.options]
    if wanted is None:
        ids = [o.id for o in visible]
        wanted = next(((c,) for c in ("no", "none", "neither", "meat_fish") if c in ids), None)
    if wanted is None:
        wanted = (visible[0].id,)
    return ", ".join(o.label for o in visible if o.id in wanted)


def plan() -> tuple[list[str], State]:
    """The lines of a whole check, and the state the pure engine reaches on them."""
    state = CHECK.start(time.time())
    lines = []
    while isinstance(view := CHECK.step(state), QuestionView):
        line = typed_answer(view)
        step = CHECK.handle_text(state, line, time.time())
        assert step is not None and step.state is not None, line
        lines.append(line)
        state = step.state
    return lines, state


def test_a_whole_check_in_the_console() -> None:
    engine = Engine.load(CONTENT)
    answers, final = plan()
    question = "does salmon have b12"
    # Start, answer two, ask why, ask a question, continue, answer the rest, then the
    # summary button (1), then /result.
    lines = ["/check", *answers[:2], "why", question, "continue", *answers[2:], "1", "/result"]
    out = run("chat", stdin="\n".join(lines) + "\n/quit\n")
    assert out.returncode == 0, out.stderr
    shown = out.stdout
    result = CHECK.result(final)
    assert result.level == "b12_soon"
    assert to_terminal(CHECK.render(CHECK.start(0.0)).text, False) in shown
    assert CHECK.spec.questions[2].why in shown
    assert to_terminal(engine.ask(question).text, False) in shown
    assert f"] {CHECK.ui.button_continue}" in shown
    assert shown.count(to_terminal(result.text, False)) == 2  # the result, and /result
    assert to_terminal(result.summary, False) in shown
    assert "Question 1 of " in shown and "<b>" not in shown


def test_asking_for_the_check_in_the_console_starts_it() -> None:
    out = run("chat", stdin="start the check\nnah\nstop\nyes\n/check\n/quit\n")
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("Question 1 of ") == 2  # started, stopped, started afresh
    assert "Question 2 of " in out.stdout
    assert to_terminal(CHECK.ui.stopped, False) in out.stdout


#: A 34-year-old vegan runner, typing every answer in their own words (no button numbers).
#: Earlier words for a question are hedges, which get a short question back.
NATURAL = {
    "rf_leg": ["no"],
    "rf_chest": ["nope"],
    "rf_one_side": ["nah"],
    "rf_dark_urine": ["no never"],
    "rf_heat": ["nope"],
    "rf_wound": ["No."],
    "rf_quinine": ["nah"],
    "where": ["sometimes in my toes"],
    "when": ["mostly after running"],
    "how_often": ["most nights"],
    "how_long": ["a few seconds"],
    "tingling": ["kinda", "yes, in my toes"],
    "tiredness": ["yess"],
    "tongue": ["nope"],
    "memory": ["no"],
    "balance": ["no"],
    "vision": ["no"],
    "pale": ["not really"],
    "age": ["I'm 34"],
    "diet": ["vegan mostly"],
    "fortified": ["sort of", "no i dont"],
    "plant_pregnancy": ["neither"],
    "medicines": ["none"],
    "conditions": ["neither"],
    "nitrous": ["no"],
    "alcohol": ["no"],
    "lifestyle": ["dehydrated and running"],
}


def natural_plan() -> tuple[list[str], State]:
    """Every line typed, checked on the pure engine: hedges change nothing, the last word
    for each question answers it."""
    state = CHECK.start(time.time())
    lines = []
    while isinstance(view := CHECK.step(state), QuestionView):
        *hedges, answer = NATURAL[view.question.id]
        for hedge in hedges:
            step = CHECK.handle_text(state, hedge, time.time())
            assert step is not None and step.state == state, hedge
        step = CHECK.handle_text(state, answer, time.time())
        assert step is not None and step.state is not None, answer
        assert len(step.state.answers) == len(state.answers) + 1, answer
        lines += [*hedges, answer]
        state = step.state
    return lines, state


def test_a_whole_check_typed_in_natural_words_in_the_console() -> None:
    lines, final = natural_plan()
    answers = {a.q: a.o for a in final.answers}
    assert answers["where"] == ("calves_feet",) and answers["when"] == ("exercise",)
    assert answers["lifestyle"] == ("fluids_sweat", "hard_exercise")
    out = run("chat", stdin="\n".join(["/check", *lines, "/result"]) + "\n/quit\n")
    assert out.returncode == 0, out.stderr
    result = CHECK.result(final)
    assert result.level == "b12_soon"
    assert out.stdout.count(to_terminal(result.text, False)) == 2  # the result, and /result
    assert out.stdout.count(to_terminal(CHECK.ui.ask_yes_no, False)) == 2
    assert to_terminal(CHECK.ui.not_understood.split("{")[0], False) not in out.stdout


def test_console_numbers_stay_put_and_stop_asks_first() -> None:
    """Q1 has no Back: Why? and Stop keep the numbers they have on every yes/no question."""
    ui = CHECK.ui
    lines = ["/check", "2", "5", "4", "2", "6", "2", "stop", "1"]
    out = run("chat", stdin="\n".join(lines) + "\n/quit\n")
    assert out.returncode == 0, out.stderr
    shown = out.stdout
    assert shown.count(f"[5] {ui.button_why}") >= 3  # question 1, question 2, 1 again
    assert shown.count(f"[6] {ui.button_stop}") >= 4
    assert f"[4] {ui.button_back}" in shown and f"[4] {ui.button_why}" not in shown
    assert f"[2] {ui.selected_mark}No" in shown  # after Back, "No" is still 2
    assert shown.count(ui.stop_confirm) == 2
    assert f"[1] {ui.button_stop_yes}" in shown and f"[2] {ui.button_resume}" in shown
    assert shown.rstrip().endswith(f"you> {to_terminal(ui.stopped, False)}\nyou>")


def walk_to(question_id: str, profile: dict[str, tuple[str, ...]]) -> State:
    """Answer from `profile`, else "No" or the like, until `question_id` is asked."""
    state = CHECK.start(time.time())
    while isinstance(view := CHECK.step(state), QuestionView) and view.question.id != question_id:
        ids = [o.option.id for o in view.options]
        usual = next(((c,) for c in ("no", "none", "neither", "meat_fish") if c in ids), ids[:1])
        moved = CHECK.answer(state, view.question.id, profile.get(view.question.id) or usual)
        assert isinstance(moved, State)
        state = moved
    return state


def test_an_option_keeps_its_number_when_another_is_hidden() -> None:
    """At 78 "Pregnant" is not offered; the options after it keep their numbers."""
    numbered = {}
    for age in ("under_51", "age_75"):
        reply = CHECK.render(walk_to("lifestyle", {"age": (age,)}))
        labels = [b.label for b in reply.buttons]
        numbered[age] = dict(zip(labels, numbers(CHECK, reply.buttons), strict=True))
        back_pain = next(b for b in reply.buttons if b.label.startswith("Back pain"))
        assert button(CHECK, reply, str(numbered[age][back_pain.label])) == back_pain.action
    young, old = numbered["under_51"], numbered["age_75"]
    assert "Pregnant" in young and "Pregnant" not in old
    assert {label: n for label, n in young.items() if label != "Pregnant"} == old


def _broken_content(tmp_path: Path) -> Path:
    content = tmp_path / "content"
    shutil.copytree(CONTENT, content)
    path = content / "questionnaire.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["questions"][9]["options"][0]["sources"] = ["no_such_source"]
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return content


def test_content_check_reports_questionnaire_problems(tmp_path: Path) -> None:
    assert run("content", "check").returncode == 0
    out = run("--content", str(_broken_content(tmp_path)), "content", "check")
    assert out.returncode == 1
    assert "questionnaire.yaml" in out.stdout
    assert "unknown source 'no_such_source'" in out.stdout


def test_serve_refuses_invalid_questionnaire_content(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "WEBHOOK_"))}
    env |= {
        "TELEGRAM_BOT_TOKEN": "123456789:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "TELEGRAM_API_BASE_URL": "http://127.0.0.1:9/bot",  # never reached
        "DATABASE_PATH": str(tmp_path / "bot.sqlite3"),
        "MODE": "polling",
    }
    out = run("--content", str(_broken_content(tmp_path)), "serve", env=env)
    assert out.returncode == 1
    assert "unknown source 'no_such_source'" in out.stderr
    assert not (tmp_path / "bot.sqlite3").exists()


def test_a_typed_message_mid_check_is_decided_once_for_every_window(engine: Engine) -> None:
    """`CheckEngine.read_typed` is the one decision the console and Telegram apply: an answer
    moves the check on, a garbled one is asked again, a question of its own is answered with a
    button back to the check (and the check message detached), an emergency always wins."""
    now = time.time()
    state = CHECK.start(now)
    answer = CHECK.read_typed(state, "no", engine.ask("no"), now)
    assert answer.answer is None and answer.step is not None and answer.step.state != state
    question = "why do I get cramps at night"
    asked = CHECK.read_typed(state, question, engine.ask(question), now)
    assert asked.step is None and asked.detach and asked.answer is not None
    assert asked.answer.buttons[-1] == CHECK.continue_button(state)
    garbled = CHECK.read_typed(state, "zzqx", engine.ask("zzqx"), now)
    assert garbled.hint is not None and garbled.answer is None
    urgent = engine.ask("i have crushing chest pain and cant breathe")
    assert CHECK.read_typed(state, "chest", urgent, now).answer is urgent
    assert CHECK.read_typed(None, question, engine.ask(question), now).answer is not None
