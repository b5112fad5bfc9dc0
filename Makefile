# Two commands on a fresh machine: `make run` and `make test`.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
TSTAMP  := $(VENV)/.installed-test

.PHONY: run test bench clean sysdeps app validate

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(TSTAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e ".[test]"
	touch $(STAMP) $@

## make run: the default scenario under no policy and the default incentive package, paired
## over RUN_SEEDS seeds (common random numbers): every headline (lifetime abatement, public
## and social US$/t by horizon, free riders, net-to-gross) with its 95 % interval, each
## instrument removed in turn (marginal abatement cost curve of instruments), for whom, and
## the free parameters that drive the headlines (one at a time, DRIVER_SEEDS seed(s)).
## Results under results/default_run/ (compare.md, *.parquet, PNGs; runs/ for sim.report).
RUN_SEEDS    ?= 5
DRIVER_SEEDS ?= 1
# DRIVERS=none: no drivers
DRIVERS      ?= experiments/sensitivity/cluster_behaviour.yaml
run: $(STAMP)
	rm -rf results/default_run
	$(BIN)/python -m sim.compare policies=[incentive_package] seeds=$(RUN_SEEDS) jobs=2 \
		drivers=$(DRIVERS) driver_seeds=$(DRIVER_SEEDS) out=results/default_run
	$(BIN)/python -m sim.report results/default_run/runs --out results/default_run

## make app: the live workshop app on http://127.0.0.1:8765 (APP_PORT=... to change), offline.
APP_PORT ?= 8765
app: $(STAMP)
	SOLARA_TELEMETRY_MIXPANEL_ENABLE=False $(BIN)/solara run sim/viz/app.py --host 127.0.0.1 --port $(APP_PORT) --production --no-open

## Debian packages the tests need (real SLURM, a real browser); installed as root when missing.
SYSPKGS := slurm-wlm munge chromium
sysdeps:
	@missing=""; for p in $(SYSPKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

## make test: the whole test suite.
test: $(TSTAMP) sysdeps
	$(BIN)/python -m pytest -q

## make validate: the validation suite (Bass diffusion, barriers and instruments, field
## evidence, conservation); report and figures in results/validation/.
validate: $(STAMP)
	rm -rf results/validation
	$(BIN)/python -m sim.validation --out results/validation

## make bench: speed and memory figures quoted in the README.
bench: $(STAMP)
	$(BIN)/python benchmarks/bench_engine.py

clean:
	rm -rf $(VENV) results/*/ .pytest_cache
