PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: demo test lint corpus clean

# warcpack alone for the demo; the test tools (an S3 server, Ray, validators, and Azurite, the
# Azure Storage emulator, an npm package kept inside the venv) only for the tests.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $(STAMP)

$(TEST_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,ray]'
	npm install --prefix $(VENV)/azurite --no-audit --no-fund --silent azurite@3
	touch $(TEST_STAMP)

## Build the sample corpus from warcs/ and load it back with datasets.
demo: $(STAMP)
	$(BIN)/warcpack verify --store warcs
	$(BIN)/warcpack build --store warcs --out corpus
	$(BIN)/python scripts/show_corpus.py corpus

## Run the test suite.
test: $(TEST_STAMP)
	$(BIN)/ruff check src tests scripts
	$(BIN)/python -m pytest

lint: $(TEST_STAMP)
	$(BIN)/ruff check src tests scripts

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info
