"""Which product of the backend's catalogue a simulation request names.

The product is the crédito complementario unless the request names another
one of the catalogue ("simular un préstamo especial"). The catalogue is asked
to the backend and kept for a few minutes.
"""

from __future__ import annotations

import re
import time
from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker

from bot.actions import backend_client as bc
from bot.actions.lectura import texto_de
from bot.texto import sin_acentos

PRODUCTO_POR_DEFECTO = "credito_complementario"

# Words of a product's clave that do not tell products apart.
_PALABRAS_GENERICAS = {"credito", "prestamo", "personal", "extraordinario", "para"}
# A product is named by the first 7 letters of a distinctive word of its clave:
# "emergen" covers emergente and emergencia, "damnifi" damnificado(s). A tiny
# stemmer over six names: no library is needed for it.
_RAIZ = 7


def producto_nombrado(texto: str, catalogo: List[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    """The catalogue product the text names, or None (none, or more than one)."""
    palabras = re.findall(r"[a-z]+", sin_acentos(texto.lower()))
    nombrados = []
    for producto in catalogo:
        raices = {w[:_RAIZ] for w in str(producto.get("clave", "")).split("_")
                  if len(w) >= _RAIZ and w not in _PALABRAS_GENERICAS}
        if raices and any(p[:_RAIZ] in raices for p in palabras if len(p) >= _RAIZ):
            nombrados.append(producto)
    return nombrados[0] if len(nombrados) == 1 else None


# The catalogue changes once a year: kept for a few minutes, not asked every turn.
CATALOGO_VIGENTE_S = 300.0
_catalogo: Dict[str, Any] = {"productos": None, "hasta": 0.0}


async def producto_de_la_peticion(tracker: Tracker) -> Optional[Dict[str, Any]]:
    texto = texto_de((tracker.latest_message or {}).get("text"))
    if not texto or texto.startswith("/"):
        return None  # a button payload names no product
    if _catalogo["productos"] is None or time.monotonic() >= _catalogo["hasta"]:
        try:
            async with bc.cliente() as api:
                productos = await api.productos()
        except (bc.BackendError, bc.BackendNoDisponible):
            return None  # not fatal: the default product is simulated and says its name
        _catalogo.update(productos=productos, hasta=time.monotonic() + CATALOGO_VIGENTE_S)
    return producto_nombrado(texto, _catalogo["productos"])
