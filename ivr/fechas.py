"""Spoken or keyed dates: 'veintisiete de abril de mil novecientos cincuenta y
seis', '27/04/1956', '27 04 1956' or the keypad's '27041956'."""

from __future__ import annotations

import re
from datetime import date

from ivr.numeros import numeros_a_digitos
from ivr.palabras import sin_acentos

MESES: dict[str, int] = {
    "enero": 1, "febrero": 2, "marzo": 3, "abril": 4, "mayo": 5, "junio": 6,
    "julio": 7, "agosto": 8, "septiembre": 9, "setiembre": 9, "octubre": 10,
    "noviembre": 11, "diciembre": 12,
}


def fecha(texto: str) -> date | None:
    """The date said or keyed (day first, as in Mexico), or None."""
    if not texto:
        return None
    limpio = sin_acentos(numeros_a_digitos(texto))
    limpio = re.sub(r"(\d+)\s*º", r"\1", limpio)
    m = re.search(r"\b(\d{1,2})\s+(?:de\s+)?([a-z]+)\s+(?:de\s+|del\s+)?(\d{4})\b", limpio)
    if m and m.group(2) in MESES:
        partes = (int(m.group(1)), MESES[m.group(2)], int(m.group(3)))
    else:
        m = re.search(r"\b(\d{1,2})[\s/.-]+(\d{1,2})[\s/.-]+(\d{4})\b", limpio)
        if m:
            partes = (int(m.group(1)), int(m.group(2)), int(m.group(3)))
        else:
            solo = re.sub(r"\D", "", limpio)
            if len(solo) != 8:
                return None
            partes = (int(solo[:2]), int(solo[2:4]), int(solo[4:]))
    dia, mes, anio = partes
    try:
        return date(anio, mes, dia)
    except ValueError:
        return None
