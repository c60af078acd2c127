# One venv per checkout; every target installs what it needs.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_HOME := $(CURDIR)/.demo

.PHONY: install chromium test lint format demo dev sandbox validate clean

install: $(STAMP)

$(STAMP): pyproject.toml setup.cfg
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Debian's Chromium for the browser tests (Playwright drives it; no browser download).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
chromium:
	@test -x /usr/bin/chromium || ( $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null )

lint: install
	$(BIN)/ruff check confluence_pipeline confluence_pipeline_tests benchmarks
	$(BIN)/ruff format --check confluence_pipeline confluence_pipeline_tests benchmarks

format: install
	$(BIN)/ruff format confluence_pipeline confluence_pipeline_tests benchmarks
	$(BIN)/ruff check --fix confluence_pipeline confluence_pipeline_tests benchmarks

validate: install
	DAGSTER_HOME=$$(mktemp -d) $(BIN)/dagster definitions validate -w workspace.yaml

test: install chromium lint validate
	$(BIN)/pytest -n auto -q

demo: install
	CONFLUENCE_PIPELINE_HOME=$(DEMO_HOME) $(BIN)/confluence-pipeline demo

dev: install
	mkdir -p $(DEMO_HOME)/dagster
	CONFLUENCE_PIPELINE_HOME=$(DEMO_HOME) DAGSTER_HOME=$(DEMO_HOME)/dagster $(BIN)/dagster dev -w workspace.yaml

sandbox: install
	$(BIN)/confluence-pipeline sandbox

clean:
	rm -rf $(VENV) $(DEMO_HOME) *.egg-info
