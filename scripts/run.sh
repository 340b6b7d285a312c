#!/usr/bin/env bash
# Start every service with honcho and print where to reach them.
set -euo pipefail
cd "$(dirname "$0")/.."
cat <<'MSG'

  CAPP asistente
  ──────────────
  Chat web ............ http://localhost:8000/chat
  Backend (API) ....... http://localhost:8000/docs
  IVR (Twilio Voice) .. http://localhost:8001/ivr/voice   (simule una llamada: make call)
  Rasa ................ http://localhost:5005
  Acciones ............ http://localhost:5055
  WhatsApp (Twilio) ... http://localhost:5005/webhooks/whatsapp/webhook  (simule: make whatsapp)

MSG
exec .venv/bin/honcho -f Procfile start
