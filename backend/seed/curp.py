"""CURPs built by the RENAPO rules (the demo and synthetic derechohabientes)."""

from __future__ import annotations

import unicodedata
from datetime import date

from stdnum.mx import curp as stdnum_curp

# Valid two-letter state codes of the CURP (without NE, born abroad).
ESTADOS = [
    "AS",
    "BC",
    "BS",
    "CC",
    "CL",
    "CM",
    "CS",
    "CH",
    "DF",
    "DG",
    "GT",
    "GR",
    "HG",
    "JC",
    "MC",
    "MN",
    "MS",
    "NT",
    "NL",
    "OC",
    "PL",
    "QT",
    "QR",
    "SP",
    "SL",
    "SR",
    "TC",
    "TS",
    "TL",
    "VZ",
    "YN",
    "ZS",
]
# RENAPO replaces the second letter with X when the first four spell a bad word.
_ALTISONANTES = stdnum_curp._name_blacklist  # noqa: SLF001 - the list RENAPO publishes, kept by stdnum


def sin_acentos(texto: str) -> str:
    sin_acentos = "".join(c for c in unicodedata.normalize("NFKD", texto.upper().replace("Ñ", "X"))
                          if not unicodedata.combining(c))
    return "".join(c for c in sin_acentos if "A" <= c <= "Z")


def _primera_vocal_interna(palabra: str) -> str:
    return next((c for c in palabra[1:] if c in "AEIOU"), "X")


def _primera_consonante_interna(palabra: str) -> str:
    return next((c for c in palabra[1:] if c not in "AEIOU"), "X")


def construir_curp(
    *, nombre: str, primer_apellido: str, segundo_apellido: str | None, fecha_nacimiento: date,
    sexo: str, estado: str, homoclave: str,
) -> str:
    """The CURP as RENAPO derives it from the name (simple names only); the
    check digit comes from python-stdnum."""
    ap1, ap2, nom = (
        sin_acentos(primer_apellido),
        sin_acentos(segundo_apellido or "X"),
        sin_acentos(nombre),
    )
    letras = ap1[0] + _primera_vocal_interna(ap1) + ap2[0] + nom[0]
    if letras in _ALTISONANTES:
        letras = letras[0] + "X" + letras[2:]
    base = (
        letras + fecha_nacimiento.strftime("%y%m%d") + sexo + estado
        + _primera_consonante_interna(ap1) + _primera_consonante_interna(ap2)
        + _primera_consonante_interna(nom) + homoclave
    )
    return base + stdnum_curp.calc_check_digit(base)
