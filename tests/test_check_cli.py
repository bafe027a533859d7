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
    out = run("chat", stdin="start the check\nnah\nstop\n/check\n/quit\n")
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("Question 1 of ") == 2  # started, stopped, started afresh
    assert "Question 2 of " in out.stdout
    assert to_terminal(CHECK.ui.stopped, False) in out.stdout


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
