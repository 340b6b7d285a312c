"""Which option a person chose among the buttons of the bot's last message:
"2", "dos", "la segunda", "la última" or the button's title. The number is read
by habla/opciones.py, which the IVR's menus use too."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from habla.opciones import posicion_de_opcion
from habla.texto import palabras as normalizar  # accents, punctuation and case do not matter


def resolver_opcion(texto: str, botones: List[Dict[str, Any]]) -> Optional[str]:
    """The payload of the button the person chose, if any."""
    if not botones or not texto:
        return None
    posicion = posicion_de_opcion(texto, len(botones))
    if posicion is not None:
        return botones[posicion - 1].get("payload") or botones[posicion - 1].get("title")
    normal = normalizar(texto)
    for boton in botones:
        if normal and normal == normalizar(str(boton.get("title", ""))):
            return boton.get("payload") or boton.get("title")
    return None
