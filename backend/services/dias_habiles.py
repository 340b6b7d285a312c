"""Business days: Monday to Friday except Mexican federal holidays.

The one place that knows the calendar; citas (slots), FOPI (vigencia) and the
demo seed use it. Holidays come from the `holidays` package (country MX), with
their Spanish names so a caller can hear why a day has no service.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays


@lru_cache(maxsize=32)
def _feriados(anio: int) -> holidays.HolidayBase:
    return holidays.country_holidays("MX", years=anio, language="es")


def feriado(dia: date) -> str | None:
    """The name of the federal holiday on `dia`, or None."""
    return _feriados(dia.year).get(dia)


def motivo_inhabil(dia: date) -> str | None:
    """Why `dia` is not a business day (Spanish), or None when it is one."""
    if dia.weekday() == 5:
        return "es sábado"
    if dia.weekday() == 6:
        return "es domingo"
    nombre = feriado(dia)
    if nombre:
        return f"es día feriado ({nombre})"
    return None


def es_dia_habil(dia: date) -> bool:
    return motivo_inhabil(dia) is None


def sumar_dias_habiles(dia: date, n: int) -> date:
    """The n-th business day strictly after `dia` (n >= 1)."""
    if n < 1:
        raise ValueError("n debe ser al menos 1")
    while n > 0:
        dia += timedelta(days=1)
        if es_dia_habil(dia):
            n -= 1
    return dia


def dias_habiles_entre(desde: date, hasta: date) -> int:
    """How many business days d satisfy desde < d <= hasta."""
    return sum(
        1 for k in range(1, (hasta - desde).days + 1) if es_dia_habil(desde + timedelta(days=k))
    )
