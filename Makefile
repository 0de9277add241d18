# OGI Archive. `make demo` runs the main job end to end (offline); `make test` runs the whole suite.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: default install system demo test lint fmt bench serve crawl schedule clean
default: test lint

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Debian packages the full suite needs (chromium for the browser test, LibreOffice + CJK fonts for documents).
system:
	bash scripts/setup-system.sh

demo: install
	$(BIN)/ogi demo

test: install
	bash scripts/setup-system.sh --if-root
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

fmt: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install
	$(BIN)/python bench/fixtures.py
	$(BIN)/python bench/parse.py
	$(BIN)/python bench/documents.py
	$(BIN)/python bench/archive.py --n 10000
	$(BIN)/python bench/crawl.py

serve: install
	$(BIN)/ogi serve --db $(or $(DB),demo.db)

crawl: install
	$(BIN)/ogi crawl $(if $(URL),--url $(URL)) --db $(or $(DB),ogi.db)

schedule: install
	$(BIN)/ogi schedule

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
