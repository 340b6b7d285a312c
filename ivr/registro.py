"""How each call ended, as JSON lines in `var/ivr_llamadas.jsonl`.

Two kinds of rows, both keyed by CallSid:
  {"evento": "fin_ivr", "motivo": "asesor|colgado|sin_respuesta|error_rasa|..."}
      written when our TwiML ends the call (we know *why*);
  {"evento": "estado", "estado": "completed|busy|no-answer|failed|canceled", "duracion": 42}
      written by Twilio's status callback (we learn *that* it ended, e.g. the
      caller hung up mid-menu).
An append-only file needs no schema or migration and is easy to ship to any log
pipeline; the caller's number is stored masked (last 4 digits only).
"""

from __future__ import annotations

import json
import logging
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

_lock = threading.Lock()
logger = logging.getLogger(__name__)


def mascara_telefono(numero: str | None) -> str:
    if not numero:
        return ""
    digitos = [c for c in numero if c.isdigit()]
    return "*" * max(len(digitos) - 4, 0) + "".join(digitos[-4:])


class Registro:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def escribir(self, call_sid: str, evento: str, **datos: Any) -> None:
        """Append one row. Never raises: a full disk must not cut a call short."""
        fila = {
            "ts": datetime.now(UTC).isoformat(timespec="seconds"),
            "call_sid": call_sid,
            "evento": evento,
        }
        fila.update({k: v for k, v in datos.items() if v is not None})
        try:
            linea = json.dumps(fila, ensure_ascii=False, default=str)
            with _lock:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with self.path.open("a", encoding="utf-8") as f:
                    f.write(linea + "\n")
        except (OSError, ValueError, TypeError) as exc:
            logger.warning(
                "No se pudo registrar el evento %s de %s: %s", evento, call_sid, type(exc).__name__
            )

    def leer(self, call_sid: str | None = None) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        filas = []
        for linea in self.path.read_text(encoding="utf-8").splitlines():
            try:
                fila = json.loads(linea)
            except ValueError:
                continue
            if call_sid is None or fila.get("call_sid") == call_sid:
                filas.append(fila)
        return filas
