# The two set-up commands are `make demo` and `make test`; both create .venv first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8001

.PHONY: install demo test lint bench clean eval

install: $(STAMP)

# Re-install only when the project's metadata changes, so `make test` stays quick.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: install
	$(BIN)/dangjian demo --port $(PORT)

test: install
	bash scripts/install-test-deps.sh
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/cog --check docs/cli.md

clean:
	rm -rf $(VENV) data/news.db data/news.db-wal data/news.db-shm

bench: install
	$(BIN)/python -m bench.run

# Extraction quality beside bare trafilatura (normalised like ours): the real third-party pages
# in ../shared/realpages first (skipped when absent), then tests/pages (written with the extractor).
eval: install
	$(BIN)/python -m pipeline.extract.evaluate
