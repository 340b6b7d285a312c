"""Loan arithmetic shared by the simulation, the saldo, FOPI and regularisation.

Pure functions on Decimal; no database. ISSSTE charges IVA (16 %) on interest,
so the quincenal rate is `tasa_anual * 1.16 / 24`.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

IVA = Decimal("0.16")
CENT = Decimal("0.01")
QUINCENAS_POR_ANIO = 24


def redondear(valor: Decimal) -> Decimal:
    """Round to cents, half up, as money is shown on a statement."""
    return valor.quantize(CENT, rounding=ROUND_HALF_UP)


def tasa_quincenal(tasa_anual: Decimal, *, con_iva: bool = True) -> Decimal:
    factor = (1 + IVA) if con_iva else Decimal(1)
    return tasa_anual * factor / QUINCENAS_POR_ANIO


def valor_presente(pago: Decimal, tasa: Decimal, periodos: int) -> Decimal:
    """Present value of `periodos` equal payments at the end of each period."""
    if periodos <= 0:
        return Decimal(0)
    if tasa == 0:
        return pago * periodos
    return pago * (1 - (1 + tasa) ** -periodos) / tasa


def pago_periodico(monto: Decimal, tasa: Decimal, periodos: int) -> Decimal:
    """Equal payment that amortises `monto` in `periodos` (annuity)."""
    if periodos <= 0:
        raise ValueError("periodos debe ser positivo")
    if tasa == 0:
        return monto / periodos
    return monto * tasa / (1 - (1 + tasa) ** -periodos)


# --- quincenas -------------------------------------------------------------

def es_quincena(dia: date) -> bool:
    return dia.day == 15 or dia.day == calendar.monthrange(dia.year, dia.month)[1]


def quincena_siguiente(dia: date) -> date:
    """The first quincena date (15th or month end) strictly after `dia`."""
    ultimo = calendar.monthrange(dia.year, dia.month)[1]
    if dia.day < 15:
        return dia.replace(day=15)
    if dia.day < ultimo:
        return dia.replace(day=ultimo)
    siguiente = dia + timedelta(days=1)
    return siguiente.replace(day=15)


def quincena_en_o_despues(dia: date) -> date:
    return dia if es_quincena(dia) else quincena_siguiente(dia)


def fechas_quincena(primera: date, n: int) -> list[date]:
    """`n` consecutive quincena dates starting at `primera` (itself a quincena date)."""
    fechas = [quincena_en_o_despues(primera)]
    while len(fechas) < n:
        fechas.append(quincena_siguiente(fechas[-1]))
    return fechas[:n]


def quincenas_entre(desde: date, hasta: date) -> Iterator[date]:
    """Quincena dates d with desde <= d <= hasta."""
    d = quincena_en_o_despues(desde)
    while d <= hasta:
        yield d
        d = quincena_siguiente(d)


# --- amortisation ------------------------------------------------------------

@dataclass(frozen=True)
class RenglonAmortizacion:
    quincena: int
    fecha: date | None
    saldo_inicial: Decimal
    interes: Decimal
    iva: Decimal
    capital: Decimal
    pago: Decimal
    saldo_final: Decimal


def tabla_amortizacion(
    monto: Decimal,
    tasa_anual: Decimal,
    plazo: int,
    descuento: Decimal,
    fechas: list[date] | None = None,
    *,
    con_iva: bool = True,
) -> list[RenglonAmortizacion]:
    """French amortisation with IVA on interest; the last row absorbs rounding."""
    i = tasa_anual / QUINCENAS_POR_ANIO
    factor_iva = IVA if con_iva else Decimal(0)
    saldo = redondear(monto)
    filas: list[RenglonAmortizacion] = []
    for k in range(1, plazo + 1):
        interes = redondear(saldo * i)
        iva = redondear(interes * factor_iva)
        capital = descuento - interes - iva
        pago = descuento
        if k == plazo or capital > saldo:
            capital = saldo
            pago = capital + interes + iva
        final = saldo - capital
        filas.append(
            RenglonAmortizacion(
                quincena=k,
                fecha=fechas[k - 1] if fechas else None,
                saldo_inicial=saldo,
                interes=interes,
                iva=iva,
                capital=capital,
                pago=pago,
                saldo_final=final,
            )
        )
        saldo = final
        if saldo <= 0:
            break
    return filas


@dataclass(frozen=True)
class Pago:
    fecha: date
    monto: Decimal


def saldo_deudor(
    *,
    monto: Decimal,
    tasa_anual: Decimal,
    fechas_programadas: list[date],
    pagos: Iterable[Pago],
    al: date,
) -> Decimal:
    """Debt on `al` from the schedule and the payments actually applied.

    Walk the quincena dates up to `al`: each one accrues a quincena of interest
    plus IVA on the outstanding debt; every payment reduces the debt on its date
    (a payment on a quincena date counts after that quincena's interest).
    A missed discount therefore leaves its interest capitalised. Never negative.
    """
    i = tasa_quincenal(tasa_anual)
    saldo = Decimal(monto)
    ordenados = sorted(pagos, key=lambda p: p.fecha)
    j = 0
    for fecha in fechas_programadas:
        if fecha > al:
            break
        while j < len(ordenados) and ordenados[j].fecha < fecha:
            saldo -= ordenados[j].monto
            j += 1
        saldo += saldo * i if saldo > 0 else 0
        while j < len(ordenados) and ordenados[j].fecha == fecha:
            saldo -= ordenados[j].monto
            j += 1
    while j < len(ordenados) and ordenados[j].fecha <= al:
        saldo -= ordenados[j].monto
        j += 1
    return max(redondear(saldo), Decimal("0.00"))
