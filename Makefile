# scratchlm — every target sets itself up: `make demo` and `make test` are the only commands a new user types.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
# The CPU wheel of torch 2.13.0 is what this project is tested with (on the dev machines it lies on disk).
# Override for a CUDA machine, e.g. `make setup TORCH_SPEC="torch>=2.4"`.
TORCH_SPEC ?= torch==2.13.0
STAMP  := $(VENV)/.scratchlm-setup
PYTEST_ARGS ?=

.PHONY: setup setup-browser demo test test-all lint format bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml Makefile
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -c "import torch" 2>/dev/null || $(PIP) install -q "$(TORCH_SPEC)" || $(PIP) install -q "torch>=2.4"
	$(PIP) install -q -e ".[data,dev,vectors,serve,onnx,tracking]"
	@touch $(STAMP)
	@echo "setup done: $(VENV) ($$($(PY) -c 'import torch; print("torch", torch.__version__)'))"

demo: setup
	$(PY) -m scratchlm.cli.demo --out runs/demo-zh-sentiment

# Imports flow one way (import-linter contracts in pyproject.toml), then the tests.
test: setup
	$(VENV)/bin/lint-imports --no-cache
	$(PY) -m pytest -q $(PYTEST_ARGS)

# The browser tests (the serve page, the lab) drive Debian's chromium with playwright (no browser download);
# a CJK font so that their screenshots show Chinese.
setup-browser: setup
	@test -x /usr/bin/chromium || { apt-get update -qq && apt-get install -y -qq chromium fonts-noto-cjk; } \
		|| echo "could not install chromium: the browser test will be skipped"
	@$(PY) -c "import playwright" 2>/dev/null || $(PIP) install -q playwright

# -rs: every skipped test says why (no chromium, no playwright, no GPU, ...). The fuzzers
# (tests/fuzz_helpers.py) run 1,000 cases each here, 100 in `make test`.
test-all: setup setup-browser
	SCRATCHLM_FUZZ_EXAMPLES=1000 $(PY) -m pytest -q -rs -m "" $(PYTEST_ARGS)

lint: setup
	$(VENV)/bin/lint-imports --no-cache
	$(PY) -m ruff check src tests benchmarks scripts
	$(PY) -m ruff format --check src tests benchmarks scripts

format: setup
	$(PY) -m ruff format src tests benchmarks scripts
	$(PY) -m ruff check --fix src tests benchmarks scripts

bench: setup
	@for script in benchmarks/*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

clean:
	rm -rf runs .pytest_cache
