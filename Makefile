# Two entry points: `make demo` runs a real tuning experiment, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PLUGINS := $(wildcard plugins/*/pyproject.toml)
PIP_INSTALL := $(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints-dev.txt
# Extras a plugin is installed with for the test suite: tune-torch's Lightning callback and TensorBoard's reader.
EXTRAS_tune-torch := [lightning,tensorboard]

.PHONY: install demo test lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml constraints-dev.txt $(PLUGINS)
	$(PIP_INSTALL) --upgrade pip
	$(PIP_INSTALL) -e '.[test,examples,plots]' $(foreach p,$(PLUGINS),-e '$(p:/pyproject.toml=)$(EXTRAS_$(notdir $(p:/pyproject.toml=)))')
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/python examples/digits_mlp.py

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m mypy
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m mypy

clean:
	rm -rf $(VENV) build *.egg-info
