# dropout_py: the one entry point. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: help setup lint format test test-fast train bench fetch clean

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-11s %s\n", $$1, $$2}'

setup: $(STAMP) ## create .venv with the package (editable) and the dev tools

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

lint: setup ## ruff check + format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: setup ## ruff format + autofix
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

test-fast: setup ## the unit tests only (no network, no browser)
	$(VENV)/bin/pytest -m "not network and not browser"

test: setup lint ## set up everything and run every test (the CI command)
	$(VENV)/bin/pytest

fetch: setup ## download and verify MNIST into the user cache
	$(VENV)/bin/dropout-py fetch

train: setup ## the chapter's MNIST run (tutorial engine, 3 epochs)
	$(VENV)/bin/dropout-py train --preset chapter

bench: setup ## engine speed/accuracy/memory table on full MNIST
	$(PY) benchmarks/bench_engines.py

clean: ## remove build products (keeps .venv and the download cache)
	rm -rf site dist build .pytest_cache .ruff_cache test-artifacts
