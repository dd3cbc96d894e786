# DispatchNode developer commands. `make help` lists them.
#
# Embedded default (nothing set): SQLite under var/, Celery tasks run in-process, DEBUG=1.
# Set DATABASE_URL / REDIS_URL to use PostgreSQL / Redis; set DEBUG=0 and SECRET_KEY (and the
# other production values, see README.md) to run with production settings.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
PORT ?= 8000
HOST ?= 127.0.0.1
# gunicorn: one process with a few threads keeps the embedded mode well under 400 MB resident.
WEB_WORKERS ?= 1
WEB_THREADS ?= 4
CELERY_CONCURRENCY ?= 2
# `make worker QUEUES=outbox`: the queues one worker consumes (dispatchnode/celery.py QUEUES).
QUEUES ?= default,outbox,integrations,routing
# Recycle each pool process after this many tasks (empty: the app's worker_max_tasks_per_child).
MAX_TASKS_PER_CHILD ?=
PYTEST_ARGS ?=
comma := ,

VPY := $(VENV)/bin/python
MANAGE := $(VPY) manage.py
STAMP := $(VENV)/.installed-dev

# A bare developer machine runs with DEBUG=1. If DEBUG or any production variable is set (in
# the environment or on the command line), debug is never switched on here: the settings then
# refuse to start without SECRET_KEY, FIELD_ENCRYPTION_KEY and REDIS_URL. Same rule as manage.py.
PRODUCTION_VARIABLES := DEBUG DATABASE_URL ALLOWED_HOSTS SECRET_KEY REDIS_URL
ifeq ($(strip $(foreach name,$(PRODUCTION_VARIABLES),$(filter-out undefined,$(origin $(name))))),)
export DEBUG := 1
endif
export PYTHONUNBUFFERED := 1
export PORT

.PHONY: help install run serve test worker beat lint format migrate seed shell schema clean

help: ## List the targets
	@echo "DispatchNode: make <target>"
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sort \
		| awk 'BEGIN {FS = ":.*## "}; {printf "  %-9s %s\n", $$1, $$2}'
	@echo
	@echo "Variables: PYTHON=$(PYTHON) PORT=$(PORT) PYTEST_ARGS='$(PYTEST_ARGS)'"
	@echo "           DATABASE_URL / REDIS_URL (unset: SQLite under var/, tasks in-process)"

# --- Virtualenv ---------------------------------------------------------------------------
$(VPY):
	@command -v $(PYTHON) >/dev/null 2>&1 || { \
		echo "error: '$(PYTHON)' not found. DispatchNode needs Python >= 3.11;" \
		     "install it or run e.g. 'make PYTHON=python3.12 ...'." >&2; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { \
		echo "error: DispatchNode needs Python >= 3.11, but '$(PYTHON)' is" \
		     "$$($(PYTHON) -c 'import platform; print(platform.python_version())')." \
		     "Run e.g. 'make PYTHON=python3.11 ...'." >&2; exit 1; }
	@echo "==> Creating virtualenv $(VENV) with $$($(PYTHON) -V 2>&1)"
	$(PYTHON) -m venv $(VENV)

# Re-installs only when pyproject.toml is newer than the stamp.
$(STAMP): pyproject.toml | $(VPY)
	@echo "==> Installing DispatchNode with dev extras into $(VENV)"
	$(VPY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(VPY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

install: $(STAMP) ## Create .venv and install the project with dev extras (when needed)

# --- Run ----------------------------------------------------------------------------------
run: install ## Migrate, seed the demo and serve on http://127.0.0.1:$PORT (default 8000)
	@echo "==> Migrating"
	$(MANAGE) migrate --noinput
	@echo "==> Collecting static files"
	$(MANAGE) collectstatic --noinput --verbosity 0
	@echo "==> Seeding the demo organisation (idempotent)"
	$(MANAGE) seed_demo
	@$(MAKE) --no-print-directory serve

serve: install ## Serve with gunicorn without migrating or seeding
	@echo "==> Serving DispatchNode on http://$(HOST):$(PORT)/  (admin: /admin/, API docs: /api/v1/docs/; Ctrl-C stops)"
	exec $(VENV)/bin/gunicorn dispatchnode.wsgi:application \
		--bind $(HOST):$(PORT) --workers $(WEB_WORKERS) --threads $(WEB_THREADS) \
		--worker-class gthread --timeout 30 --graceful-timeout 10 \
		--access-logfile - --error-logfile -

worker: install ## Celery worker on QUEUES (default: all four; e.g. QUEUES=outbox) (needs REDIS_URL)
	@test -n "$${REDIS_URL:-}" || { echo "error: 'make worker' needs REDIS_URL" \
		"(without it tasks already run in-process inside the web server)." >&2; exit 1; }
	exec $(VENV)/bin/celery -A dispatchnode worker -Q $(QUEUES) \
		--hostname $(subst $(comma),-,$(QUEUES))@%h --concurrency $(CELERY_CONCURRENCY) \
		--loglevel INFO$(if $(MAX_TASKS_PER_CHILD), --max-tasks-per-child $(MAX_TASKS_PER_CHILD))

beat: install ## Celery beat, the periodic schedule defined in dispatchnode/celery.py (needs REDIS_URL)
	@test -n "$${REDIS_URL:-}" || { echo "error: 'make beat' needs REDIS_URL." >&2; exit 1; }
	@mkdir -p "$${VAR_DIR:-var}"
	exec $(VENV)/bin/celery -A dispatchnode beat --loglevel INFO \
		--schedule "$${VAR_DIR:-var}/celerybeat-schedule"

# --- Quality ------------------------------------------------------------------------------
# Tests run on throwaway test_* databases, so DATABASE_URL/REDIS_URL there still mean DEBUG=1
# unless DEBUG was chosen.
test: install ## Run the whole test suite (DATABASE_URL/REDIS_URL when set); PYTEST_ARGS passes through
	@echo "==> pytest on $${DATABASE_URL:-SQLite}$${REDIS_URL:+ with Redis $$REDIS_URL}"
	DEBUG="$${DEBUG:-1}" $(VENV)/bin/pytest $(PYTEST_ARGS)

lint: install ## ruff check + ruff format --check + lint-imports (the layers in pyproject.toml)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

format: install ## Fix what ruff can fix and format the code
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# --- Database and tools -------------------------------------------------------------------
migrate: install ## Apply database migrations
	$(MANAGE) migrate --noinput

seed: install ## Seed the demo organisation (idempotent)
	$(MANAGE) seed_demo

shell: install ## Django shell
	$(MANAGE) shell

schema: install ## Write the OpenAPI schema to docs/openapi.yaml (fails on warnings)
	$(MANAGE) spectacular --validate --fail-on-warn --file docs/openapi.yaml
	@echo "==> Wrote docs/openapi.yaml"

clean: ## Remove .venv, caches and collected static files (keeps the SQLite data in var/)
	rm -rf $(VENV) .pytest_cache .ruff_cache build *.egg-info "$${VAR_DIR:-var}/staticfiles"
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
