# Two commands do all the set-up: `make quickstart` and `make test` (each creates .venv if needed).
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup quickstart test lint bench

$(BIN)/tasray: pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q torch==2.14.1 torchvision==0.29.1 -e ".[dev]"
	touch $@

setup: $(BIN)/tasray

quickstart: setup
	$(BIN)/tasray run experiments/quickstart.yaml

lint: setup
	$(BIN)/ruff check .

test: lint
	$(BIN)/pytest

bench: setup
	$(BIN)/python bench/search_step.py
