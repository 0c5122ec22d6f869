# Quick start: `make demo` (set up, generate the phantom benchmark, run the baselines, print the
# leaderboard) and `make test` (set up with the dev and hf extras, run the tests).  Offline-safe.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO ?= demo

.PHONY: demo test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev,hf,rag,report]'
	touch $(VENV)/.installed $@

demo: $(VENV)/.installed
	$(BIN)/medgauge phantom $(DEMO)/phantom --n-cases 60 --seed 0
	$(BIN)/medgauge run --benchmark phantom=$(DEMO)/phantom \
		--model baseline:random --model baseline:constant --model baseline:prior \
		--store $(DEMO)/medgauge.db
	$(BIN)/medgauge results --store $(DEMO)/medgauge.db --by question_type

test: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/python -m pytest

bench: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/throughput.py

clean:
	rm -rf $(VENV) $(DEMO) .pytest_cache
