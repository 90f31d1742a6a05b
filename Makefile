# cardreach: the few verbs a user needs. A fresh clone needs only python3 (3.11+) and make.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UI_HOST ?= 127.0.0.1
UI_PORT ?= 3000

# Dagster keeps its runs and logs inside the project; nothing phones home.
export DAGSTER_HOME := $(CURDIR)/.dagster_home
export DAGSTER_DISABLE_TELEMETRY := 1
export DO_NOT_TRACK := 1
export GX_ANALYTICS_ENABLED := False
export DBT_SEND_ANONYMOUS_USAGE_STATS := False

DBT_SOURCES := $(shell find dbt_project -type f \( -name '*.sql' -o -name '*.yml' -o -name '*.csv' \) -not -path 'dbt_project/target/*' -not -path 'dbt_project/logs/*' 2>/dev/null)
MANIFEST := dbt_project/target/manifest.json

.PHONY: run test ui rebuild lint lock clean help
.DEFAULT_GOAL := help

help:
	@echo "make run    ingest data/landing (or CARDREACH_LANDING), build marts, check, score, publish"
	@echo "make test   run the whole test suite"
	@echo "make ui     start the Dagster UI on http://$(UI_HOST):$(UI_PORT)"
	@echo "make rebuild  rebuild the pipeline database from the archive, then run"

$(BIN)/.installed: pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $@

$(DAGSTER_HOME)/dagster.yaml: orchestration/dagster.yaml
	@mkdir -p $(DAGSTER_HOME)
	cp $< $@

# The dbt manifest Dagster reads, prepared here rather than at every definitions load.
$(MANIFEST): $(BIN)/.installed $(DBT_SOURCES)
	cd dbt_project && ../$(BIN)/dbt parse --quiet --profiles-dir .
	@touch $@

env: $(BIN)/.installed $(DAGSTER_HOME)/dagster.yaml $(MANIFEST)

run: env
	$(BIN)/python -m orchestration.cli run

# Rebuild cardreach.duckdb from archive/ (the broken file is moved aside), then run everything.
rebuild: env
	$(BIN)/python -m orchestration.cli rebuild

test: env
	$(BIN)/python -m pytest

ui: env
	$(BIN)/dagster dev -m orchestration.definitions -h $(UI_HOST) -p $(UI_PORT)

lint: env
	$(BIN)/ruff check orchestration tests
	$(BIN)/ruff format --check orchestration tests

# Re-resolve the locked versions from pyproject.toml (needs the package index).
lock:
	rm -rf .venv-lock && $(PYTHON) -m venv .venv-lock
	.venv-lock/bin/python -m pip install --quiet -e '.[dev]'
	.venv-lock/bin/python -m pip freeze --exclude-editable | grep -v '^cardreach' \
	  | sed '1i # Exact versions every machine installs (make lock regenerates it from pyproject.toml).' > requirements.lock
	rm -rf .venv-lock

clean:
	rm -rf $(VENV) $(DAGSTER_HOME) dbt_project/target dbt_project/logs
