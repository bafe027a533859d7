"""Docker cannot run here, so the Dockerfile is checked by reading it next to the Makefile:
both must install the project from pyproject.toml (every dependency pinned) and start it
with `python -m bot` — the Dockerfile with `serve`, which is what `make run` runs once a
token is set (checked by running both commands)."""

from __future__ import annotations

import fnmatch
import importlib.util
import os
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path, PurePosixPath

import pytest

REPO = Path(__file__).resolve().parents[1]


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined and comments dropped."""
    lines: list[str] = []
    pending = ""
    for raw in (REPO / "Dockerfile").read_text("utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        lines.append(pending + line)
        pending = ""
    out = []
    for line in lines:
        instruction, _, args = line.partition(" ")
        out.append((instruction.upper(), args.strip()))
    return out


def docker(instruction: str) -> list[str]:
    return [args for name, args in dockerfile() if name == instruction]


def exec_form(args: str) -> list[str]:
    """A JSON exec-form array, or a shell-form command split like a shell would."""
    import json

    return json.loads(args) if args.startswith("[") else shlex.split(args)


def makefile_recipe(target_pattern: str) -> list[str]:
    """The recipe lines of the first Makefile rule whose target matches."""
    lines = (REPO / "Makefile").read_text("utf-8").splitlines()
    for index, line in enumerate(lines):
        if re.match(rf"^{target_pattern}\s*:", line):
            recipe = []
            for body in lines[index + 1 :]:
                if not body.startswith("\t"):
                    break
                recipe.append(body.strip())
            return recipe
    raise AssertionError(f"no Makefile rule for {target_pattern}")


def pip_targets(command: str) -> list[str]:
    """What a `pip install` command installs (options dropped, extras stripped)."""
    words = shlex.split(command)
    start = words.index("install") + 1
    targets = [w for w in words[start:] if not w.startswith("-")]
    return [re.sub(r"\[.*\]$", "", t) for t in targets]


def bot_command(words: list[str]) -> list[str]:
    """The arguments after `-m bot`."""
    index = words.index("-m")
    assert words[index + 1] == "bot", words
    return words[index + 2 :]


def env_vars() -> dict[str, str]:
    values: dict[str, str] = {}
    for args in docker("ENV"):
        for word in shlex.split(args):
            key, _, value = word.partition("=")
            values[key] = value
    return values


def test_base_image_is_slim_python_the_project_supports() -> None:
    [base] = docker("FROM")
    match = re.fullmatch(r"python:(\d+)\.(\d+)-slim(?:-\w+)?", base)
    assert match, base
    project = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["project"]
    minimum = re.fullmatch(r">=(\d+)\.(\d+)", project["requires-python"])
    assert minimum
    assert tuple(map(int, match.groups())) >= tuple(map(int, minimum.groups()))


def test_installs_the_project_like_the_makefile_with_pinned_dependencies() -> None:
    make_installs = [line for line in makefile_recipe(r"\$\(STAMP\)") if "pip install" in line]
    make_targets = {t for line in make_installs for t in pip_targets(line)} - {"pip"}
    docker_installs = [args for args in docker("RUN") if "pip install" in args]
    docker_targets = {t for args in docker_installs for t in pip_targets(args)}
    assert make_targets == {"."}
    assert docker_targets == {"."}  # the project itself, nothing installed on the side
    project = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["project"]
    for requirement in project["dependencies"]:
        assert re.fullmatch(r"[A-Za-z0-9_.\-]+(\[[\w,-]+\])?==[\w.]+", requirement), requirement


def test_copies_what_pip_install_and_the_bot_need() -> None:
    copied = set()
    for args in docker("COPY"):
        sources = exec_form(args)[:-1]
        copied |= {s.rstrip("/") for s in sources}
    project = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["project"]
    needed = {"pyproject.toml", project["readme"], "bot", "content"}
    assert needed <= copied
    for path in needed:
        assert (REPO / path).exists(), f"{path} is copied into the image but does not exist"
    ignored = [
        line.strip()
        for line in (REPO / ".dockerignore").read_text("utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for path in needed:
        assert not any(fnmatch.fnmatch(path, pattern.rstrip("/")) for pattern in ignored), path
    for secret in (".env", ".venv", "data"):
        assert any(fnmatch.fnmatch(secret, p.rstrip("/")) for p in ignored), secret


def test_starts_with_python_m_bot_serve_like_make_run() -> None:
    [cmd] = docker("CMD")
    words = exec_form(cmd)
    assert words[0] == "python"
    assert bot_command(words) == ["serve"]
    [run_line] = [line for line in makefile_recipe("run") if "-m bot" in line]
    assert bot_command(shlex.split(run_line.replace("$(PY)", "python"))) in (["run"], ["serve"])


@pytest.mark.parametrize("command", ["run", "serve"])
def test_make_runs_command_reaches_the_same_serve(command: str, tmp_path: Path) -> None:
    """`python -m bot run` with a token is `serve`: both reject the same bad setting the same
    way (exit 2, one line), which only serve() does."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "WEBHOOK_"))}
    env |= {"TELEGRAM_BOT_TOKEN": "123456789:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}
    env |= {"WEBHOOK_PORT": "70000", "MODE": "polling"}
    result = subprocess.run(
        [sys.executable, "-m", "bot", command],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert "WEBHOOK_PORT" in result.stderr


def test_runs_as_a_non_root_user() -> None:
    users = docker("USER")
    assert users, "no USER instruction"
    assert users[-1].split(":")[0] not in ("root", "0")
    assert any("useradd" in args and users[-1] in args for args in docker("RUN"))


def test_database_lives_in_a_volume() -> None:
    database = PurePosixPath(env_vars()["DATABASE_PATH"])
    volumes = [v for args in docker("VOLUME") for v in exec_form(args)]
    assert str(database.parent) in volumes


def test_healthcheck_runs_a_module_that_exists() -> None:
    [check] = docker("HEALTHCHECK")
    assert check.startswith("--") or check.startswith("CMD")
    words = exec_form(check.split("CMD", 1)[1].strip())
    assert words[:2] == ["python", "-m"]
    assert importlib.util.find_spec(words[2]) is not None


def test_stops_with_sigterm_and_content_sits_where_the_bot_looks() -> None:
    assert docker("STOPSIGNAL") == ["SIGTERM"]
    [workdir] = docker("WORKDIR")
    destinations = {exec_form(args)[-1].rstrip("/") for args in docker("COPY")}
    # content_dir() looks next to the bot package: both are copied into the WORKDIR.
    assert {"bot", "content"} <= destinations
    assert workdir == "/app"
