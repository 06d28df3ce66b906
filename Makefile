# make demo: set everything up and train the book's MLP.  make test: set up, lint, run the tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test setup data bench lint clean

demo: data
	$(BIN)/shallowlab run mlp

test: lint  # ruff first: a lint error fails the tests as CI runs them
	-@sh scripts/get-data.sh $(BIN)/shallowlab  # without the data, real-data tests skip
	$(BIN)/pytest

setup: $(VENV)/.installed

# A CPU build of torch that this machine provides (pip's find-links) is taken first, so pip
# does not fetch the registry's CUDA build; elsewhere the second line installs torch as usual.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	-$(BIN)/pip install --quiet --no-index --no-deps torch 2>/dev/null
	$(BIN)/pip install --quiet -e '.[dev,tensorboard,book]'
	touch $@

data: setup
	@sh scripts/get-data.sh $(BIN)/shallowlab

bench: data
	$(BIN)/python -m benchmarks.speed
	$(BIN)/python -m benchmarks.fast

lint: setup
	$(BIN)/ruff check src tests benchmarks

clean:
	rm -rf $(VENV) runs figures .pytest_cache
