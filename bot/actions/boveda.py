"""Secrets the conversation must carry between turns, sealed for the action
server alone: the clear CURP between the CURP and the NIP turns, and the
backend's identity token after them.

Rasa keeps slots in its tracker, which its HTTP API and its store expose;
these values enter the tracker only sealed (Fernet: AES-128-CBC + HMAC, with a
key derived from ACCIONES_CLAVE, a secret only the action server holds) and
are opened here when an action needs them. A sealed value is useless to
whoever reads the tracker; a tampered or foreign one opens as nothing.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
from functools import lru_cache
from typing import Any, Optional

from cryptography.fernet import Fernet, InvalidToken

logger = logging.getLogger(__name__)

PREFIJO = "sellado:v1:"
# How long a sealed value opens: longer than any identity token (15 min).
VIGENCIA_SEGUNDOS = 2 * 3600


@lru_cache(maxsize=4)
def _fernet(clave: str) -> Fernet:
    return Fernet(
        base64.urlsafe_b64encode(hashlib.sha256(("capp-boveda:" + clave).encode()).digest())
    )


def _clave() -> str:
    clave = os.environ.get("ACCIONES_CLAVE") or ""
    if not clave:
        raise RuntimeError(
            "Falta ACCIONES_CLAVE: el servidor de acciones no puede guardar la identidad."
        )
    return clave


def sellar(valor: Optional[str]) -> Optional[str]:
    if not valor:
        return None
    return PREFIJO + _fernet(_clave()).encrypt(valor.encode()).decode()


def abrir(sellado: Any) -> Optional[str]:
    """The value sealed by `sellar`, or None (absent, expired, tampered)."""
    if not isinstance(sellado, str) or not sellado.startswith(PREFIJO):
        return None
    try:
        return (
            _fernet(_clave())
            .decrypt(sellado[len(PREFIJO) :].encode(), ttl=VIGENCIA_SEGUNDOS)
            .decode()
        )
    except (InvalidToken, ValueError):
        logger.warning("Un valor sellado no se pudo abrir (vencido o ajeno).")
        return None


def token_de(tracker: Any) -> Optional[str]:
    """The backend identity token of this conversation, if identified."""
    return abrir(tracker.get_slot("token"))
