"""Which option a person chose among the buttons of the bot's last message:
"2", "dos", "la segunda", "la última" or the button's title."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from text_to_num import text2num

from bot.texto import palabras as normalizar  # accents, punctuation and case do not matter

# text2num reads cardinals ("dos") but not ordinals; these few are listed by hand.
ORDINALES = {
    "primero": 1, "primera": 1, "primer": 1, "segundo": 2, "segunda": 2,
    "tercero": 3, "tercera": 3, "tercer": 3, "cuarto": 4, "cuarta": 4,
    "quinto": 5, "quinta": 5, "sexto": 6, "sexta": 6, "septimo": 7, "septima": 7,
    "octavo": 8, "octava": 8, "noveno": 9, "novena": 9, "decimo": 10, "decima": 10,
    "ultimo": -1, "ultima": -1,
}
RELLENO = {"la", "el", "lo", "opcion", "numero", "num", "no", "quiero", "es", "de", "por", "favor", "mi"}


def numero_de_opcion(texto: str) -> Optional[int]:
    palabras = [p for p in normalizar(texto).split() if p not in RELLENO]
    if len(palabras) != 1:
        return None
    palabra = palabras[0]
    if palabra.isdigit():
        return int(palabra)
    if palabra in ORDINALES:
        return ORDINALES[palabra]
    try:
        return int(text2num(palabra, "es"))
    except ValueError:
        return None


def resolver_opcion(texto: str, botones: List[Dict[str, Any]]) -> Optional[str]:
    """The payload of the button the person chose, if any."""
    if not botones or not texto:
        return None
    numero = numero_de_opcion(texto)
    if numero is not None:
        if numero == -1:
            numero = len(botones)
        if 1 <= numero <= len(botones):
            return botones[numero - 1].get("payload") or botones[numero - 1].get("title")
        return None
    normal = normalizar(texto)
    for boton in botones:
        if normal and normal == normalizar(str(boton.get("title", ""))):
            return boton.get("payload") or boton.get("title")
    return None
