# Two commands do everything: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck unit docs bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python examples/run_all.py

lint: $(STAMP)
	$(BIN)/ruff check alloy tests examples bench
	$(BIN)/ruff format --check alloy tests examples bench

typecheck: $(STAMP)
	$(BIN)/pyright
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/python -m pytest -q

# The documentation site, built strictly (any warning fails) into site/ (ignored by git).
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet --site-dir site

test: lint typecheck unit docs

bench: $(STAMP)
	$(BIN)/python bench/import_time.py
	$(BIN)/python bench/overhead.py
	$(BIN)/python bench/concurrency.py
	$(BIN)/python bench/stream_large.py --backend openai-chat

clean:
	rm -rf $(VENV) build site *.egg-info
