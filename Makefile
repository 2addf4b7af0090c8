# Two entry points do all the set-up on a fresh machine (see README, Quickstart):
#   make demo       install into .venv, then the whole flow in about a minute (abcsim demo)
#   make test       install into .venv, lint, type-check and run the tests
#   (make simulate: the default week to week.parquet, summarised)
#   (CI also runs make test-slow, make test-locust, make test-notebooks and make test-system:
#   long statistical checks, real Locust processes, the notebooks executed, real servers)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

HTTPBIN := .venv-httpbin/.installed

.PHONY: install demo simulate test test-slow test-locust test-notebooks test-system httpbin lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(STAMP)

# httpbin under gunicorn, a server no one here wrote, echoing what replay sends. Its own
# venv: httpbin pins greenlet < 3 on Python < 3.12, which Locust's gevent cannot run with.
$(HTTPBIN):
	$(PYTHON) -m venv .venv-httpbin
	.venv-httpbin/bin/python -m pip install --quiet 'httpbin>=0.10' 'gunicorn>=22'
	touch $@

httpbin: $(HTTPBIN)

demo: $(STAMP)
	$(BIN)/abcsim demo

simulate: $(STAMP)
	$(BIN)/abcsim simulate scenarios/abc_week.toml --out week.parquet

lint: $(STAMP)
	$(BIN)/ruff check abcsim tests bench
	$(BIN)/ruff format --check abcsim tests bench
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest

# long statistical checks (several simulated weeks, queueing theory at a million requests):
# about 2 minutes, run by CI
test-slow: $(STAMP)
	$(BIN)/python -m pytest -m slow

# real Locust processes (the suite's commands, master and workers): about 90 s, run by CI
test-locust: $(STAMP)
	$(BIN)/python -m pytest -m locust

# the notebooks executed top to bottom in a kernel: about 45 s, run by CI
test-notebooks: $(STAMP)
	$(BIN)/python -m pytest -m notebooks

# replays killed mid-run, against nginx over TLS and httpbin under gunicorn: run by CI
test-system: $(STAMP) $(HTTPBIN)
	$(BIN)/python -m pytest -m system

bench: $(STAMP)
	$(BIN)/python bench/simulate.py
	$(BIN)/python bench/plan.py
	$(BIN)/python bench/plan_memory.py
	$(BIN)/python bench/calibration.py
	$(BIN)/python bench/replay.py

clean:
	rm -rf $(VENV) .venv-httpbin week.parquet demo
