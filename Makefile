# katibsim: every target builds its own environment from nothing (.venv + pinned install).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
JOBS   ?= auto

.PHONY: venv test test-slow demo bench e2e clean

venv: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[test,report]'
	touch $(STAMP)

## make test: the default suite (fast; no slow, no cluster tests)
test: $(STAMP)
	$(BIN)/python -m pytest -q

## make test-slow: the slow profile (fuzzing with many more examples, real training runs)
test-slow: $(STAMP)
	HYPOTHESIS_PROFILE=slow $(BIN)/python -m pytest -q -m slow

## make demo: the main job
demo: $(STAMP)
	$(BIN)/katibsim validate examples/tfjob-bayesian.yaml
	$(BIN)/katibsim show examples/tfjob-bayesian.yaml

## make bench: speed and quality benchmarks (not part of the test suite)
bench: $(STAMP)
	$(BIN)/python benchmarks/engine_speed.py

clean:
	rm -rf $(VENV) reports results .pytest_cache
