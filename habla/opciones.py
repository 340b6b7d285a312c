"""Which option a person chose: "2", "dos", "la opción dos", "la segunda", "la última".

Used by the WhatsApp channel and the IVR channel (bot/channels) for the bot's
buttons, and by the phone menus (ivr/motor.py) for their digits.
"""

from __future__ import annotations

from text_to_num import text2num

from habla.texto import palabras

ULTIMA = -1  # "la última": the caller knows how many there are
# text2num reads cardinals ("dos") but not ordinals; these few are listed by hand.
ORDINALES = {
    "primero": 1, "primera": 1, "primer": 1, "segundo": 2, "segunda": 2,
    "tercero": 3, "tercera": 3, "tercer": 3, "cuarto": 4, "cuarta": 4,
    "quinto": 5, "quinta": 5, "sexto": 6, "sexta": 6, "septimo": 7, "septima": 7,
    "octavo": 8, "octava": 8, "noveno": 9, "novena": 9, "decimo": 10, "decima": 10,
    "ultimo": ULTIMA, "ultima": ULTIMA,
}
RELLENO = {
    "la", "el", "lo", "opcion", "numero", "num", "no", "quiero", "es", "de", "por", "favor", "mi",
}


def numero_de_opcion(texto: str) -> int | None:
    """The option's number (ULTIMA for "la última"), or None when the text says more than one."""
    dichas = [p for p in palabras(texto or "").split() if p not in RELLENO]
    if len(dichas) != 1:
        return None
    palabra = dichas[0]
    if palabra.isdigit():
        return int(palabra)
    if palabra in ORDINALES:
        return ORDINALES[palabra]
    try:
        return int(text2num(palabra, "es"))
    except ValueError:
        return None


def posicion_de_opcion(texto: str, cuantas: int) -> int | None:
    """The 1-based position chosen among `cuantas` options, or None (none, or out of range)."""
    numero = numero_de_opcion(texto)
    if numero == ULTIMA:
        numero = cuantas
    return numero if numero is not None and 1 <= numero <= cuantas else None
