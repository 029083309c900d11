# katibsim: every target builds its own environment from nothing (.venv + pinned install).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
JOBS   ?= auto

.PHONY: venv test test-slow demo bench bench-bo e2e clean

venv: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[test,report,dask,grpc]'
	touch $(STAMP)

## make test: the default suite (fast; no slow, no cluster tests)
test: $(STAMP)
	$(BIN)/python -m pytest -q

## make test-slow: the slow profile (fuzzing with many more examples, real training runs)
test-slow: $(STAMP)
	HYPOTHESIS_PROFILE=slow $(BIN)/python -m pytest -q -m slow

## make demo: the main job: the seed experiment on Katib's real bayesianoptimization (scikit-optimize)
demo: $(STAMP)
	$(BIN)/katibsim validate examples/tfjob-bayesian.yaml
	$(BIN)/katibsim simulate examples/tfjob-bayesian.yaml --objective mnist-tfjob --objective-option time_scale=400 --seed 1 -o table
	$(BIN)/katibsim compare scenarios/seed-exploration.yaml scenarios/seed-tfjob-bayesian.yaml --out reports
	@echo "seed report: reports/index.html (each scenario: reports/<name>/report.html, report.md, *.png, junit.xml)"

## make bench: speed and quality benchmarks (not part of the test suite)
bench: $(STAMP)
	$(BIN)/python benchmarks/engine_speed.py
	$(BIN)/python benchmarks/algorithms_speed.py

## make bench-bo: katibsim-bo (katibsim's own GP-BO) vs Optuna GPSampler, skopt, bayes_opt, random
## (its own venv with the peer libraries; SEEDS=5 for a quick look; the full run takes about an hour)
BENCH_VENV := .venv-bench
SEEDS ?= 30
$(BENCH_VENV)/.installed: pyproject.toml constraints.txt
	rm -rf $(BENCH_VENV)
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install -q --upgrade pip
	$(BENCH_VENV)/bin/python -m pip install -q -c constraints.txt -e '.[bench]'
	# The GPSampler peer needs Optuna 5; it replaces katibsim's Katib-pinned 3.3.0 in this venv only
	# (bo_vs_peers.py does not run the Katib-named Optuna algorithms).
	$(BENCH_VENV)/bin/python -m pip install -q optuna==5.0.0
	touch $(BENCH_VENV)/.installed

bench-bo: $(BENCH_VENV)/.installed
	$(BENCH_VENV)/bin/python benchmarks/bo_vs_peers.py --seeds $(SEEDS)

## make e2e: the kind e2e suite (tests/e2e, marker kind) against the cluster of context kind-katibsim
## (`katibsim kind up` makes it); without one every test skips with its reason.
E2E_ARGS ?= -m kind
e2e: $(STAMP)
	KATIBSIM_E2E=1 $(BIN)/python -m pytest tests/e2e -v -rs $(E2E_ARGS)

clean:
	rm -rf $(VENV) reports results .pytest_cache
