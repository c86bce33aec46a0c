# Two commands set everything up on a fresh machine:
#   make run    creates .venv, installs criteria-nlp, structures the bundled examples
#   make test   installs the test extras and runs the test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install lint model classifier bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[test,train,parquet]"
	@# An editable install leaves the package's own modules uncompiled, and with
	@# PYTHONDONTWRITEBYTECODE set (as on the project's machines) every process would compile
	@# them from source again: about 0.2 s of each start. Compiled once here instead.
	$(BIN)/python -m compileall -q criteria_nlp
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	@mkdir -p out
	@$(BIN)/python -m compileall -q criteria_nlp
	$(BIN)/criteria-nlp annotate examples -o out/examples.jsonl
	$(BIN)/criteria-nlp summarize out/examples.jsonl

test: $(STAMP)
	$(BIN)/ruff check criteria_nlp tests bench
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check criteria_nlp tests bench

# Rebuild the shipped spaCy pipeline directory from the rules in criteria_nlp/resources.
model: $(STAMP)
	$(BIN)/criteria-nlp build-model models/criteria_pipeline

# Retrain the inclusion/exclusion classifier from ../shared/corpora/chia.
classifier: $(STAMP)
	$(BIN)/criteria-nlp train-classifier ../shared/corpora/chia models/inc_exc_classifier

bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) out .pytest_cache
