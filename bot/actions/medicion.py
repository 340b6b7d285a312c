"""How long each action and each backend call takes: one structured log line per action.

Every action (and form validator) runs inside `medir_accion(nombre)`; the backend
client records each of its requests in the action's record. When the action ends,
one INFO line is logged:

    tiempos {"accion": "action_consultar_saldo", "ms": 9.4,
             "backend": [{"metodo": "GET", "ruta": "/api/v1/prestamos/saldo", "status": 200,
                          "ms": 4.1, "servidor_ms": 2.3}, ...]}

(`servidor_ms`: the backend's own time, from its `Server-Timing` header.)

Only names, paths with claves masked, statuses and milliseconds: no slot values, no
sender ids. `bench/turnos.py` reads these lines for its breakdown of a turn; they
cost a few microseconds, so they stay on in production (logger `bot.actions.medicion`,
set it to WARNING to silence them).
"""

from __future__ import annotations

import json
import logging
import re
import time
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any, AsyncIterator, Dict, List, Optional

logger = logging.getLogger(__name__)

PREFIJO = "tiempos "
_DURACION = re.compile(r"\bapp;dur=(\d+(?:\.\d+)?)")

_llamadas: ContextVar[Optional[List[Dict[str, Any]]]] = ContextVar(
    "capp_llamadas_backend", default=None
)


def registrar_llamada(metodo: str, ruta: str, status: Optional[int], ms: float,
                      servidor: Optional[str] = None) -> None:
    """One backend request of the running action (`status` None: no answer).
    `servidor`: the answer's `Server-Timing` header (`app;dur=<ms>`), the
    backend's own share of `ms`."""
    llamadas = _llamadas.get()
    if llamadas is not None:
        llamada: Dict[str, Any] = {
            "metodo": metodo,
            "ruta": ruta,
            "status": status,
            "ms": round(ms, 1),
        }
        dur = _DURACION.search(servidor or "")
        if dur:
            llamada["servidor_ms"] = float(dur.group(1))
        llamadas.append(llamada)


@asynccontextmanager
async def medir_accion(nombre: str) -> AsyncIterator[None]:
    """Time the block as action `nombre`; nested blocks (a subclass calling its
    parent's `run`) are part of the outer one."""
    if _llamadas.get() is not None:
        yield
        return
    marca = _llamadas.set([])
    inicio = time.perf_counter()
    try:
        yield
    finally:
        ms = (time.perf_counter() - inicio) * 1000
        llamadas = _llamadas.get() or []
        _llamadas.reset(marca)
        if logger.isEnabledFor(logging.INFO):
            logger.info("%s%s", PREFIJO, json.dumps(
                {"accion": nombre, "ms": round(ms, 1), "backend": llamadas}, ensure_ascii=False))
