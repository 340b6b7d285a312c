"""Values as the responses show or say them: money, dates, counted nouns,
rates and codes read character by character (es-MX, through babel)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_currency

LOCALE = "es_MX"


def dinero(valor: Any) -> str:
    try:
        return format_currency(Decimal(str(valor)), "MXN", locale=LOCALE)
    except (InvalidOperation, TypeError, ValueError):
        return str(valor)


def fecha_texto(valor: Any) -> str:
    """An ISO date/datetime as '30/01/2024'."""
    if isinstance(valor, (date, datetime)):
        d = valor
    else:
        try:
            d = (
                datetime.fromisoformat(str(valor))
                if "T" in str(valor)
                else date.fromisoformat(str(valor))
            )
        except ValueError:
            return str(valor)
    return d.strftime("%d/%m/%Y")


def fecha_larga(d: date) -> str:
    return format_date(d, "EEEE d 'de' MMMM 'de' y", locale=LOCALE)


def cantidad(n: Any, singular: str, plural: str) -> str:
    """3 -> '3 quincenas', 1 -> '1 quincena' (CLDR plural rule of es-MX, via babel).
    A value that is not a whole number is returned as it came, with the plural."""
    try:
        entero = int(str(n))
    except (TypeError, ValueError):
        return f"{n} {plural}".strip()
    forma = Locale.parse(LOCALE).plural_form(entero)
    return f"{entero} {singular if forma == 'one' else plural}"


def porcentaje(tasa: Any) -> str:
    """0.16 -> '16 %'."""
    try:
        valor = Decimal(str(tasa)) * 100
    except (InvalidOperation, TypeError):
        return str(tasa)
    return f"{valor.normalize():f} %"


def deletrear(codigo: str) -> str:
    """'CC3QZ8' -> 'C C 3 Q Z 8' so a voice reads it character by character."""
    return " ".join(codigo)
