# Tango Portal. `make run` serves the demo; `make test` runs every check.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

# The first Python 3.12+ found: PYTHON if given, python3.13/3.12 on PATH, then pyenv's.
PYTHON ?= $(shell for p in python3.13 python3.12 $$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.1[2-9]*/bin/python 2>/dev/null | sort -rV) python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null && { command -v $$p; break; }; done)

.PHONY: help venv run serve test lint format migrate seed screenshots bench clean

help:
	@echo "make run          set up, migrate, seed the demo team and serve on http://$(HOST):$(PORT)/"
	@echo "make serve        the production configuration (gunicorn, debug off) on http://$(HOST):$(PORT)/"
	@echo "make test         set up and run every check (lint, type check, tests)"
	@echo "make lint         ruff and mypy"
	@echo "make screenshots  save PNGs of the main pages under docs/screenshots/"
	@echo "make bench        run the benchmarks in bench/"

$(VENV)/.installed: pyproject.toml
	@if [ -z "$(PYTHON)" ]; then echo "error: Python 3.12 or newer is needed; install python3.12 or python3.13, or pass PYTHON=/path/to/python3.12" >&2; exit 1; fi
	@echo "Using $(PYTHON) ($$($(PYTHON) --version))"
	@if [ -x $(PY) ] && ! $(PY) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)'; then rm -rf $(VENV); fi
	@[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet '.[dev]'
	@touch $@

venv: $(VENV)/.installed

migrate: venv
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} $(PY) manage.py migrate --noinput

seed: migrate
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} $(PY) manage.py seed_demo

run: seed
	@echo ""
	@echo "Serving the portal on http://$(HOST):$(PORT)/  (Ctrl-C stops it)"
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} $(PY) manage.py runserver $(HOST):$(PORT)

# The production configuration on this machine: `check --deploy` as a deployment has it,
# collectstatic, migrate, then gunicorn (gunicorn.conf.py) with debug off and WhiteNoise.
# Only here: plain HTTP on $(HOST):$(PORT) (no redirect to HTTPS), those two host names,
# and a throwaway signing key when DJANGO_SECRET_KEY is unset (a new one each run).
serve: venv
	@set -euo pipefail; \
	if [ -z "$${DJANGO_SECRET_KEY:-}" ]; then \
		echo "warning: DJANGO_SECRET_KEY is unset: using a throwaway key made for this run (sign-ins end when it stops)" >&2; \
		DJANGO_SECRET_KEY="$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))')"; \
	fi; \
	export DJANGO_SECRET_KEY DJANGO_DEBUG=0 DJANGO_ALLOWED_HOSTS=127.0.0.1,localhost; \
	DJANGO_SECURE_SSL_REDIRECT=1 $(PY) manage.py check --deploy --fail-level WARNING; \
	export DJANGO_SECURE_SSL_REDIRECT=0 GUNICORN_BIND=$(HOST):$(PORT); \
	$(PY) manage.py collectstatic --noinput -v0; \
	$(PY) manage.py migrate --noinput; \
	echo "Serving the production configuration on http://$(HOST):$(PORT)/  (Ctrl-C stops it)" >&2; \
	exec $(VENV)/bin/gunicorn -c gunicorn.conf.py tango_portal.wsgi

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	DJANGO_DEBUG=1 $(VENV)/bin/mypy .

format: venv
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

test: venv lint
	DJANGO_DEBUG=1 $(PY) manage.py makemigrations --check --dry-run
	$(PY) -m pytest

screenshots: venv
	SCREENSHOTS=1 $(PY) -m pytest tests/browser -k screenshot -p no:randomly

bench: venv
	$(PY) -m pip install --quiet '.[dev,bench]'
	$(PY) bench/history.py
	$(PY) bench/load.py

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .pytest_cache .mypy_cache .ruff_cache
