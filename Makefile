# The two commands a new user needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Development, said explicitly: without APP_ENV=development the app starts as in production and refuses the
# development key (see README, Configuration).
FLASK = APP_ENV=development BASE_URL='$(BASE_URL)' $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000
# The address people open: where `make run` listens, unless BASE_URL is set (a proxy's https:// address, say).
# A server listening on every interface (0.0.0.0 or ::) is opened at 127.0.0.1 on this machine.
BIND_HOST = $(if $(findstring :,$(HOST)),[$(HOST)],$(HOST))
LOCAL_URL = http://$(if $(filter 0.0.0.0 ::,$(HOST)),127.0.0.1,$(BIND_HOST)):$(PORT)
BASE_URL ?= $(LOCAL_URL)

.PHONY: run test lint setup setup-dev db demo bench bench-dashboards clean lock test-tools
BENCH_POSTGRES_URL ?= postgresql://postgres@127.0.0.1:5432/newhorizons_bench

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

# Installs come from the locks only: every package pinned and checked against its hash, wheels only
# (pip itself is in the lock, so it is pinned too). requirements*.txt are the inputs of `make lock`.
# --no-deps: a lock names every package, so nothing is resolved at install time (docopt, which a locked package
# names but never imports, stays out: see requirements-excluded.txt).
PIP_INSTALL := $(BIN)/pip install --quiet --require-hashes --only-binary :all: --no-deps

$(VENV)/.installed: requirements.lock $(BIN)/activate
	$(PIP_INSTALL) -r requirements.lock
	touch $@

$(VENV)/.installed-dev: requirements-dev.lock $(VENV)/.installed
	$(PIP_INSTALL) -r requirements-dev.lock
	touch $@

## Re-resolve requirements*.txt into the hashed locks, keeping every pin that still fits (LOCK_ARGS=--upgrade to move them all)
# Resolved for the Python in .venv on this platform (Linux x86_64); the dev lock is held to the versions of the runtime one.
UV_COMPILE = $(BIN)/uv pip compile --quiet --python $(BIN)/python --generate-hashes --no-build \
	--excludes requirements-excluded.txt --custom-compile-command "make lock" $(LOCK_ARGS)
lock: $(VENV)/.installed-dev requirements-excluded.txt
	$(UV_COMPILE) requirements.txt -o requirements.lock
	$(UV_COMPILE) requirements-dev.txt --constraint requirements.lock -o requirements-dev.lock

# Browser libraries (barcode-detector and zxing-wasm, the scanner's decoder, served from node_modules) and the
# accessibility test's tools (axe-core, vnu-jar), pinned by package-lock.json. No install scripts: vnu-jar's
# would fetch a Java runtime.
node_modules/.installed: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

setup: $(VENV)/.installed node_modules/.installed

setup-dev: $(VENV)/.installed-dev node_modules/.installed

db: setup
	$(FLASK) db upgrade

demo: db
	$(FLASK) demo

## Set everything up and serve the demo on SQLite at http://127.0.0.1:5000 (HOST=… PORT=… to change it)
# One worker process with threads: rate limits are counted in memory, which is per process (see README).
run: demo
	@echo "Serving on $(LOCAL_URL)$(if $(filter-out $(LOCAL_URL),$(BASE_URL)), (links in emails: $(BASE_URL)))  (Ctrl-C to stop). Emails are written to instance/outbox/."
	MAIL_BACKEND=file $(FLASK) mail worker > instance/mail-worker.log 2>&1 & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	APP_ENV=development MAIL_BACKEND=file BASE_URL='$(BASE_URL)' $(BIN)/gunicorn --bind $(BIND_HOST):$(PORT) --workers 1 --threads 4 \
	  --access-logfile - --logger-class app.core.logs.GunicornLogger wsgi:app

## The habits: lint and format (ruff.toml), types (mypy.ini) and the layers (.importlinter)
lint: setup-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

## Set everything up, check the habits and run every test: the scanner's in Node, then pytest in TEST_PROCESSES processes (pytest-xdist)
# One for each core: three were no faster here, and the browser tests' timing suffers when the CPU is oversubscribed.
# Tests go out one at a time to whichever process is free, the longest first (tests/conftest.py, LONGEST_FIRST).
TEST_PROCESSES ?= 2
# Compiled modules are kept (in __pycache__, ignored by git) even where the environment says not to write them:
# otherwise every test process, server and command the tests start compiles the app and the tests afresh.
# First the scanner's own logic (keystrokes, event days, the queue: tests/js/*.test.mjs) in Node's test runner, with no
# browser and no npm package. The files are named by the shell: Node 21 and later take no folder after --test.
test: export PYTHONDONTWRITEBYTECODE =
test: lint test-tools
	node --test tests/js/*.test.mjs
	$(BIN)/python -m pytest -p no:cacheprovider -n $(TEST_PROCESSES) --maxschedchunk 1 $(PYTEST_ARGS)

# What the tests run beside Python: Debian's Chromium for the browser tests, in its headless build (CHROMIUM_PATH,
# /usr/lib/chromium/chromium-headless-shell from the chromium-headless-shell package by default), Java for the
# accessibility test's Nu checker, and nginx for the behind-a-proxy test. Where one is missing, it is installed
# with apt-get when this is Debian and we are root; elsewhere `make test` stops here with the one command to run,
# rather than skipping those tests.
CHROMIUM_PATH ?= /usr/lib/chromium/chromium-headless-shell
MISSING_TEST_TOOLS = $(strip $(if $(wildcard $(CHROMIUM_PATH)),,chromium-headless-shell fonts-dejavu-core) \
	$(if $(shell command -v java),,default-jre-headless) \
	$(if $(or $(shell command -v nginx),$(wildcard /usr/sbin/nginx)),,nginx-light))
test-tools:
	@if [ -n "$(MISSING_TEST_TOOLS)" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing what the tests need: $(MISSING_TEST_TOOLS)"; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(MISSING_TEST_TOOLS) >/dev/null; \
	  else \
	    echo "The tests need $(MISSING_TEST_TOOLS). Install them, then run make test again:"; \
	    echo "  sudo apt-get install $(MISSING_TEST_TOOLS)"; \
	    echo "(or set CHROMIUM_PATH to where Chromium is)"; exit 1; \
	  fi; \
	fi

clean:
	rm -rf $(VENV) instance node_modules

## Every benchmark on SQLite and PostgreSQL (the bench database is wiped): prints one JSON document
bench: setup-dev
	psql "$(dir $(BENCH_POSTGRES_URL))postgres" -qtc "SELECT 1 FROM pg_database WHERE datname = '$(notdir $(BENCH_POSTGRES_URL))'" | grep -q 1 \
	  || psql "$(dir $(BENCH_POSTGRES_URL))postgres" -qc "CREATE DATABASE $(notdir $(BENCH_POSTGRES_URL))"
	$(BIN)/python -m bench.run_all --postgres-url $(BENCH_POSTGRES_URL)

## The two dashboards at 1,000, 10,000 and 50,000 invitations, on SQLite: server CPU per request against the constant route
bench-dashboards: setup-dev
	$(BIN)/python -m bench.run_dashboards
