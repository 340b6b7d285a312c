"""Spoken input -> what the bot receives for the slot it is asking for.

The pieces, one module per job: `ivr/claves.py` (spelled claves, CURPs,
NIPs), `ivr/numeros.py` (numbers and amounts), `ivr/fechas.py` (dates),
`ivr/palabras.py` (accents, tokens).

Free speech stays free speech: only what is plausibly the value a prompt asks
for (or an utterance that is a number) is rewritten; "no me acuerdo de la
clave" or "quiero hablar con una persona" reach the bot as said.
"""

from __future__ import annotations

import re

from ivr import claves, numeros
from ivr.fechas import fecha

SLOTS_NUMERICOS = {"monto", "sueldo", "plazo", "anios_cotizacion"}


def texto_libre(texto: str) -> str:
    """Free speech for the bot: the caller's own words. Only an utterance that
    is a number becomes digits ('la opción dos' -> '2'), and a clave or CURP
    spelled inside it is written compactly so the bot's NLU sees the entity
    ('cancelar la cita ce ce tres cu zeta ocho' -> 'cancelar la cita CC3QZ8')."""
    texto = (texto or "").strip()
    if not texto:
        return ""
    if numeros.es_numero(texto):
        sin_relleno = numeros.RELLENO_OPCION.sub(" ", texto)
        return re.sub(r"\s+", " ", numeros.numeros_a_digitos(sin_relleno)).strip()
    return claves.compactar(texto)


def para_slot(slot: str | None, texto: str, *, teclado: bool = False) -> str:
    """What the bot should receive for the slot it is asking for.

    Only a plausible value becomes the normalised value: a clave / CURP / NIP /
    date / amount that parses, or an utterance that is nothing but spelling
    (the bot's validator then says what is wrong with it: 'tiene seis
    caracteres'). Anything else is free speech and reaches the bot as the
    caller's words ('no me acuerdo de la clave', 'quiero hablar con un
    asesor', a question), so the bot can understand it. Keys are sent as digits.
    """
    texto = (texto or "").strip()
    if not texto:
        return ""
    if teclado:
        return re.sub(r"\D", "", texto) or texto
    if slot == "curp":
        return claves.curp(texto) or claves.deletreo(texto) or texto_libre(texto)
    if slot == "clave_cita":
        return claves.clave_cita(texto) or claves.deletreo(texto) or texto_libre(texto)
    if slot == "nip":
        valor = claves.nip(texto) or claves.deletreo(texto)
        return valor if valor and valor.isdigit() else texto_libre(texto)
    if slot == "fecha_nacimiento":
        dia = fecha(texto)
        return dia.strftime("%d/%m/%Y") if dia else texto_libre(texto)
    if slot in {"monto", "sueldo"}:
        cantidad = numeros.monto(texto)
        if cantidad is None:
            return texto_libre(texto)
        return str(int(cantidad)) if cantidad == cantidad.to_integral_value() else str(cantidad)
    if slot in SLOTS_NUMERICOS:
        return numeros.numerico(texto)
    return texto_libre(texto)
