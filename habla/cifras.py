"""Numbers said in words, before text2num reads them."""

from __future__ import annotations

import re

# text2num wants the written accents; people typing and recognisers often drop
# them ("veintidos mil" would come out as "veintidos 1000").
ACENTUADOS = {
    "veintidos": "veintidós", "veintitres": "veintitrés", "veintiseis": "veintiséis",
    "dieciseis": "dieciséis", "veintiun": "veintiuno", "veintiún": "veintiuno",
}
_SIN_ACENTO = re.compile(r"\b(" + "|".join(ACENTUADOS) + r")\b", re.IGNORECASE)
# "15 mil", "15.5 mil": digits before "mil", which text2num would leave as "15 1000".
_CIFRA_Y_MIL = re.compile(r"(?<![\w.,])(\d+(?:[.,]\d+)?)\s*mil\b", re.IGNORECASE)


def para_text2num(texto: str) -> str:
    """The number words text2num needs accented, accented: 'veintidos' -> 'veintidós'."""
    return _SIN_ACENTO.sub(lambda m: ACENTUADOS[m.group(1).lower()], texto)


def miles_en_cifras(texto: str) -> str:
    """'15 mil' -> '15000', '15.5 mil' -> '15500' (a decimal comma too)."""

    def miles(m: re.Match[str]) -> str:
        entero, _, decimales = m.group(1).replace(",", ".").partition(".")
        return str(int(entero) * 1000 + int((decimales + "000")[:3]))

    return _CIFRA_Y_MIL.sub(miles, texto)
