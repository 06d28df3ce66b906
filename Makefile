# make demo: set everything up and train the book's MLP.  make test: set up, lint, run the tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# test-py313: the d2l layers and the book's sections again on Python 3.13, where `pip install d2l`
# cannot go. Its interpreter: python3.13 on PATH if it runs (a pyenv shim may not), else the
# newest 3.13.x in pyenv's versions; empty when there is none.
VENV313 ?= .venv-3.13
PY313_CANDIDATES = $(shell command -v python3.13 2>/dev/null) \
	$(sort $(wildcard $(or $(PYENV_ROOT),$(HOME)/.pyenv)/versions/3.13*/bin/python3.13))
PY313 ?= $(firstword $(foreach p,$(PY313_CANDIDATES),$(if $(filter 3.13,$(shell $(p) -c \
	'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)),$(p))))

.PHONY: demo test test-py313 setup data bench lint clean

demo: data
	$(BIN)/shallowlab run mlp

test: lint  # ruff first: a lint error fails the tests as CI runs them
	-@sh scripts/get-data.sh $(BIN)/shallowlab  # without the data, real-data tests skip
	-@sh scripts/get-apt.sh chromium chromium "the browser tests"  # without it they skip
	-@sh scripts/get-apt.sh graphviz dot "the tests that draw a graph"
	$(BIN)/pytest
	@$(MAKE) --no-print-directory test-py313

# Only what differs by Python version: the tests marked `book` (pyproject.toml). Its torch is
# PyPI's (a CUDA build of several GB, run on the CPU): this machine's CPU build is for 3.11.
test-py313:
	@if [ -z "$(PY313)" ]; then \
	    echo "test-py313: skipped: no Python 3.13 here (python3.13 on PATH, pyenv's versions)"; \
	else \
	    $(MAKE) --no-print-directory $(VENV313)/.installed PY313=$(PY313) && \
	    $(VENV313)/bin/pytest -m book; \
	fi

$(VENV313)/.installed: pyproject.toml
	$(PY313) -m venv $(VENV313)
	$(VENV313)/bin/pip install --quiet -e '.[dev,book]'
	touch $@

setup: $(VENV)/.installed

# A CPU build of torch that this machine provides (pip's find-links) is taken first, so pip
# does not fetch the registry's CUDA build; elsewhere the second line installs torch as usual.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	-$(BIN)/pip install --quiet --no-index --no-deps torch 2>/dev/null
	$(BIN)/pip install --quiet -e '.[dev,tensorboard,book,ray,browser,graph,playground]'
	touch $@

data: setup
	@sh scripts/get-data.sh $(BIN)/shallowlab

bench: data
	$(BIN)/python -m benchmarks.speed
	$(BIN)/python -m benchmarks.fast

lint: setup
	$(BIN)/ruff check src tests benchmarks

clean:
	rm -rf $(VENV) $(VENV313) runs figures .pytest_cache
