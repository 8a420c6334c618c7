# cadence: two commands set everything up — `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.cadence-installed

export MUJOCO_GL ?= egl
export ROS_AUTOMATIC_DISCOVERY_RANGE ?= LOCALHOST
export PYTHONUNBUFFERED := 1

.PHONY: setup demo test test-fast bench lint format clean

setup: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt setup.py setup.cfg package.xml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $(STAMP)

demo: setup
	$(VENV)/bin/cadence demo --out out/demo

test: setup
	$(PY) -m pytest -q

test-fast: setup
	$(PY) -m pytest -q -m "not slow"

bench: setup
	@set -e; for script in bench/*.py; do \
	  echo "== $$script"; $(PY) $$script; \
	done

lint: setup
	$(VENV)/bin/ruff check src test bench launch
	$(VENV)/bin/ruff format --check src test bench launch

format: setup
	$(VENV)/bin/ruff format src test bench launch

clean:
	rm -rf $(VENV) build install log out .pytest_cache
