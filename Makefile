# One venv per checkout; every target installs what it needs.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_HOME := $(CURDIR)/.demo

.PHONY: install chromium podman test test-fast lint format demo dev sandbox validate clean deploy-local lock screenshots bench-peers

install: $(STAMP)

# The image's pins (deploy/requirements.txt) constrain the dev venv: tests run on what ships.
$(STAMP): pyproject.toml setup.cfg deploy/requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,sandbox]' --constraint deploy/requirements.txt
	touch $(STAMP)

# Debian's Chromium for the browser tests (Playwright drives it; no browser download).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
chromium:
	@test -x /usr/bin/chromium || ( $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null )

# podman (builds the Docker image without a daemon) and debootstrap (its local base image) for
# the image test of confluence_pipeline_tests/test_dockerfile.py.
podman:
	@test -x /usr/bin/podman -a -x /usr/sbin/debootstrap || ( $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq podman debootstrap >/dev/null )

lint: install
	$(BIN)/ruff check confluence_pipeline confluence_pipeline_tests benchmarks
	$(BIN)/ruff format --check confluence_pipeline confluence_pipeline_tests benchmarks
	$(BIN)/mypy

format: install
	$(BIN)/ruff format confluence_pipeline confluence_pipeline_tests benchmarks
	$(BIN)/ruff check --fix confluence_pipeline confluence_pipeline_tests benchmarks

validate: install
	DAGSTER_HOME=$$(mktemp -d) $(BIN)/dagster definitions validate -w workspace.yaml

# Everything, as CI runs it: lint, the definitions, every test tier.
test: install chromium podman lint validate
	$(BIN)/pytest -n auto -q

# The inner loop: no PostgreSQL, browser, image or slow tests, no lint (all of them run in `test`).
FAST_TESTS := not postgres and not browser and not docker and not slow
test-fast: install
	$(BIN)/pytest -n auto -q -m "$(FAST_TESTS)"

demo: install
	CONFLUENCE_PIPELINE_HOME=$(DEMO_HOME) $(BIN)/confluence-pipeline demo

dev: install
	mkdir -p $(DEMO_HOME)/dagster
	CONFLUENCE_PIPELINE_HOME=$(DEMO_HOME) DAGSTER_HOME=$(DEMO_HOME)/dagster $(BIN)/dagster dev -w workspace.yaml

sandbox: install
	$(BIN)/confluence-pipeline sandbox

# A local deployment: webserver + daemon on the PostgreSQL-backed instance of deploy/dagster.yaml
# (DAGSTER_POSTGRES_* default to the server on 127.0.0.1:5432; SECRET_KEY must be set).
deploy-local: install
	deploy/local.sh

# deploy/requirements.txt, the Docker image's pinned dependencies: requirements.in, fresh.
lock:
	tmp=$$(mktemp -d) && $(PYTHON) -m venv $$tmp && \
	$$tmp/bin/python -m pip install --quiet --upgrade pip && \
	$$tmp/bin/python -m pip install --quiet --requirement deploy/requirements.in && \
	{ sed -n '1,2p' deploy/requirements.txt; \
	  $$tmp/bin/python -m pip freeze --exclude confluence_pipeline; } > $$tmp/requirements.txt && \
	mv $$tmp/requirements.txt deploy/requirements.txt && rm -rf $$tmp

# The README's screenshots of the Dagster UI, taken by the browser tests (in file order).
screenshots: install chromium
	CONFLUENCE_PIPELINE_SCREENSHOTS=docs $(BIN)/pytest -q -p no:xdist confluence_pipeline_tests/test_ui.py

# The peers of benchmarks/peers.py need llama-cloud<2 (this project pins 2.19): the `bench`
# extra goes alone into a venv of its own; the benchmark itself runs from .venv.
VENV_BENCH := .venv-bench
BENCH_STAMP := $(VENV_BENCH)/.installed
BENCH_EXTRA := import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["optional-dependencies"]["bench"]))

$(BENCH_STAMP): pyproject.toml $(STAMP)
	test -x $(VENV_BENCH)/bin/python || $(PYTHON) -m venv $(VENV_BENCH)
	$(VENV_BENCH)/bin/python -m pip install --quiet --upgrade pip
	$(BIN)/python -c '$(BENCH_EXTRA)' > $(VENV_BENCH)/requirements.txt
	$(VENV_BENCH)/bin/python -m pip install --quiet -r $(VENV_BENCH)/requirements.txt
	touch $(BENCH_STAMP)

bench-peers: install $(BENCH_STAMP)
	PEERS_PYTHON=$(abspath $(VENV_BENCH))/bin/python $(BIN)/python benchmarks/peers.py $(ARGS)

clean:
	rm -rf $(VENV) $(VENV_BENCH) $(DEMO_HOME) *.egg-info
