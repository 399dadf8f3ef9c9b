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

# The search-step benchmark twice: with the C library's malloc, then with mimalloc preloaded.
MIMALLOC = $$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/cmeel.prefix/lib/libmimalloc.so
bench: setup
	$(BIN)/python -m pip install -q -e ".[bench]"
	$(BIN)/python bench/search_step.py
	LD_PRELOAD=$(MIMALLOC) $(BIN)/python bench/search_step.py
