# Two entry points do all the set-up on a fresh machine (see README, Quickstart):
#   make simulate   install into .venv, simulate the default week, summarise it
#   make test       install into .venv, lint, type-check and run the tests
#   (CI also runs make test-locust: the tests that start real Locust processes)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install simulate test test-locust lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(STAMP)

simulate: $(STAMP)
	$(BIN)/abcsim simulate scenarios/abc_week.toml --out week.parquet

lint: $(STAMP)
	$(BIN)/ruff check abcsim tests bench
	$(BIN)/ruff format --check abcsim tests bench
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest

# real Locust processes (the suite's commands, master and workers): about 90 s, run by CI
test-locust: $(STAMP)
	$(BIN)/python -m pytest -m locust

bench: $(STAMP)
	$(BIN)/python bench/simulate.py
	$(BIN)/python bench/plan.py
	$(BIN)/python bench/calibration.py
	$(BIN)/python bench/replay.py

clean:
	rm -rf $(VENV) week.parquet
