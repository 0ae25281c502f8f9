# sectigo.vault_pki — developer entry points. Everything runs from a fresh clone.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# ansible-test needs the collection at ansible_collections/<namespace>/<name>.
BUILD := .build
COLL := $(BUILD)/ansible_collections/sectigo/vault_pki

.PHONY: help venv test unit lint galaxy sanity integration compat demo env env-stop changelog-lint clean collection bench

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

# What Galaxy gets: build the tarball as a release does (galaxy.yml's build_ignore applies), run Galaxy's own importer
# on it (any ERROR or WARNING fails), then install it into an empty collections path and run the quick start from
# the installed copy against the live test bed (tests/testbed/run_installed.py).
GALAXY_OUT := $(BUILD)/galaxy

galaxy: venv
	rm -rf $(GALAXY_OUT)
	$(BIN)/ansible-galaxy collection build --output-path $(GALAXY_OUT) .
	cd $(GALAXY_OUT) && PATH="$(CURDIR)/$(BIN):$$PATH" $(CURDIR)/$(BIN)/python -m galaxy_importer.main \
		sectigo-vault_pki-*.tar.gz > importer.log 2>&1 || { cat importer.log; exit 1; }
	@if grep -E '^(ERROR|WARNING)' $(GALAXY_OUT)/importer.log; then echo "galaxy-importer: see $(GALAXY_OUT)/importer.log"; exit 1; fi
	@grep -E 'completed successfully' $(GALAXY_OUT)/importer.log
	$(BIN)/python tests/testbed/run_installed.py --tarball $(GALAXY_OUT)/sectigo-vault_pki-*.tar.gz

# pytest.ini's testpaths: module_utils, the simulator, the test bed and the bench helpers.
unit: venv
	$(BIN)/python -m pytest -q

# ansible-lint's production profile (.ansible-lint) on what users copy and what the tests run. It runs offline, so
# it finds this collection's modules through a link .build/lint/ansible_collections/sectigo/vault_pki -> the checkout.
LINT_PATHS := roles docs/examples tests/integration/targets tests/e2e/playbooks tests/bench/playbooks
LINT_COLLECTIONS := $(BUILD)/lint

lint: venv
	mkdir -p $(LINT_COLLECTIONS)/ansible_collections/sectigo
	ln -sfn ../../../.. $(LINT_COLLECTIONS)/ansible_collections/sectigo/vault_pki
	PATH="$(CURDIR)/$(BIN):$$PATH" ANSIBLE_COLLECTIONS_PATH="$(CURDIR)/$(LINT_COLLECTIONS)" \
		$(BIN)/ansible-lint --nocolor $(LINT_PATHS)

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

test: changelog-lint lint unit sanity galaxy integration compat

demo: venv
	$(BIN)/python tests/testbed/run_demo.py

bench: venv
	$(BIN)/python tests/bench/run_bench.py

env: venv
	@$(BIN)/python tests/testbed/env.py

env-stop:
	@$(BIN)/python tests/testbed/env.py --stop

changelog-lint: venv
	$(BIN)/antsibull-changelog lint

clean:
	rm -rf $(BUILD) $(VENV) $(COMPAT_VENV) tests/output
