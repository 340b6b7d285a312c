#!/usr/bin/env bash
# Every suite. One throwaway PostgreSQL cluster is shared by all of them.
set -euo pipefail
cd "$(dirname "$0")/.."
export RASA_TELEMETRY_ENABLED=false PYTHONDONTWRITEBYTECODE=1
mkdir -p var

pg_log=$(mktemp)
.venv/bin/python -m tests.pgcluster > "$pg_log" 2>&1 &
pg_pid=$!
cleanup() { kill "$pg_pid" 2>/dev/null || true; wait "$pg_pid" 2>/dev/null || true; }
trap cleanup EXIT
for _ in $(seq 1 150); do
  url=$(head -1 "$pg_log" 2>/dev/null || true)
  [[ "$url" == postgresql* ]] && break
  kill -0 "$pg_pid" 2>/dev/null || { cat "$pg_log"; exit 1; }
  sleep 0.2
done
export TEST_POSTGRES_URL="$url"
echo "==> PostgreSQL de pruebas en ${url##*@}"

# The end-to-end suites talk to a trained model; train it once, up front.
scripts/train.sh

status=0
if [ -d tests/bot ] && ls tests/bot/test_*.py >/dev/null 2>&1; then
  echo "==> pruebas del lado de Rasa (.venv-rasa)"
  .venv-rasa/bin/python -m pytest tests/bot -q -p no:cacheprovider --confcutdir=tests/bot || status=$?
fi
echo "==> pruebas de backend, IVR, canales y extremo a extremo (.venv)"
.venv/bin/python -m pytest tests -q --ignore=tests/bot -p no:cacheprovider || status=$?
exit $status
