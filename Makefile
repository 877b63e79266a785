# The two commands of the README. Each creates .venv when it is missing and installs from the lock;
# the stamp makes them fast when nothing changed.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-fast docs lint lock

# `musicvae report`: what the run learned, in 80 columns, as the last thing make run prints
run: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" dvc repro
	PATH="$(CURDIR)/$(BIN):$$PATH" musicvae report

# pyproject's -ra lists every skip with its reason. Exit 5, "no tests collected", fails too: that run tested nothing.
# One pytest-xdist worker per core this process may use (WORKERS=0 runs in one process); a test file's tests stay
# on one worker, so that a module's fixture (the DVC repository, the magenta.js models) is made once.
WORKERS ?= $(shell nproc)
test: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" python -m pytest -n $(WORKERS) --dist loadfile $(PYTEST_ARGS)

# The fast tier: tests/fast, every test that needs no trained-until-learned model, external system, browser or GPU
test-fast: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" python -m pytest -n $(WORKERS) --dist loadfile tests/fast $(PYTEST_ARGS)

# The documentation site (docs/, mkdocs.yml) into site/; --strict fails on a broken link or a page missing from nav.
docs: $(STAMP)
	$(BIN)/mkdocs build --strict --site-dir site

# ruff's lint rules and formatting, as pyproject.toml sets them
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# torch==2.13.0 resolves to the local CPU wheel on machines whose pip finds it (find-links), with no CUDA download.
$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/pip || $(PYTHON) -m venv --clear $(VENV)  # --clear: a venv cut off before pip was installed
	$(BIN)/pip install --quiet -r requirements.lock 2>&1 | { grep -v "is ignored: it is neither" || true; }
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python -c "import torch, apache_beam, lightning, mlflow, dvc, music21, note_seq, symusic"
	touch $(STAMP)

# Re-pin every dependency (needs uv). The CPU wheel's metadata keeps CUDA packages out of the lock.
lock:
	uv pip compile pyproject.toml --all-extras --python-version 3.11 --find-links /opt/wheels \
		--override <(echo "torch==2.13.0+cpu") --no-header --output-file requirements.lock
	sed -i 's/^torch==2.13.0+cpu$$/torch==2.13.0/' requirements.lock
