# The platform's commands. `make run` and `make test` are the two that matter; both install what is missing.
SHELL := /bin/bash
.DEFAULT_GOAL := help
UV ?= $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
DATA ?= .data
PYTEST_ARGS ?=

.PHONY: help install run test unit integration lint format stack-up stack-down rebuild rebuild-check bench asyncapi schemas dlq account demo-data clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

install: ## install uv (if missing) and every package of the workspace from the lock file
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	@$(UV) sync --locked --quiet

run: install ## start the local stack and every service; Ctrl-C stops everything (data kept in .data/)
	@$(UV) run python -m servicekit.launcher run --data-dir $(DATA)

test: install lint ## lint, then unit and integration tests (the integration tests start their own stack)
	@$(UV) run pytest libs services tests $(PYTEST_ARGS)

unit: install ## only the tests that need no server
	@$(UV) run pytest libs services tests -m "not integration" $(PYTEST_ARGS)

integration: install ## only the tests on the real local stack
	@$(UV) run pytest libs services tests -m integration $(PYTEST_ARGS)

lint: install ## ruff (lint + format check) and mypy
	@$(UV) run ruff check .
	@$(UV) run ruff format --check .
	@$(UV) run mypy libs/events/events libs/servicekit/servicekit services/*/[a-z]*[a-z]/ tests bench scripts

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

bench: install ## benchmarks: ratios against baselines measured in the same run
	@$(UV) run python -m bench

asyncapi: install ## write docs/asyncapi.json: every topic and event
	@mkdir -p docs
	@$(UV) run python -m events.asyncapi -o docs/asyncapi.json
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
