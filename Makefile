# CAPP asistente. `make run` brings everything up; `make test` runs every suite.
SHELL := /bin/bash
export RASA_TELEMETRY_ENABLED := false
export PYTHONDONTWRITEBYTECODE := 1
PY := .venv/bin/python
RASA := .venv-rasa/bin/rasa
COUNT ?= 1000

.PHONY: setup setup-app setup-rasa system-deps env run cluster test seed migrate train bench lint call whatsapp clean

setup: setup-app setup-rasa

setup-app:
	@scripts/setup.sh app

setup-rasa:
	@scripts/setup.sh rasa

system-deps:
	@scripts/system_deps.sh

# Writes .env if missing, or adds secrets an older one lacks; never changes a value.
env:
	@python3 scripts/ensure_env.py

migrate: setup-app env
	@$(PY) -m backend.migrate

seed: migrate
	@$(PY) -m backend.seed --count $(COUNT)

train: setup-rasa
	@scripts/train.sh

run: setup env seed train
	@scripts/run.sh

# Production shape on one machine: PostgreSQL, Redis, 2 Rasa, 2 actions,
# 2 backend workers, IVR, nginx in front (see README "Réplicas").
cluster: setup system-deps train
	@$(PY) -m tools.cluster

test: setup system-deps
	@scripts/test.sh

bench: setup system-deps
	@scripts/bench.sh

lint: setup-app
	@.venv/bin/ruff check backend ivr bot habla rasa_sdk_plugins tests bench scripts tools
	@.venv/bin/mypy backend ivr bot habla rasa_sdk_plugins

call: setup-app env
	@$(PY) -m ivr.simulator

whatsapp: setup-app env
	@$(PY) -m tools.whatsapp

clean:
	rm -rf var bot/models .venv .venv-rasa
