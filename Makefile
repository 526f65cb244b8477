# ecs_anywhere.fleet -- developer entry point.  `make setup` once (or never: `make test` does it).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := $(CURDIR)/.venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.setup-done
# A second controller: the lowest ansible-core meta/runtime.yml claims (2.17), pinned in requirements-2.17.txt.
VENV217 := $(CURDIR)/.venv-2.17
STAMP217 := $(VENV217)/.setup-done
COLLECTIONS := $(VENV)/collections
COLLECTION := $(COLLECTIONS)/ansible_collections/ecs_anywhere/fleet

export PATH := $(VENV)/bin:$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export PYTHONPATH := $(COLLECTIONS)
export ANSIBLE_TEST_CONTENT_ROOT := $(COLLECTION)

.PHONY: help setup demo demo-down docs test lint sanity units integration lab faults molecule build package mutation breakages clean \
	setup-217 lab-217 faults-217

help:  ## Show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

setup: $(STAMP)  ## Create .venv with the pinned toolchain and link the tree as ecs_anywhere.fleet

$(STAMP): requirements-dev.txt tests/utils/setup_env.py tests/utils/get_pip_offline.py
	@[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(PY) tests/utils/setup_env.py --venv $(VENV) --tree $(CURDIR)
	@touch $@

demo: setup  ## The collection at work: lab up with 3 hosts, onboard.yml, the fleet report (root; 2-7 min)
	tests/utils/demo.sh

demo-down:  ## Tear the demo's lab down (tests/lab/lab down)
	tests/lab/lab down

# Not part of `make test`: about 40 s. DOCS_LENIENT=1 writes error pages instead of failing on a documentation error.
docs: setup  ## The collection's docs site with antsibull-docs and Sphinx, offline, into .venv/docs/build/html
	tests/utils/build_docs.sh $(VENV)

# Stages side by side where they fit on two cores (tests/utils/run_stages.py: `a+b` at the same time, `a,b` one after
# the other in a lane): lint, units and package beside sanity (ansible-test sanity keeps one core busy); then the
# integration tests (both cores); then the lab tests (two labs, the fault suite included) beside molecule (a lab of
# its own) followed by the fault suite again with ansible-core 2.17 (`make faults-217`, a third lab).
test: setup  ## Everything CI runs: lint, sanity, units, package, integration, lab (fault suite included) with molecule and the fault suite on 2.17 (summary at the end)
	@$(PY) tests/utils/run_stages.py lint,units,package+sanity integration lab+molecule,faults-217

lint: setup  ## ansible-lint (production profile), yamllint and black (the house style for Python, line length 120)
	yamllint --strict .
	black --check .
	ansible-lint

sanity: setup  ## ansible-test sanity, all tests, no ignore lines
	cd $(COLLECTION) && ansible-test sanity --local --python 3.11 --requirements --color no

units: setup  ## Unit tests (pytest, botocore Stubber)
	pytest -n auto -q tests/unit

integration: setup  ## Integration tests and targets against the lab's AWS emulator (moto + ECS Anywhere), started by the run
	tests/utils/install_browser.sh  # Debian's chromium + chromium-driver for the report's browser test, once
	pytest -q -n 2 tests/integration

lab: setup  ## The offline lab (root): install what it needs, then its tests (hosts, proxy, mirror, agents, the fault suite)
	tests/lab/lab setup
	pytest -q -n 2 --dist loadfile --durations=20 tests/lab  # two labs side by side (tests/lab/conftest.py)

# The fault suite alone (`make lab` runs it with the other lab tests), on a lab of its own (instance 7, its own subnet
# and state directory, so that it can run beside `make lab` and `make molecule`). `make faults-217` runs it with
# ansible-core 2.17 (in `make test`, after molecule).
FAULTS_LAB := LAB_INSTANCE=7 LAB_SUBNET=172.29.87.0/24 LAB_STATE_DIR=$(CURDIR)/.lab-faults
faults: setup  ## The fault suite (issue 12) with the pinned ansible-core, on a lab of its own (root)
	tests/lab/lab setup
	$(FAULTS_LAB) pytest -q --durations=10 tests/lab/test_faults.py

setup-217: $(STAMP217)  ## .venv-2.17: ansible-core 2.17 (the lowest the collection claims) beside .venv (pip cache; fast when present)

$(STAMP217): requirements-2.17.txt
	@[ -x $(VENV217)/bin/python ] || $(PYTHON) -m venv $(VENV217)
	$(VENV217)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-2.17.txt
	@touch $@

# The collections (amazon.aws, this tree) come from .venv/collections either way; only ansible-playbook differs.
faults-217: setup setup-217  ## The fault suite with ansible-core 2.17 (the lowest the collection claims), on its lab (root)
	tests/lab/lab setup
	$(FAULTS_LAB) LAB_ANSIBLE_PLAYBOOK=$(VENV217)/bin/ansible-playbook pytest -q --durations=10 tests/lab/test_faults.py

lab-217: setup setup-217  ## The lab onboarding and the whole fault suite with ansible-core 2.17 as the controller (root)
	tests/lab/lab setup
	LAB_ANSIBLE_PLAYBOOK=$(VENV217)/bin/ansible-playbook pytest -q tests/lab/test_onboard.py tests/lab/test_faults.py

# One lab (its own state directory) for every scenario, run in the order of a host's life so that each scenario's
# prepare finds its hosts ready (every scenario also runs alone: `make molecule MOLECULE_SCENARIOS=docker`; or
# `molecule test --all`, which brings the lab up and down through the `default` scenario). `lab down` runs on every
# exit, also after a failure or Ctrl-C (molecule skips its destroy when a scenario fails). Each scenario gets a fresh
# ephemeral directory inside the lab's state directory, where molecule keeps its state. After the first scenario,
# that state says "prepared": the scenario before left the hosts where this one's prepare would bring them (and its
# verify proved it), so molecule skips the prepare -- a full no-op playbook run each (MOLECULE_PREPARE=1 runs them).
MOLECULE_LAB := $(CURDIR)/.lab-molecule
MOLECULE_SCENARIOS ?= preflight docker ssm_agent ecs_agent upgrade offboard onboard
molecule: setup  ## Molecule scenarios (extensions/molecule), one per host role and playbook, on one lab brought up for them
	tests/lab/lab setup
	export LAB_STATE_DIR=$(MOLECULE_LAB) MOLECULE_LAB_INVENTORY=$(MOLECULE_LAB)/inventory.yml; \
	trap 'tests/lab/lab down >/dev/null' EXIT; \
	tests/lab/lab up --hosts 2 >/dev/null; \
	for scenario in $(MOLECULE_SCENARIOS); do \
	  export MOLECULE_EPHEMERAL_DIRECTORY=$(MOLECULE_LAB)/molecule/$$scenario; rm -rf "$$MOLECULE_EPHEMERAL_DIRECTORY"; \
	  if [ "$$scenario" != "$(firstword $(MOLECULE_SCENARIOS))" ] && [ -z "$(MOLECULE_PREPARE)" ]; then \
	    mkdir -p "$$MOLECULE_EPHEMERAL_DIRECTORY"; echo 'prepared: true' > "$$MOLECULE_EPHEMERAL_DIRECTORY/state.yml"; \
	  fi; \
	  molecule test --scenario-name $$scenario --no-shared-state --destroy never $(MOLECULE_ARGS); \
	done

build: setup  ## Build the collection tarball
	ansible-galaxy collection build --force --output-path $(VENV)/build .

package: build  ## Install the built tarball into a scratch path and check ansible-doc lists every module
	tests/utils/check_package.sh $(VENV)

# Not part of `make test`: 6-7 minutes on the quiet 2-core machine, 35 at load 10-14 (two fresh labs, N=2 and N=6,
# three no-op runs each; 2,500 emulated hosts; fleet_info over 5,000). Prints a table, asserts nothing about time.
.PHONY: bench
bench: setup  ## Onboarding costs as a table: no-op ratio, first-run time, AWS calls, fleet_info at 5,000 (root)
	tests/lab/lab setup
	PYTHONPATH=$(COLLECTIONS):$(CURDIR)/tests/lab $(PY) tests/bench/bench.py $(BENCH_ARGS)

# Not part of `make test`: mutation testing is slow (all of plugins/ takes long on two CPUs).
mutation: setup  ## mutmut over plugins/ (or MUTATE=<files/dirs under plugins/>), score, then the breakages
	$(PY) tests/utils/mutation.py $(MUTATION_ARGS) $(MUTATE)

breakages: setup  ## The issue-9 deliberate breakages, each on a scratch copy: tests/unit must fail for every one
	$(PY) tests/utils/breakages.py

clean:  ## Remove the virtualenv and test output
	rm -rf $(VENV) $(VENV217) tests/output .pytest_cache
