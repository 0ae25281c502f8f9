# sectigo.vault_pki — developer entry points. Everything runs from a fresh clone.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# ansible-test needs the collection at ansible_collections/<namespace>/<name>.
BUILD := .build
COLL := $(BUILD)/ansible_collections/sectigo/vault_pki

.PHONY: help venv system-deps test-all newest-e2e compat-e2e test unit units lint docs galaxy sanity sanity-more integration newest compat demo env env-stop changelog-lint \
	clean collection bench pythons ansible-test-pip checkout-link chaos

help:
	@echo "make demo   - start OpenBao + the SCM simulator, run docs/examples/quickstart.yml"
	@echo "make test   - lint, unit tests, ansible-test units and sanity, the docs site, Galaxy's import of the tarball,"
	@echo "              integration tests on the live test bed with ansible-core 2.19, the newest release and 2.16,"
	@echo "              the e2e suite on 2.19"
	@echo "make test-all - make test, ansible-test units and sanity on Python 3.13 too, and the e2e suite on the newest"
	@echo "              release and on 2.16"
	@echo "make env    - start the test bed and print export lines to use it by hand"
	@echo "make bench  - speed and scale as ratios to a baseline run side by side, and one controller's ceiling (docs/bench.md)"
	@echo "make chaos  - crashes, faults, concurrent runs, Vault outage, bad input on the live test bed (docs/reliability.md)"

# Two steps into one virtualenv: what the demo needs (requirements-demo.txt), then the test tool chain on top.
$(BIN)/.demo-installed: requirements.txt requirements-demo.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check -q -r requirements-demo.txt
	touch $@

$(BIN)/.installed: $(BIN)/.demo-installed requirements-test.txt tests/testbed/openbao-ldap.txt
	$(BIN)/pip install --disable-pip-version-check -q -r requirements-test.txt
	$(BIN)/pip install --disable-pip-version-check -q --upgrade --target $(VENV)/openbao-ldap -r tests/testbed/openbao-ldap.txt
	touch $@

venv: $(BIN)/.installed

# The Debian packages bindep.txt lists (run time and the test bed's), installed when missing.
system-deps:
	bash hacking/install_system_packages.sh

# A copy (not a symlink: ansible-test resolves real paths) of the tracked tree. Only this copy is
# replaced: the rest of .build (pytest and playbook links, bench results) stays.
collection: venv
	rm -rf $(BUILD)/ansible_collections
	mkdir -p $(COLL)
	git ls-files -co --exclude-standard -z | xargs -0 -I{} cp --parents {} $(COLL)/ 2>/dev/null || true
	cd $(COLL) && git init -q && git add -A >/dev/null

# A link .build/checkout/ansible_collections/sectigo/vault_pki -> the checkout, for tools that look the collection
# up on a collections path (ansible-lint offline, antsibull-docs --use-current).
CHECKOUT_COLLECTIONS := $(BUILD)/checkout

checkout-link:
	mkdir -p $(CHECKOUT_COLLECTIONS)/ansible_collections/sectigo
	ln -sfn ../../../.. $(CHECKOUT_COLLECTIONS)/ansible_collections/sectigo/vault_pki

# pytest.ini's testpaths: module_utils, the simulator, the test bed and the bench helpers.
unit: venv
	$(BIN)/python -m pytest -q

# ansible-lint's production profile (.ansible-lint) on what users copy and what the tests run.
# tests/bench/playbooks is left out: it uses community.hashi_vault, which make bench downloads, and it is not shipped.
LINT_PATHS := roles docs/examples tests/integration/targets tests/e2e/playbooks

# community.crypto (the certificate role's dependency) comes from tests/testbed/extra_collections.py.
lint: venv checkout-link
	crypto="$$($(BIN)/python tests/testbed/extra_collections.py community.crypto)" && \
	PATH="$(CURDIR)/$(BIN):$$PATH" ANSIBLE_COLLECTIONS_PATH="$(CURDIR)/$(CHECKOUT_COLLECTIONS):$$crypto" \
		$(BIN)/ansible-lint --nocolor $(LINT_PATHS)

# ansible-test fetches a pip bootstrap script from its own file host, which only the package index
# replaces here: hacking/ansible_test_pip_bootstrap.py stands in for it (see its docstring). ansible-core 2.19
# asks for pip 24.2, 2.20 and later for pip 25.2.
ANSIBLE_TEST_PIP_CACHE := $(HOME)/.ansible/test/cache
ANSIBLE_TEST_PIPS := 24_2 25_2

ansible-test-pip:
	mkdir -p $(ANSIBLE_TEST_PIP_CACHE)
	for v in $(ANSIBLE_TEST_PIPS); do cp hacking/ansible_test_pip_bootstrap.py $(ANSIBLE_TEST_PIP_CACHE)/get_pip_$$v.py; done

# ansible-test --python X.Y looks for pythonX.Y on PATH, where a pyenv shim for a version that pyenv does not
# select exists but does not run. .build/pythons holds one link per version to a working interpreter;
# hacking/find_python.sh says what to install when one is missing.
PYTHONS := $(BUILD)/pythons
PYTHON_VERSIONS := 3.11 3.12 3.13

pythons:
	mkdir -p $(PYTHONS)
	for v in $(PYTHON_VERSIONS); do py="$$(hacking/find_python.sh $$v)" || exit 1; ln -sfn "$$py" $(PYTHONS)/python$$v; done

# $(call ansible_test,VENV,ARGS): that virtualenv's ansible-test on the collection copy.
ansible_test = cd $(COLL) && PATH="$(CURDIR)/$(PYTHONS):$(CURDIR)/$(1)/bin:$$PATH" $(CURDIR)/$(1)/bin/ansible-test $(2) --color no

# Every sanity test, no ignore file: make test runs it on Python 3.11 with ansible-core 2.19 here and on 3.12 with the
# newest release (`make newest`); make test-all adds 3.13 (`make sanity-more`).
SANITY_PYTHONS := 3.11

sanity: collection pythons ansible-test-pip
	for v in $(SANITY_PYTHONS); do ( $(call ansible_test,$(VENV),sanity --venv --requirements --python $$v) ) || exit 1; done

sanity-more: collection pythons ansible-test-pip
	$(call ansible_test,$(VENV),sanity --venv --requirements --python 3.13)

# The unit tests as ansible-test runs them: its own pytest configuration, tests/unit/requirements.txt.
units: collection pythons ansible-test-pip
	$(call ansible_test,$(VENV),units --venv --requirements --python 3.11)

# The docs site. The rst guides are written from docs/*.md (hacking/md_to_rst.py; commit what it changes), the
# collection's docs are linted, then antsibull-docs sets up a Sphinx site in .build/docsite and builds it with
# warnings as errors, offline (hacking/docsite_offline.py). community.crypto, a dependency in galaxy.yml, must be on the
# collections path: tests/testbed/extra_collections.py unpacks it.
DOCSITE := $(BUILD)/docsite

docs: venv checkout-link
	$(BIN)/python hacking/md_to_rst.py
	crypto="$$($(BIN)/python tests/testbed/extra_collections.py community.crypto)" && \
	export PATH="$(CURDIR)/$(BIN):$$PATH" ANSIBLE_COLLECTIONS_PATH="$(CURDIR)/$(CHECKOUT_COLLECTIONS):$$crypto" && \
	$(BIN)/antsibull-docs lint-collection-docs --plugin-docs . && \
	rm -rf $(DOCSITE) && mkdir -p -m 700 $(DOCSITE) && \
	$(BIN)/antsibull-docs sphinx-init --use-current --fail-on-error --squash-hierarchy --dest-dir $(DOCSITE) \
		--project sectigo.vault_pki --copyright "sectigo.vault_pki contributors" --title sectigo.vault_pki \
		--html-short-title sectigo.vault_pki sectigo.vault_pki >/dev/null && \
	$(BIN)/python hacking/docsite_offline.py $(DOCSITE) && \
	bash $(DOCSITE)/build.sh
	@echo "docs site: $(DOCSITE)/build/html/index.html"

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

# The execution environment's build context: ansible-builder create on docs/examples/execution-environment.yml, then
# the context's introspection (and ansible-builder introspect) over the collection installed from its tarball must list
# every package the collection needs (hacking/check_ee.py). No container engine is needed.
.PHONY: ee
ee: venv
	$(BIN)/python hacking/check_ee.py

integration: collection
	$(BIN)/python tests/testbed/run_integration.py --collection $(COLL)
	$(BIN)/python -m pytest -q tests/e2e

# The newest ansible-core release (requirements-newest.txt) needs Python 3.12 or newer: a virtualenv of its own on
# the Python 3.12 that hacking/find_python.sh finds (pyenv's, or python3.12 on PATH).
NEWEST_VENV := .venv-newest

$(NEWEST_VENV)/bin/.installed: requirements.txt requirements-newest.txt
	py="$$(hacking/find_python.sh 3.12)" && "$$py" -m venv $(NEWEST_VENV)
	$(NEWEST_VENV)/bin/pip install --disable-pip-version-check -q -r requirements-newest.txt
	touch $@

# make test runs the e2e suite once (on 2.19, in `integration`); the other ansible-cores run sanity, units and the
# integration targets. make test-all adds the e2e suite on each of them (newest-e2e, compat-e2e).
newest: collection pythons ansible-test-pip $(NEWEST_VENV)/bin/.installed
	$(call ansible_test,$(NEWEST_VENV),sanity --venv --requirements --python 3.12)
	$(call ansible_test,$(NEWEST_VENV),units --venv --requirements --python 3.12)
	$(NEWEST_VENV)/bin/python tests/testbed/run_integration.py --collection $(COLL)

newest-e2e: collection $(NEWEST_VENV)/bin/.installed
	$(NEWEST_VENV)/bin/python -m pytest -q tests/e2e

# The oldest ansible-core that meta/runtime.yml accepts, in a virtualenv of its own.
COMPAT_VENV := .venv-compat

$(COMPAT_VENV)/bin/.installed: requirements.txt requirements-compat.txt
	$(PYTHON) -m venv $(COMPAT_VENV)
	$(COMPAT_VENV)/bin/pip install --disable-pip-version-check -q -r requirements-compat.txt
	touch $@

compat: collection $(COMPAT_VENV)/bin/.installed
	$(COMPAT_VENV)/bin/python tests/testbed/run_integration.py --collection $(COLL)

compat-e2e: collection $(COMPAT_VENV)/bin/.installed
	$(COMPAT_VENV)/bin/python -m pytest -q tests/e2e

# make test fits in 35 minutes from a fresh clone on a 2-core machine (docs/testing.md); `make units` (ansible-test's run
# of the same unit tests as `make unit`) runs on 3.12 in `make newest`.
test: system-deps changelog-lint lint unit sanity docs galaxy ee integration newest compat

# The whole matrix: make test, ansible-test units and sanity on 2.19 with 3.11 and 3.13, and the e2e suite on the
# newest ansible-core and on the oldest one too.
test-all: test units sanity-more newest-e2e compat-e2e

# Only ansible-core, the collection's requirements and OpenBao (requirements-demo.txt), not the test tool chain.
demo: $(BIN)/.demo-installed
	$(BIN)/python tests/testbed/run_demo.py

# CEILING_ARGS passes options to the ceiling run (10,000 new certificates in one sectigo_certs run), e.g.
# CEILING_ARGS="--size 1000" for a quick check (docs/bench.md "One controller's ceiling").
bench: venv
	$(BIN)/python tests/bench/run_bench.py; first=$$?; $(BIN)/python tests/bench/run_fleet_bench.py; second=$$?; \
	$(BIN)/python tests/bench/run_sim_bench.py; third=$$?; $(BIN)/python tests/bench/run_estate_bench.py; fourth=$$?; \
	$(BIN)/python tests/bench/run_ceiling_bench.py $(CEILING_ARGS); fifth=$$?; \
	for rc in $$first $$second $$third $$fourth; do if [ $$rc -ne 0 ]; then exit $$rc; fi; done; exit $$fifth

# Not part of make test: about 15 minutes. CHAOS_ARGS passes options, e.g. CHAOS_ARGS="--only crash --crash-reps 1".
chaos: venv
	$(BIN)/python tests/chaos $(CHAOS_ARGS)

env: venv
	@$(BIN)/python tests/testbed/env.py

env-stop:
	@$(BIN)/python tests/testbed/env.py --stop

changelog-lint: venv
	$(BIN)/antsibull-changelog lint

clean:
	rm -rf $(BUILD) $(VENV) $(COMPAT_VENV) $(NEWEST_VENV) .ansible tests/output
