# dropout_py: the one entry point. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.package-lock.json
CHROMIUM := /usr/bin/chromium
WEB_SERVERS := /usr/sbin/nginx /usr/bin/caddy  # stock static servers the hosting tests run
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: help setup setup-web lint format test test-fast site serve bench bench-lean bench-peers bench-goals bench-stretch bench-site bench-controls bench-page-training bench-hosting experiments readme train fetch clean
JOBS ?= 2

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

setup: $(STAMP) ## create .venv with the package (editable) and the dev tools

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

setup-web: $(NODE_STAMP) $(CHROMIUM) $(WEB_SERVERS) ## npm packages (editor, bundler, service worker) + Debian's Chromium, nginx and Caddy for the browser tests

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

$(CHROMIUM):
	$(SUDO) apt-get update
	$(SUDO) apt-get install -y chromium

# Only the binaries are used: the tests start them on free ports with their own configuration.
$(WEB_SERVERS):
	$(SUDO) apt-get update
	$(SUDO) apt-get install -y nginx caddy

lint: setup ## ruff check + format check + mypy on the package
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: setup ## ruff format + autofix
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

test-fast: setup ## the unit tests only (no network, no browser, nothing slow)
	$(VENV)/bin/pytest -m "not network and not browser and not slow"

test: setup setup-web lint ## set up everything and run every test, browser tests included (the CI command)
	$(VENV)/bin/pytest

site: setup $(NODE_STAMP) ## build the site into site/ (runtime, wheel, data, editor; mkdocs --strict)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict

serve: site ## build, then serve site/ at http://127.0.0.1:8000 (Ctrl+C stops)
	$(PY) scripts/serve.py --port 8000

bench-site: setup setup-web ## page load, first output and bytes transferred in headless Chromium
	DROPOUT_PY_MISSING_RESULTS=mark NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict
	$(PY) benchmarks/bench_site.py

bench-controls: setup setup-web site ## slider move to new figure on the thinned-network explorable, median of 10 moves
	$(PY) benchmarks/bench_controls.py

bench-page-training: setup setup-web ## training in the page beside native: products, a full-MNIST epoch, the MNIST demo, Stop, bytes (minutes)
	DROPOUT_PY_MISSING_RESULTS=mark NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict
	$(PY) benchmarks/bench_page_training.py

bench-hosting: setup-web site ## time to Python ready under serve.py, http.server, nginx, Caddy; bytes per page
	$(PY) benchmarks/bench_hosting.py

fetch: setup ## download and verify MNIST into the user cache
	$(VENV)/bin/dropout-py fetch

train: setup ## the chapter's MNIST run (tutorial engine, 3 epochs)
	$(VENV)/bin/dropout-py train --preset chapter

bench: setup ## speed, accuracy and memory of both engines, MNIST loading, figures (minutes)
	$(PY) benchmarks/bench_engines.py --suite speed
	$(PY) benchmarks/bench_mnist_load.py
	$(PY) benchmarks/bench_figures.py

bench-lean: setup ## the fast engine beside a lean numpy loop, every configuration (results/engine_vs_lean.jsonl)
	$(PY) benchmarks/bench_lean.py

# Peers come from the optional extra: `.venv/bin/pip install -e '.[peers]'`. torch must be a CPU
# build; where pip would take PyPI's CUDA build, first `pip install torch==2.13.0 --index-url
# https://download.pytorch.org/whl/cpu`.
bench-peers: setup ## both engines beside PyTorch and scikit-learn (if installed), cost vs width and batch
	$(PY) benchmarks/bench_peers.py

bench-goals: setup ## the accuracy goals: chapter presets, 20-epoch fast run, dropout on 3,000 images
	$(PY) benchmarks/bench_engines.py --suite goals

MINUTES ?= 60
CLOCK ?= cpu
bench-stretch: setup ## the paper check: deep ReLU net, dropout, max-norm, for MINUTES (60) of CLOCK (cpu) time
	$(PY) benchmarks/bench_engines.py --suite stretch --minutes $(MINUTES) --budget-clock $(CLOCK)

experiments: setup ## run every grid in experiments/ into results/ (resumes; JOBS=2 processes)
	$(VENV)/bin/dropout-py sweep experiments/*.toml -j $(JOBS)

readme: setup ## write the measured numbers into README.md from results/
	$(PY) scripts/readme_numbers.py

clean: ## remove build products (keeps .venv and the download cache)
	rm -rf site dist build .pytest_cache .ruff_cache test-artifacts .cache/web .cache/cells
