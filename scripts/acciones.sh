#!/usr/bin/env bash
# How every action server starts (Procfile `actions`, make cluster, tests, image).
set -euo pipefail
raiz="$(cd "$(dirname "$0")/.." && pwd)"
# From the repository root: actions are the package bot.actions, and rasa_sdk
# finds its plugin package (rasa_sdk_plugins/) there.
cd "$raiz"
export RASA_TELEMETRY_ENABLED=false
# rasa_sdk binds to SANIC_HOST; only Rasa calls it (with ACTIONS_TOKEN).
export SANIC_HOST="${ACTIONS_HOST:-127.0.0.1}"
if [ -z "${ACTIONS_TOKEN:-}" ]; then
  echo "Falta ACTIONS_TOKEN (Rasa -> servidor de acciones); ejecute 'make env'." >&2
  exit 78
fi
rasa="$raiz/.venv-rasa/bin/rasa"; [ -x "$rasa" ] || rasa=rasa  # the container has it on PATH
exec "$rasa" run actions --actions bot.actions --port "${ACTIONS_PORT:-5055}"
