# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test postgres audit lint format eval bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Bytecode first: where PYTHONDONTWRITEBYTECODE is set (as in the Dockerfile), Python would
# compile every module from source on each start, ~0.2 s of the 1.5 s budget.
run: $(STAMP)
	$(PY) -m compileall -q bot
	$(PY) -m bot run

# The storage tests start a throwaway PostgreSQL server (tests/pgserver.py) from Debian's
# server binaries; install them on a machine that lacks them (root, apt-get).
POSTGRES_BIN := $(firstword $(wildcard /usr/lib/postgresql/*/bin/initdb))

postgres:
ifeq ($(POSTGRES_BIN),)
	@if [ -n "$$PG_BIN" ]; then exit 0; fi; \
	if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
		echo "installing PostgreSQL's server (Debian's postgresql package) for the tests"; \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >/dev/null || \
		{ apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >/dev/null; }; \
	else \
		echo "PostgreSQL's server binaries are missing: install Debian's postgresql package or set PG_BIN" >&2; exit 1; \
	fi
endif

test: $(STAMP) postgres
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/bandit -q -c pyproject.toml -r bot -b bandit-baseline.json
	$(PY) -m bot content check
	$(PY) -m pytest

# Known vulnerabilities in the installed packages. Needs the internet (PyPI's JSON API or
# OSV), so it is not part of `make test`; --strict fails rather than pass with every
# package skipped when the service can't be reached.
audit: $(STAMP)
	$(VENV)/bin/pip-audit --strict --skip-editable

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

eval: $(STAMP)
	$(PY) -m bot eval tests/data/eval.jsonl

bench: $(STAMP)
	$(PY) benchmarks/bench_match.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
