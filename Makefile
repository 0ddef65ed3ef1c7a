# Two commands do everything: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_STAMP := $(VENV)/.demo-installed

.PHONY: demo test test-live lint typecheck typecheck-outside unit docs bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The demo needs alloy and the openai SDK (it calls OpenAI when OPENAI_API_KEY is set, the
# fake backend otherwise), not the test and docs tool chain.
$(DEMO_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[openai]'
	touch $(DEMO_STAMP)

demo: $(DEMO_STAMP)
	$(BIN)/python examples/run_all.py

lint: $(STAMP)
	$(BIN)/ruff check alloy tests examples bench
	$(BIN)/ruff format --check alloy tests examples bench

typecheck: $(STAMP)
	$(BIN)/pyright
	$(BIN)/mypy

# A user's project outside the repository, checked against the installed (editable) alloy.
OUTSIDE := $(or $(TMPDIR),/tmp)/alloy-outside-typecheck
typecheck-outside: $(STAMP)
	rm -rf $(OUTSIDE) && mkdir -p $(OUTSIDE)
	cp tests/outside/app.py tests/outside/pyrightconfig.json $(OUTSIDE)/
	cd $(OUTSIDE) && $(abspath $(BIN))/pyright --pythonpath $(abspath $(BIN))/python app.py
	cd $(OUTSIDE) && $(abspath $(BIN))/mypy --strict --warn-unused-ignores --disable-error-code empty-body \
		--python-executable $(abspath $(BIN))/python app.py

# With coverage of alloy/ (pytest-cov; settings under tool.coverage in pyproject.toml): one
# line with the total, a failure below the floor (fail_under), and the HTML report in
# build/coverage/html (ignored by git). Two worker processes (pytest-xdist), as CI has two
# cores: each test runs in one of them, in its own order.
unit: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 --cov --cov-report=html

# The documentation site, built strictly (any warning fails) into site/ (ignored by git).
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet --site-dir site

test: lint typecheck typecheck-outside unit docs

# The real providers (tests/live/): each backend's tests run when ALLOY_LIVE=1 and its key
# are set, and are skipped, saying why, otherwise.
test-live: $(STAMP)
	$(BIN)/python -m pytest tests/live -m live -q

bench: $(STAMP)
	$(BIN)/python bench/import_time.py
	$(BIN)/python bench/overhead.py
	$(BIN)/python bench/concurrency.py
	$(BIN)/python bench/stream_large.py --backend openai-chat

clean:
	rm -rf $(VENV) build site *.egg-info
