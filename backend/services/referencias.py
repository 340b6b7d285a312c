"""Numeric payment references for FOPI, with ISO 7064 Mod 97-10 check digits.

Layout (20 digits, all numeric so any bank channel and an Interleaved 2 of 5
barcode can carry it):

    C PPPPPPPP AAMMDD SSS VV
    | |        |      |   +-- 2 check digits, ISO 7064 Mod 97-10 over the 18 digits
    | |        |      |       before them (python-stdnum `stdnum.iso7064.mod_97_10`);
    | |        |      |       the whole 20-digit number is then ≡ 1 (mod 97)
    | |        |      +------ consecutive number of the form for that loan and vigencia
    | |        +------------- vigencia (fecha límite de pago), year-month-day
    | +---------------------- prestamo id, zero-padded
    +------------------------ concepto: 1 pago parcial, 2 liquidación, 3 regularización

Mod 97-10 (the IBAN scheme) detects every single-digit substitution and every
transposition of two adjacent digits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from stdnum.iso7064 import mod_97_10

LONGITUD = 20
CONCEPTOS = {"PARCIAL": "1", "LIQUIDACION": "2", "REGULARIZACION": "3"}
_CONCEPTO_DE_DIGITO = {v: k for k, v in CONCEPTOS.items()}
MAX_PRESTAMO_ID = 99_999_999
MAX_CONSECUTIVO = 999


class ReferenciaInvalida(ValueError):
    """The text is not a well-formed reference (length, digits or check digits)."""


@dataclass(frozen=True)
class ReferenciaDesglosada:
    concepto: str
    prestamo_id: int
    vigencia: date
    consecutivo: int


def generar_referencia(*, concepto: str, prestamo_id: int, vigencia: date, consecutivo: int) -> str:
    if concepto not in CONCEPTOS:
        raise ValueError(f"concepto desconocido: {concepto}")
    if not 0 < prestamo_id <= MAX_PRESTAMO_ID:
        raise ValueError("prestamo_id fuera de rango")
    if not 0 < consecutivo <= MAX_CONSECUTIVO:
        raise ValueError("consecutivo fuera de rango")
    cuerpo = f"{CONCEPTOS[concepto]}{prestamo_id:08d}{vigencia:%y%m%d}{consecutivo:03d}"
    return cuerpo + mod_97_10.calc_check_digits(cuerpo)


def normalizar(texto: str) -> str:
    """Drop the spaces and dashes people and banks put in references."""
    return "".join(ch for ch in texto if ch not in " -.\t")


def es_valida(referencia: str) -> bool:
    ref = normalizar(referencia)
    return len(ref) == LONGITUD and ref.isdigit() and mod_97_10.is_valid(ref)


def validar(referencia: str) -> str:
    """Return the normalised reference or raise ReferenciaInvalida."""
    ref = normalizar(referencia)
    if len(ref) != LONGITUD or not ref.isdigit():
        raise ReferenciaInvalida(f"La referencia debe tener {LONGITUD} dígitos.")
    if not mod_97_10.is_valid(ref):
        raise ReferenciaInvalida(
            "La referencia no es válida: su dígito verificador no corresponde."
        )
    if ref[0] not in _CONCEPTO_DE_DIGITO:
        raise ReferenciaInvalida("La referencia no corresponde a un formato de pago del ISSSTE.")
    return ref


def desglosar(referencia: str) -> ReferenciaDesglosada:
    ref = validar(referencia)
    try:
        vigencia = date(2000 + int(ref[9:11]), int(ref[11:13]), int(ref[13:15]))
    except ValueError as exc:
        raise ReferenciaInvalida(
            "La referencia no corresponde a un formato de pago del ISSSTE."
        ) from exc
    return ReferenciaDesglosada(
        concepto=_CONCEPTO_DE_DIGITO[ref[0]],
        prestamo_id=int(ref[1:9]),
        vigencia=vigencia,
        consecutivo=int(ref[15:18]),
    )


def formatear(referencia: str) -> str:
    """Groups of four digits, as printed on the form: `2000 0001 2 ...`."""
    ref = normalizar(referencia)
    return " ".join(ref[i : i + 4] for i in range(0, len(ref), 4))
