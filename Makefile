# Two commands: `make run` (set up everything, then serve) and `make test` (set up, then the whole suite).
# `make run` installs requirements.txt only (what production gets); test, test-pg and lint add requirements-dev.txt.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
DEV := $(VENV)/.dev-installed
HTMX := static/vendor/htmx.min.js
PORT ?= 5000
DEMO_SERVICES ?= 2000
export FLASK_APP := app

.PHONY: run test test-pg lint setup migrate seed clean bench loadtest

run: setup
	$(BIN)/flask seed-demo --services $(DEMO_SERVICES)
	$(BIN)/flask run --host 127.0.0.1 --port $(PORT)

test: setup $(DEV)
	$(BIN)/python -m pytest

# The same suite against a throw-away PostgreSQL on loopback (needs the postgresql package).
test-pg: setup $(DEV)
	TEST_DATABASE_URL=$$(scripts/pg-test-server start) $(BIN)/python -m pytest

# ruff (style, imports, likely bugs) on the whole tree, then mypy --strict on the modules listed in pyproject.toml.
lint: $(DEV)
	$(BIN)/ruff check .
	$(BIN)/mypy

setup: $(VENV)/.installed $(HTMX) migrate

migrate: $(VENV)/.installed
	$(BIN)/alembic upgrade head

$(VENV)/.installed: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(DEV): requirements.txt requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

$(HTMX): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p static/vendor
	cp node_modules/htmx.org/dist/htmx.min.js $@

# Search latency at 35,000 and 350,000 services, indexed vs a LIKE scan (not part of `make test`; a few minutes).
# BENCH_DATABASE_URL=postgresql://… adds PostgreSQL (that database is wiped).
bench: $(VENV)/.installed
	$(BIN)/python scripts/bench_search.py

# Throughput and latency under gunicorn (2 workers) against a bare Flask page in the same run (not part of
# `make test`; about two minutes). LOADTEST_SECONDS, LOADTEST_USERS, LOADTEST_SERVICES; DATABASE_URL optional.
loadtest: setup
	$(BIN)/python scripts/loadtest.py

clean:
	rm -rf $(VENV) node_modules static/vendor
