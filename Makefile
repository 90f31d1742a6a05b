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

.PHONY: run test ui rebuild lint lock clean help bench-data bench browser-deps java-deps docs dbt paths purge
.DEFAULT_GOAL := help

help:
	@echo "make run    ingest data/landing (or CARDREACH_LANDING), build marts, check, score, publish"
	@echo "make test   run the whole test suite"
	@echo "make ui     start the Dagster UI on http://$(UI_HOST):$(UI_PORT)"
	@echo "make rebuild  rebuild the pipeline database from the archive, then run"
	@echo "make docs   dbt docs as one offline page, and where the data quality page is"
	@echo "make dbt ARGS=\"build --select account_scores\"  dbt itself on the pipeline's database"
	@echo "make paths  where the databases, archive, report and docs are"
	@echo "make purge SHA256=…  remove a delivery refused for personal data from the archive"

$(BIN)/.installed: pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $@

$(DAGSTER_HOME)/dagster.yaml: orchestration/dagster.yaml
	@mkdir -p $(DAGSTER_HOME)
	cp $< $@

# The dbt manifest Dagster reads, prepared by `dbt parse` (no network) rather than at every
# definitions load, and the parse every warehouse's first dbt step starts from.
$(MANIFEST): $(BIN)/.installed $(DBT_SOURCES)
	$(BIN)/python -m orchestration.cli prepare-dbt
	@touch $@

env: $(BIN)/.installed $(DAGSTER_HOME)/dagster.yaml $(MANIFEST)

# `make run FORCE=1` runs everything even when nothing is new; `make run V=1` (or
# CARDREACH_VERBOSE=1) shows every log line instead of one line per stage.
run: env $(if $(filter spark,$(CARDREACH_ENGINE)),java-deps)
	$(BIN)/python -m orchestration.cli run $(if $(FORCE),--force) $(if $(V),--verbose)

# Rebuild cardreach.duckdb from archive/ (the broken file is moved aside), then run everything.
rebuild: env
	$(BIN)/python -m orchestration.cli rebuild

test: env browser-deps java-deps
	$(BIN)/python -m pytest

# No target given: `dagster dev` loads the code location pyproject.toml names, `cardreach`.
# The report server (orchestration/serve.py) serves the report and quality pages the UI links
# to over http, and stops with the UI.
ui: env
	@$(BIN)/python -m orchestration.serve & server=$$!; trap 'kill $$server 2>/dev/null' EXIT; \
	$(BIN)/dagster dev -h $(UI_HOST) -p $(UI_PORT)

# The browser test (tests/test_ui_browser.py) drives Debian's chromium, with CJK fonts so that
# Chinese renders; apt-get installs them when missing (its package lists are refreshed only when
# an install from the current ones fails). Playwright comes from requirements.lock and never
# downloads a browser of its own.
BROWSER_PACKAGES := chromium fonts-noto-cjk
SUDO := $(shell [ "$$(id -u)" = 0 ] || command -v sudo)
APT_INSTALL := DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends

browser-deps:
	@if command -v chromium >/dev/null && fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then \
	  exit 0; fi; \
	echo "installing $(BROWSER_PACKAGES) with apt-get"; \
	$(APT_INSTALL) $(BROWSER_PACKAGES) \
	  || { $(SUDO) apt-get update -q && $(APT_INSTALL) $(BROWSER_PACKAGES); }

# Spark (CARDREACH_ENGINE=spark, and the test that builds the sample on it) runs on a Java
# runtime of 17 or later, which apt-get installs when none is on the PATH.
JAVA_PACKAGES := openjdk-17-jre-headless

java-deps:
	@if command -v java >/dev/null; then exit 0; fi; \
	echo "installing $(JAVA_PACKAGES) with apt-get"; \
	$(APT_INSTALL) $(JAVA_PACKAGES) \
	  || { $(SUDO) apt-get update -q && $(APT_INSTALL) $(JAVA_PACKAGES); }

# Documentation that opens offline: dbt's docs as one self-contained page (column types from the
# pipeline's database, so after `make run`, and not while a run writes), and the data quality
# page (every suite's latest result) that the checks of every run rewrite.
docs: env
	$(BIN)/python -m orchestration.cli dbt docs generate --static --quiet
	@echo "dbt docs:              dbt_project/target/static_index.html"
	@$(BIN)/python -m orchestration.cli paths

# dbt on its own, with the database and memory cap the pipeline hands it (not while a run writes).
ARGS ?= build
dbt: env
	$(BIN)/python -m orchestration.cli dbt $(ARGS)

paths: env
	@$(BIN)/python -m orchestration.cli paths

purge: env
	@$(BIN)/python -m orchestration.cli purge $(SHA256)

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

# The benchmark (docs/performance.md): the pipeline against a hand-written DuckDB baseline.
# `make bench` runs the default size (10,000 accounts x 365 days, long: see the doc);
# `make bench BENCH_ARGS="--accounts 100 --days 10"` for another size. `make bench-data` only
# writes the synthetic landing folder (BENCH_DATA), e.g. to point CARDREACH_LANDING at it.
BENCH_ARGS ?=
BENCH_DATA ?= $(or $(CARDREACH_WAREHOUSE),data/warehouse)/bench-data

bench-data: env
	$(BIN)/python -m orchestration.bench.generate --out $(BENCH_DATA) $(BENCH_ARGS)

bench: env
	$(BIN)/python -m orchestration.bench.run $(BENCH_ARGS)
