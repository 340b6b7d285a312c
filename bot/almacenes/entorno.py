"""The settings of the Rasa tier's stores, read from the environment:
TRACKER_STORE_URL, LOCK_STORE_URL, TRACKER_RETENCION_DIAS and ACCIONES_TIMEOUT
(the time Rasa waits for the action server)."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Optional

logger = logging.getLogger(__name__)

RAIZ = Path(__file__).resolve().parents[2]
URL_PREDETERMINADA = f"sqlite:///{RAIZ / 'var' / 'conversaciones.db'}"
RETENCION_DIAS_PREDETERMINADA = 30
ACCIONES_TIMEOUT_PREDETERMINADO = 5.0


def url_de_almacen(url: Optional[str] = None) -> str:
    """TRACKER_STORE_URL for SQLAlchemy 1.4 (Rasa's): the backend's psycopg 3
    spelling (`postgresql+psycopg://`) becomes psycopg2, which Rasa ships."""
    url = (url or os.environ.get("TRACKER_STORE_URL") or "").strip() or URL_PREDETERMINADA
    for propio in ("postgresql+psycopg://", "postgres://"):
        if url.startswith(propio):
            url = "postgresql://" + url[len(propio):]
    if url.startswith("sqlite:///"):
        ruta = url[len("sqlite:///"):]
        if ruta and ruta != ":memory:":
            Path(ruta).parent.mkdir(parents=True, exist_ok=True)
    return url


def url_de_cerrojo() -> str:
    return (os.environ.get("LOCK_STORE_URL") or "").strip()


def dias_de_retencion() -> float:
    try:
        return float(os.environ.get("TRACKER_RETENCION_DIAS") or RETENCION_DIAS_PREDETERMINADA)
    except ValueError:
        logger.warning(
            "TRACKER_RETENCION_DIAS no es un número; se usan %s días.",
            RETENCION_DIAS_PREDETERMINADA,
        )
        return float(RETENCION_DIAS_PREDETERMINADA)


def ajustar_espera_de_acciones() -> float:
    """Rasa 3.6 has no setting for it: the constant is read at call time from
    these two modules, so replacing it there is enough."""
    import rasa.core.actions.action as accion_remota
    import rasa.utils.endpoints as endpoints

    try:
        segundos = float(os.environ.get("ACCIONES_TIMEOUT") or ACCIONES_TIMEOUT_PREDETERMINADO)
    except ValueError:
        segundos = ACCIONES_TIMEOUT_PREDETERMINADO
    accion_remota.DEFAULT_REQUEST_TIMEOUT = segundos  # type: ignore[attr-defined]
    endpoints.DEFAULT_REQUEST_TIMEOUT = segundos  # type: ignore[attr-defined]
    return segundos
