# Two commands for a newcomer: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-dev

.PHONY: run test test-cluster install lint typecheck unit bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(STAMP)

## run: venv, install, migrate, then API (and, as they land, relay and consumers) on 127.0.0.1:8000
run: install
	$(BIN)/cms up

## test: install, lint, type-check, then the whole suite against the real services
test: install lint typecheck
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .

typecheck: install
	$(BIN)/mypy

## test-cluster: opt-in; a three-node RabbitMQ cluster on loopback loses its queue leader mid-stream
test-cluster: install
	$(BIN)/pytest -m cluster tests/cluster -s

unit: install
	$(BIN)/pytest tests/unit

bench: install
	$(BIN)/python -m bench.read
	$(BIN)/python -m bench.write

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
