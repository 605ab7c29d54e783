# Two commands do all the set-up on a fresh clone:
#   make up    install, start PostgreSQL + broker (embedded) and the four services, in the foreground
#   make test  install and run the whole test suite (starts its own PostgreSQL and broker)
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed

.PHONY: up test unit bench bench-ledger bench-console bench-idle bench-replay bench-all clean install

install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

up: $(STAMP)
	$(BIN)/zf up

test: $(STAMP)
	$(BIN)/pytest

unit: $(STAMP)
	$(BIN)/pytest tests/unit

bench: $(STAMP)
	$(BIN)/python bench/intake_load.py

bench-ledger: $(STAMP)
	$(BIN)/python bench/ledger_queries.py

bench-console: $(STAMP)
	$(BIN)/python bench/console_pages.py

bench-idle: $(STAMP)
	$(BIN)/python bench/idle_cost.py

bench-replay: $(STAMP)
	$(BIN)/python bench/replay.py

# Every issue-11 benchmark, three runs each on private stacks, into docs/BENCHMARKS.md (ARGS=--quick: a smoke run)
bench-all: $(STAMP)
	$(BIN)/python bench/all.py $(ARGS)

clean:
	rm -rf $(VENV) .zf .pytest_cache
