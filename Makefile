PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: setup system-deps demo test bench clean

## setup: system packages (Chromium, fonts) and a virtualenv with pressrun installed
setup: system-deps $(BIN)/.installed

system-deps:
	@scripts/install-system-deps.sh

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[test]"
	@touch $@

## demo: install everything, render the demo campaign and its contact sheet
demo: setup
	$(BIN)/pressrun validate examples/wrapped
	$(BIN)/pressrun render examples/wrapped
	$(BIN)/pressrun preview examples/wrapped --row 2

## test: install everything and run the test suite
test: setup
	$(BIN)/pytest

## bench: the throughput benchmark (see README, Performance)
bench: setup
	$(BIN)/python -m pressrun.bench

clean:
	rm -rf $(VENV) examples/wrapped/out bench-results
