# Two entry points on a fresh machine: `make demo` and `make test`.
# Each creates its own virtual environment and installs the project into it.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_DB ?= .demo/tastemaker.db

.PHONY: demo test lint typecheck unit bench redteam clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade "pip>=25.1"

# What the demo needs: the project and its runtime dependencies, no test or lint tools.
$(VENV)/.installed-run: $(BIN)/activate pyproject.toml
	$(BIN)/python -m pip install -q -e .
	touch $@

# Everything `make test` runs: the dev group on top.
$(VENV)/.installed: $(BIN)/activate pyproject.toml
	$(BIN)/python -m pip install -q -e . --group dev
	touch $(VENV)/.installed-run $@

demo: $(VENV)/.installed-run
	$(BIN)/tastemaker --db $(DEMO_DB) demo

lint: $(VENV)/.installed
	$(BIN)/ruff check recommender playlists tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

unit: $(VENV)/.installed
	$(BIN)/pytest -q

test: lint unit

redteam: $(VENV)/.installed
	$(BIN)/python bench/redteam.py

bench: $(VENV)/.installed
	$(BIN)/python bench/import_bench.py

clean:
	rm -rf $(VENV) .demo .pytest_cache .mypy_cache .ruff_cache
