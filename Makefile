# Two commands: `make demo` and `make test`. Both install what they need.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP_PY := $(VENV)/.installed
STAMP_NODE := node_modules/.installed

SLITHER_VENV := .venv-slither
STAMP_SLITHER := $(SLITHER_VENV)/.installed
# slither-analyzer pins web3 < 8, so it lives in its own environment.
SLITHER_VERSION := 0.11.6

.PHONY: install demo test lint typecheck slither pytest compile verifier app deploy anvil bench fuzz load drills clean

install: $(STAMP_PY) $(STAMP_NODE)

$(STAMP_PY): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

$(STAMP_NODE): package.json package-lock.json
	npm install --no-audit --no-fund --no-save
	touch $@

$(STAMP_SLITHER):
	test -x $(SLITHER_VENV)/bin/python || $(PYTHON) -m venv $(SLITHER_VENV)
	$(SLITHER_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(SLITHER_VENV)/bin/python -m pip install --quiet slither-analyzer==$(SLITHER_VERSION)
	touch $@

# Static analysis of contracts/ through the solc shim; fails on medium or high.
slither: $(STAMP_NODE) $(STAMP_SLITHER)
	$(SLITHER_VENV)/bin/slither contracts --solc-standard-json --config-file slither.config.json

compile: install
	$(PY) scripts/compile.py

# The static proof verifier (frontend_static/verify/): its JavaScript and npm
# dependencies, with the compiled ABIs, bundled into verify.bundle.js (committed).
verifier: compile
	npm run --silent build:verify

# The field app's script (frontend_static/app/app.js with npm ethers), bundled and committed.
app:
	npm run --silent build:app

deploy: install
	$(PY) scripts/deploy.py

anvil: install
	$(PY) scripts/anvil.py

# make demo [PORT=8000] [HOST=127.0.0.1] [CHAIN=tester|anvil]
PORT ?= 8000
HOST ?= 127.0.0.1
CHAIN ?= tester
demo: install
	$(PY) scripts/demo.py --port $(PORT) --host $(HOST) --chain $(CHAIN)

lint: install
	$(VENV)/bin/ruff check backend scripts tests bench
	$(VENV)/bin/ruff format --check backend scripts tests bench

typecheck: install
	$(VENV)/bin/mypy

# One worker per core (PYTEST_WORKERS=0 runs in one process); tests sharing a
# module-scoped fixture stay in one worker, long units first (tests/scheduling.py).
PYTEST_WORKERS ?= auto
pytest: install
	$(VENV)/bin/pytest -n $(PYTEST_WORKERS) --dist loadgroup --durations=25 $(PYTEST_ARGS)

# ruff first (seconds); then mypy and Slither run beside pytest, their output held
# back until pytest ends. Any step failing fails the target.
test: lint $(STAMP_NODE) $(STAMP_SLITHER)
	@mkdir -p build
	@$(MAKE) --no-print-directory typecheck slither > build/static-checks.log 2>&1 & checks=$$!; \
	$(MAKE) --no-print-directory pytest; tests=$$?; \
	wait $$checks; static=$$?; \
	echo "--- mypy and Slither (run beside pytest) ---"; cat build/static-checks.log; \
	if [ $$static -ne 0 ]; then echo "make test: mypy or Slither failed"; fi; \
	if [ $$tests -ne 0 ]; then echo "make test: pytest failed"; fi; \
	[ $$tests -eq 0 ] && [ $$static -eq 0 ]

# Every benchmark (gas, ingest, merkle, anchor latency, wrk load, fault drills) into bench/REPORT.md.
bench: install
	$(PY) bench/report.py

# The schema fuzz test with a larger budget than `make test` (examples per operation and mode,
# on each database).
FUZZ_EXAMPLES ?= 300
fuzz: install
	WAYMARK_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) WAYMARK_FUZZ_EXAMPLES_POSTGRESQL=$(FUZZ_EXAMPLES) \
	  $(VENV)/bin/pytest -q tests/backend/test_api_schema.py

# wrk against the QR page and the batch ingest endpoint (LOAD_ARGS="--duration 10" for a quick run).
load: install
	$(PY) bench/load.py $(LOAD_ARGS)

# Worker kill -9, node outage and reorg drills on anvil, then the replica drill (two APIs and
# two workers behind HAProxy, one of each killed mid-load); exits non-zero on any violation.
drills: install
	$(PY) bench/drills.py $(DRILLS_ARGS)
	$(PY) bench/replicas.py $(REPLICAS_ARGS)

clean:
	rm -rf build .pytest_cache .mypy_cache .ruff_cache
