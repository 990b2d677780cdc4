# Workbench: `make demo` runs the whole pipeline on generated demo data; `make test` tests it.
# Needs only Python 3.11+ and make: everything else is installed into .venv by these targets.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
BASE   := $(VENV)/.installed-base
STAMP  := $(VENV)/.installed-stamp
# every install is pinned to the versions tested together (regenerate: make constraints)
PIP    := $(BIN)/python -m pip install --quiet --constraint constraints.txt
DEMO   ?= data/demo
PROJECT ?= $(DEMO)
CONTACTS ?= 5000
PYTEST_ARGS ?=
# `make test` leaves out the tests marked slow (pytest -m slow); `make test-slow` runs them
TEST_MARKS ?= not slow
# the tests run on every core (pytest-xdist), all tests of a file on one worker, in their
# order (module fixtures are built once); TEST_WORKERS=0 or PYTEST_ARGS=-n0: one process
TEST_WORKERS ?= auto
PYTEST := $(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile

PERIOD ?= 2026-10
CHROMIUM ?= /usr/bin/chromium

.PHONY: help install browser demo test test-slow test-all lint format docs constraints bench lab clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(BASE): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || \
	  { echo "Workbench needs Python 3.11 or newer as '$(PYTHON)' (set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PIP) --upgrade pip
	@$(BIN)/python -m pip uninstall --quiet --yes workbench 2>/dev/null || true  # the old name
	$(PIP) -e .
	@touch $(BASE)

$(STAMP): $(BASE)
	$(PIP) -e ".[dev,spark]"
	@touch $(STAMP)

install: $(STAMP)  ## create .venv with the package, its dependencies and the test tools

browser:  ## Debian's chromium for the report tests (apt, as root or with sudo)
	@test -x $(CHROMIUM) || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium; \
	} || { echo "Install Debian's chromium package (apt-get install chromium) for the report tests"; exit 1; }

demo: $(BASE)  ## generate the demo data set, run the whole pipeline, render the five reports
	$(BIN)/workbench demo --project $(DEMO) --contacts $(CONTACTS)
	$(BIN)/workbench report all --period $(PERIOD) --project $(DEMO) --out reports

test: $(STAMP) browser  ## the test suite less the heavy tests marked slow
	$(PYTEST) -m "$(TEST_MARKS)" $(PYTEST_ARGS)

test-slow: $(STAMP) browser  ## only the heavy tests marked slow (CI runs both)
	$(PYTEST) -m slow $(PYTEST_ARGS)

test-all: $(STAMP) browser  ## every test in one run
	$(PYTEST) $(PYTEST_ARGS)

lint: $(STAMP)  ## ruff lint and format check, mypy, the import layers (pyproject.toml)
	$(BIN)/ruff check workbench tests
	$(BIN)/ruff format --check workbench tests
	$(BIN)/mypy workbench
	$(BIN)/lint-imports

format: $(STAMP)  ## apply ruff's formatting and safe fixes
	$(BIN)/ruff check --fix workbench tests
	$(BIN)/ruff format workbench tests

docs: $(STAMP)  ## regenerate docs/reference.md from the command line's own help
	$(BIN)/python -m workbench.cli.reference docs/reference.md

constraints: $(STAMP)  ## pin constraints.txt to the versions installed in .venv now
	{ echo '# Versions tested together, used by every `make` install (make constraints regenerates it).'; \
	  $(BIN)/python -m pip freeze --all --exclude-editable | grep -v -e '^crm-workbench' -e '^setuptools=='; \
	} > constraints.txt

bench: $(STAMP)  ## benchmarks against the plain libraries, printed as ratios
	$(BIN)/python -m workbench.bench

lab: $(STAMP)  ## JupyterLab on notebooks/ with the workbench kernel, for PROJECT (default data/demo)
	$(PIP) -e ".[dev,lab]"
	$(BIN)/python -m ipykernel install --sys-prefix --name workbench --display-name "Workbench"
	WORKBENCH_PROJECT=$(abspath $(PROJECT)) \
	  $(BIN)/jupyter lab notebooks/ $(if $(filter 0,$(shell id -u)),--allow-root,)

clean:  ## remove generated data, reports and the virtualenv
	rm -rf $(VENV) data/demo data/bench reports/*/ reports/index.html reports/kernel.log .pytest_cache .grimp_cache
