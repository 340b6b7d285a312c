#!/usr/bin/env bash
# How every Rasa replica starts: the Procfile's `rasa` line, `make cluster`,
# the end-to-end tests and the container image all run this script.
#   TRACKER_STORE_URL  SQL tracker store (default: SQLite under var/)
#   LOCK_STORE_URL     redis://host:port/db (unset: in memory, one replica only)
#   RASA_ADMIN_TOKEN   Rasa's HTTP API (--auth-token); the channels use RASA_TOKEN
#   RASA_HOST/RASA_PORT, RASA_MODEL, RASA_CORS, ACTION_ENDPOINT_URL
set -euo pipefail
raiz="$(cd "$(dirname "$0")/.." && pwd)"
# From the repository root: channels and stores are imported as bot.channels.*,
# bot.almacenes.* (credentials.yml, endpoints.yml).
cd "$raiz"
export RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-3}"
export TRACKER_STORE_URL="${TRACKER_STORE_URL:-sqlite:///$raiz/var/conversaciones.db}"
export ACTION_ENDPOINT_URL="${ACTION_ENDPOINT_URL:-http://127.0.0.1:5055/webhook}"
# A turn holds its conversation's lock at most this long (a replica that dies
# mid-turn frees it then); turns end well before (the IVR waits 8 s).
export TICKET_LOCK_LIFETIME="${TICKET_LOCK_LIFETIME:-20}"
for secreto in RASA_ADMIN_TOKEN ACTIONS_TOKEN; do
  if [ -z "${!secreto:-}" ]; then
    echo "Falta $secreto (API HTTP de Rasa / Rasa -> acciones); ejecute 'make env'." >&2
    exit 78
  fi
done
# bot/servidor.py: the `rasa` command with its check of action answers made cheap.
python="$raiz/.venv-rasa/bin/python"; [ -x "$python" ] || python=python  # the container's has Rasa
exec "$python" -m bot.servidor run -m "${RASA_MODEL:-bot/models/capp.tar.gz}" \
  --enable-api --auth-token="$RASA_ADMIN_TOKEN" \
  --cors "${RASA_CORS:-http://localhost:8000}" \
  --interface "${RASA_HOST:-127.0.0.1}" --port "${RASA_PORT:-5005}" \
  --credentials bot/credentials.yml --endpoints bot/endpoints.yml
