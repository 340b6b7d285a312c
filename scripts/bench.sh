#!/usr/bin/env bash
# Benchmarks: print figures, assert nothing. COUNT sets the derechohabientes for saldo.
set -euo pipefail
cd "$(dirname "$0")/.."
export RASA_TELEMETRY_ENABLED=false
echo "==> simulaciones por segundo (un worker)"
.venv/bin/python bench/simulaciones.py
echo "==> consulta de saldo p50/p99 con ${BENCH_COUNT:-1000000} derechohabientes (SQLite y PostgreSQL)"
.venv/bin/python bench/saldo.py --count "${BENCH_COUNT:-1000000}"
if [ "${BENCH_NLU:-1}" = 1 ]; then
  echo "==> NLU: macro-F1 por validación cruzada y en el conjunto reservado"
  .venv-rasa/bin/python bench/nlu.py
fi
if [ "${BENCH_TURNOS:-1}" = 1 ]; then
  echo "==> latencia de turnos: asistente contra el bot de \`rasa init\`, ráfagas de ${BENCH_RAFAGA:-32}, desglose del turno del NIP"
  .venv/bin/python bench/turnos.py --rondas "${BENCH_RONDAS:-25}" --rafaga "${BENCH_RAFAGA:-32}"
fi
if [ "${BENCH_REPLICAS:-1}" = 1 ]; then
  echo "==> qué compran las réplicas: turno del NIP en la forma de producción con 1 y 2 réplicas de Rasa"
  .venv/bin/python bench/replicas.py --rafaga "${BENCH_RAFAGA:-32}"
fi
if [ "${BENCH_CONVERSACIONES:-1}" = 1 ]; then
  echo "==> conversaciones completadas por canal, registro y tema (tests/e2e/conversaciones)"
  .venv/bin/python bench/conversaciones.py
fi
