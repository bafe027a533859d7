# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test audit lint format eval bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(PY) -m bot run

test: $(STAMP)
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
