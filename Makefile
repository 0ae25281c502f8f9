# sectigo.vault_pki — developer entry points. Everything runs from a fresh clone.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# ansible-test needs the collection at ansible_collections/<namespace>/<name>.
BUILD := .build
COLL := $(BUILD)/ansible_collections/sectigo/vault_pki

.PHONY: help venv test unit sanity integration compat demo env env-stop changelog-lint clean collection bench

help:
	@echo "make demo   - start OpenBao + the SCM simulator, run docs/examples/quickstart.yml"
	@echo "make test   - unit tests, ansible-test sanity, integration tests on the live test bed (also on the oldest ansible-core)"
	@echo "make env    - start the test bed and print export lines to use it by hand"
	@echo "make bench  - speed and scale as ratios to a baseline run side by side (docs/bench.md)"

$(BIN)/.installed: requirements.txt requirements-test.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check -q -r requirements-test.txt
	touch $@

venv: $(BIN)/.installed

# A copy (not a symlink: ansible-test resolves real paths) of the tracked tree. Only this copy is
# replaced: the rest of .build (pytest and playbook links, bench results) stays.
collection: venv
	rm -rf $(BUILD)/ansible_collections
	mkdir -p $(COLL)
	git ls-files -co --exclude-standard -z | xargs -0 -I{} cp --parents {} $(COLL)/ 2>/dev/null || true
	cd $(COLL) && git init -q && git add -A >/dev/null

# pytest.ini's testpaths: module_utils, the simulator, the test bed and the bench helpers.
unit: venv
	$(BIN)/python -m pytest -q

# ansible-test fetches a pip bootstrap script from its own file host, which only the package index
# replaces here: hacking/ansible_test_pip_bootstrap.py stands in for it (see its docstring).
ANSIBLE_TEST_PIP_CACHE := $(HOME)/.ansible/test/cache/get_pip_24_2.py

sanity: collection
	mkdir -p $(dir $(ANSIBLE_TEST_PIP_CACHE))
	cp hacking/ansible_test_pip_bootstrap.py $(ANSIBLE_TEST_PIP_CACHE)
	cd $(COLL) && ../../../../$(BIN)/ansible-test sanity --venv --requirements --python 3.11 --color no

integration: collection
	$(BIN)/python tests/testbed/run_integration.py --collection $(COLL)
	$(BIN)/python -m pytest -q tests/e2e

# The oldest ansible-core that meta/runtime.yml accepts, in a virtualenv of its own.
COMPAT_VENV := .venv-compat

$(COMPAT_VENV)/bin/.installed: requirements.txt requirements-compat.txt
	$(PYTHON) -m venv $(COMPAT_VENV)
	$(COMPAT_VENV)/bin/pip install --disable-pip-version-check -q -r requirements-compat.txt
	touch $@

compat: collection $(COMPAT_VENV)/bin/.installed
	$(COMPAT_VENV)/bin/python tests/testbed/run_integration.py --collection $(COLL)
	$(COMPAT_VENV)/bin/python -m pytest -q tests/e2e

test: changelog-lint unit sanity integration compat

demo: venv
	$(BIN)/python tests/testbed/run_demo.py

bench: venv
	$(BIN)/python tests/bench/run_bench.py; first=$$?; $(BIN)/python tests/bench/run_fleet_bench.py; second=$$?; \
	if [ $$first -ne 0 ]; then exit $$first; fi; exit $$second

env: venv
	@$(BIN)/python tests/testbed/env.py

env-stop:
	@$(BIN)/python tests/testbed/env.py --stop

changelog-lint: venv
	$(BIN)/antsibull-changelog lint

clean:
	rm -rf $(BUILD) $(VENV) $(COMPAT_VENV) tests/output
