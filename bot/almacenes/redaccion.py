"""What is written of each turn: the events without the NIP, a clear CURP or
a clear identity token (AlmacenConversaciones.save applies it)."""

from __future__ import annotations

import logging
from typing import Any, Dict, List

from rasa.shared.core.trackers import DialogueStateTracker

from bot import registro_privado
from bot.channels.privacidad import enmascarar, nips_en

logger = logging.getLogger(__name__)

PREFIJO_SELLADO = "sellado:v1:"


def nips_del_tracker(tracker: DialogueStateTracker) -> List[str]:
    """The NIPs given in this conversation: every value the `nip` slot took."""
    nips = []
    for evento in tracker.events:
        valor = getattr(evento, "value", None) if getattr(evento, "key", None) == "nip" else None
        if isinstance(valor, str) and valor.strip().isdigit() and valor.strip() not in nips:
            nips.append(valor.strip())
    return nips


def _limpio(valor: Any, nips: List[str]) -> Any:
    if isinstance(valor, str):
        # A signed PDF link carries a token too: the person got it in the
        # turn's answer; the stored copy keeps only where it pointed.
        return registro_privado.sin_tokens(enmascarar(valor, nips + nips_en(valor)))
    if isinstance(valor, list):
        return [_limpio(v, nips) for v in valor]
    if isinstance(valor, dict):
        return {k: _limpio(v, nips) for k, v in valor.items()}
    return valor


def redactar_evento(datos: Dict[str, Any], nips: List[str]) -> Dict[str, Any]:
    """An event as stored: no NIP (the `nip` slot and the NIPs in what the
    person wrote become ****), no clear CURP (masked wherever it appears), no
    clear token (a `token` slot that is not sealed is dropped; a signed link's
    token becomes <token>)."""
    tipo = datos.get("event")
    if tipo == "slot":
        nombre, valor = datos.get("name"), datos.get("value")
        if nombre == "nip" and valor:
            return {**datos, "value": "****"}
        if nombre == "token" and valor and not str(valor).startswith(PREFIJO_SELLADO):
            logger.error("Un token sin sellar iba a guardarse en el tracker; se descartó.")
            return {**datos, "value": None}
        if isinstance(valor, str) and valor.startswith(PREFIJO_SELLADO):
            return datos
        return {**datos, "value": _limpio(valor, nips)}
    if tipo in ("user", "bot"):
        limpio = dict(datos)
        for campo in ("text", "parse_data", "data", "metadata"):
            if campo in limpio:
                limpio[campo] = _limpio(limpio[campo], nips)
        return limpio
    return datos
