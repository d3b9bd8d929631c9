# agentarea.secrets — every entry point. `make demo` and `make test` work on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= $(CURDIR)/.venv
BIN := $(VENV)/bin
BUILD ?= /tmp/agentarea-secrets-build-$(shell echo $(CURDIR) | md5sum | cut -c1-8)
ANSIBLE_TEST_PIP := $(HOME)/.ansible/test/cache/get_pip_24_2.py
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=
# Python may write bytecode: pytest's assertion rewriting is cached in tests/**/__pycache__ (without it every pytest
# process and xdist worker rewrites every test module again), and every ansible-playbook of the tests compiles the
# installed collection's plugins once instead of on every run. (Some images set PYTHONDONTWRITEBYTECODE=1.)
unexport PYTHONDONTWRITEBYTECODE
# pytest-xdist workers of `make pytest` and `make check` (PYTEST_WORKERS=0: one process). A test file is one unit
# of work, the Docker swarm tests one group, longest first (tests/harness/schedule.py).
PYTEST_WORKERS ?= 2
XDIST = -n $(PYTEST_WORKERS) --dist loadgroup --no-loadscope-reorder
# `make check`: the unit tests and the scenarios that need no server (local stores, catalog_info, the audit role)
CHECK_TESTS ?= tests/unit tests/integration/test_local.py tests/integration/test_catalog_info.py \
  tests/integration/test_role_audit.py
# e.g. make bench BENCH_ARGS="--secrets 20 --rounds 1" for a quick run
BENCH_ARGS ?=

.PHONY: help venv system-deps deps demo test check unit integration molecule sanity lint docs build bench clean pytest faults

help:
	@echo "make demo   - provision and rotate an AgentArea-style set of local secrets (no server needed)"
	@echo "make test   - install everything, then sanity, lint and the main suite (unit and integration tests)"
	@echo "make faults - the fault suite (stores, hosts and the controller failing mid-run); CI runs it too"
	@echo "make check  - the quick loop (< 2 min): unit tests and the local scenarios, no server"
	@echo "make matrix - the integration scenarios under every claimed ansible-core (2.17-2.21); CI runs it too"
	@echo "make unit | integration | molecule | sanity | lint | docs | build | bench | clean"

$(STAMP): requirements.txt tests/requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r tests/requirements.txt
	touch $(STAMP)

venv: $(STAMP)

system-deps:
	bash tests/harness/install-system-deps.sh

deps: system-deps venv

demo: venv
	bash scripts/demo.sh

unit: venv
	$(BIN)/python -m pytest tests/unit -q $(PYTEST_ARGS)

integration: deps
	$(BIN)/python -m pytest tests/integration -q $(PYTEST_ARGS)

# the roles' molecule scenarios (extensions/molecule/) alone; `make integration` and `make test` include them
molecule: venv
	$(BIN)/python -m pytest tests/integration/test_molecule.py -q $(PYTEST_ARGS)

# the main suite: unit + integration (not the fault suite) in one pytest run over $(PYTEST_WORKERS) workers, so the
# run ends with pytest's summary line
pytest: deps
	$(BIN)/python -m pytest -q $(XDIST) -m "not faults" $(PYTEST_ARGS)

# the fault suite (issue 14, docs/reliability.md): stores restarted, throttling, timeouts, hosts and the controller
# killed mid-run — tests/integration/test_faults_*.py and test_rotation_faults.py; CI runs it beside `make test`
faults: deps
	$(BIN)/python -m pytest -q $(XDIST) -m faults tests/integration $(PYTEST_ARGS)

check: deps
	$(BIN)/python -m pytest -q $(XDIST) $(CHECK_TESTS) $(PYTEST_ARGS)

$(ANSIBLE_TEST_PIP): scripts/ansible-test-get-pip.py
	mkdir -p $(dir $@)
	cp $< $@

sanity: venv $(ANSIBLE_TEST_PIP)
	target=$$(bash scripts/stage-collection.sh $(BUILD)) && cd $$target && \
	  PATH=$(BIN):$$PATH $(BIN)/ansible-test sanity --venv --python 3.11 --color no

lint: venv
	mkdir -p $(BUILD)/lint/ansible_collections/agentarea
	ln -sfn $(CURDIR) $(BUILD)/lint/ansible_collections/agentarea/secrets
	ANSIBLE_COLLECTIONS_PATH=$(BUILD)/lint PATH=$(BIN):$$PATH $(BIN)/ansible-lint --offline --profile production

docs: venv
	bash scripts/check-docs.sh

build: venv
	$(BIN)/ansible-galaxy collection build --force --output-path dist .

# The controller matrix: tests/integration/test_matrix.py under every ansible-core release line that
# meta/runtime.yml claims (tests/matrix/lines.txt; 2.20+ on pyenv's Python 3.12/3.13), each with its own venv cached
# under $(BUILD)/matrix. Prints the table and writes it to tests/matrix/results.md. MATRIX_LINES="2.17 2.21" picks.
MATRIX_LINES ?=
.PHONY: matrix
matrix: venv
	MAIN_VENV=$(VENV) MATRIX_LINES="$(MATRIX_LINES)" bash scripts/matrix.sh $(BUILD)

bench: deps
	$(BIN)/python tests/bench/run.py $(BENCH_ARGS)

# Everything CI runs: the static checks, then one pytest run (unit, integration, molecule) whose summary line ends
# the output. Every step runs even when an earlier one failed, so one run shows every problem; the exit status is
# non-zero if any failed.
test: deps
	@failed=""; \
	for step in sanity lint docs build; do \
	  $(MAKE) --no-print-directory $$step || failed="$$failed $$step"; \
	done; \
	[ -z "$$failed" ] || echo "make test: failed before pytest:$$failed"; \
	$(MAKE) --no-print-directory pytest || failed="$$failed pytest"; \
	[ -z "$$failed" ] || { echo "make test: failed:$$failed"; exit 1; }

clean:
	rm -rf $(BUILD) dist tests/output .pytest_cache
