#!/usr/bin/env bash
# Train the Rasa model if it is missing or older than its sources (the NLU
# components in bot/nlu are trained into the model, so they count).
set -euo pipefail
cd "$(dirname "$0")/.."
export RASA_TELEMETRY_ENABLED=false
newest_src=$(find config.yml domain.yml bot/data bot/nlu -type f -not -path '*/__pycache__/*' -newer bot/models/.trained 2>/dev/null | head -1 || true)
if [ -f bot/models/.trained ] && [ -z "$newest_src" ] && ls bot/models/*.tar.gz >/dev/null 2>&1; then
  exit 0
fi
echo "==> entrenando el modelo de Rasa"
.venv-rasa/bin/rasa train --config config.yml --domain domain.yml --data bot/data \
  --fixed-model-name capp --out bot/models --quiet
touch bot/models/.trained
