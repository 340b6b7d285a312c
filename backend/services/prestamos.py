"""Loans of one derechohabiente: the ledger every other service reads.

The saldo is never read from a stored number: it is computed on every request
from the loan's schedule and the movimientos actually applied
(backend.services.finanzas.saldo_deudor). This module is the only place that
does so (`saldo_al`), and the only place that decides which scheduled quincenas
went without a payroll discount (`quincenas_omitidas`): the saldo endpoint, the
estado de cuenta, FOPI and regularisation all call these.

Movimiento origins:
- NOMINA, FOPI, REGULARIZACION: payments; they amortise the loan.
- SALDO_A_FAVOR: the part of a bank payment that exceeded the saldo on the day
  it was paid (e.g. a liquidación form paid before the quincena its amount was
  priced for, or after a payroll discount that arrived in between). It is money
  the person paid, so it counts in `total_pagado`, but it does not amortise the
  loan: it is shown apart as `saldo_a_favor`, for CAPP to refund. A payment
  dated after a loan was liquidated (a payroll discount the dependencia still
  made) is saldo a favor as well.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Protocol

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import Session

from backend.models import Movimiento, Prestamo
from backend.services import finanzas
from backend.services.errores import NoEncontrado
from backend.services.finanzas import Pago, fechas_quincena, tasa_quincenal

VIGENTE = "VIGENTE"
LIQUIDADO = "LIQUIDADO"

NOMINA = "NOMINA"
FOPI = "FOPI"
REGULARIZACION = "REGULARIZACION"
SALDO_A_FAVOR = "SALDO_A_FAVOR"
ORIGENES_QUE_AMORTIZAN = (NOMINA, FOPI, REGULARIZACION)
# A scheduled quincena is covered by a payroll discount or by its regularisation.
ORIGENES_QUE_CUBREN = (NOMINA, REGULARIZACION)
CERO = Decimal("0.00")


class MovimientoLike(Protocol):
    """What the ledger needs from a movimiento (ORM row or MovimientoAplicado)."""

    @property
    def fecha(self) -> date: ...
    @property
    def quincena(self) -> int | None: ...
    @property
    def monto(self) -> Decimal: ...
    @property
    def origen(self) -> str: ...


@dataclass(frozen=True)
class MovimientoAplicado:
    fecha: date
    quincena: int | None
    monto: Decimal
    origen: str
    referencia: str | None


@dataclass(frozen=True)
class QuincenaOmitida:
    numero: int
    fecha: date
    descuento: Decimal


@dataclass(frozen=True)
class EstadoPrestamo:
    """A loan plus everything derived from its schedule and movimientos on `al`."""

    prestamo: Prestamo
    al: date
    saldo_deudor_total: Decimal
    saldo_a_favor: Decimal
    fechas: list[date]
    movimientos: list[MovimientoAplicado]
    quincenas_pagadas: int
    quincenas_restantes: int
    quincenas_transcurridas: int
    quincenas_sin_descuento: list[int]
    total_pagado: Decimal

    @property
    def fecha_termino(self) -> date:
        return self.fechas[-1]

    @property
    def proximo_descuento(self) -> date | None:
        return next((f for f in self.fechas if f > self.al), None)

    @property
    def ultimo_pago(self) -> MovimientoAplicado | None:
        return self.movimientos[-1] if self.movimientos else None


def prestamo_vigente(session: Session, *, derechohabiente_id: int) -> Prestamo | None:
    return session.scalars(
        select(Prestamo)
        .where(Prestamo.derechohabiente_id == derechohabiente_id, Prestamo.estatus == VIGENTE)
        .order_by(Prestamo.fecha_otorgamiento.desc(), Prestamo.id.desc())
        .limit(1)
    ).first()


def exigir_vigente(session: Session, *, derechohabiente_id: int) -> Prestamo:
    prestamo = prestamo_vigente(session, derechohabiente_id=derechohabiente_id)
    if prestamo is None:
        raise NoEncontrado(
            "No tiene un préstamo personal vigente con el ISSSTE.", "sin_prestamo_vigente"
        )
    return prestamo


def prestamo_por_folio(session: Session, *, derechohabiente_id: int, folio: str) -> Prestamo:
    """A loan of this derechohabiente by folio; someone else's folio is simply not found."""
    prestamo = session.scalars(
        select(Prestamo).where(
            Prestamo.folio == folio, Prestamo.derechohabiente_id == derechohabiente_id
        )
    ).first()
    if prestamo is None:
        raise NoEncontrado(
            "No encontramos un préstamo suyo con ese folio.", "prestamo_no_encontrado"
        )
    return prestamo


def movimientos_de(session: Session, *, prestamo_id: int) -> list[MovimientoAplicado]:
    filas = session.execute(
        select(
            Movimiento.fecha,
            Movimiento.quincena,
            Movimiento.monto,
            Movimiento.origen,
            Movimiento.referencia,
        )
        .where(Movimiento.prestamo_id == prestamo_id)
        .order_by(Movimiento.fecha, Movimiento.id)
    ).all()
    return [
        MovimientoAplicado(f.fecha, f.quincena, Decimal(f.monto), f.origen, f.referencia)
        for f in filas
    ]


def calendario(prestamo: Prestamo) -> list[date]:
    return fechas_quincena(prestamo.fecha_primer_descuento, prestamo.plazo_quincenas)


def saldo_al(prestamo: Prestamo, movimientos: Iterable[MovimientoLike], *, al: date) -> Decimal:
    """THE saldo deudor of `prestamo` on `al`: schedule + the payments dated up to `al`.

    A LIQUIDADO loan owes nothing. Payments dated after `al` are not applied yet."""
    if prestamo.estatus == LIQUIDADO:
        return CERO
    return finanzas.saldo_deudor(
        monto=Decimal(prestamo.monto),
        tasa_anual=Decimal(prestamo.tasa_anual),
        fechas_programadas=calendario(prestamo),
        pagos=[Pago(m.fecha, Decimal(m.monto)) for m in movimientos
               if m.origen in ORIGENES_QUE_AMORTIZAN and m.fecha <= al],
        al=al,
    )


def saldo_deudor(session: Session, *, prestamo: Prestamo, al: date) -> Decimal:
    """`saldo_al` on the movimientos stored now."""
    return saldo_al(prestamo, movimientos_de(session, prestamo_id=prestamo.id), al=al)


def descuentos_programados(prestamo: Prestamo) -> dict[int, Decimal]:
    """Scheduled payment per quincena number; the last row absorbs rounding."""
    filas = finanzas.tabla_amortizacion(
        Decimal(prestamo.monto),
        Decimal(prestamo.tasa_anual),
        prestamo.plazo_quincenas,
        Decimal(prestamo.descuento_quincenal),
    )
    return {f.quincena: finanzas.redondear(f.pago) for f in filas}


def quincenas_omitidas(
    *, prestamo: Prestamo, movimientos: Iterable[MovimientoLike], hoy: date
) -> list[QuincenaOmitida]:
    """THE rule for missed quincenas: a scheduled quincena k dated before `hoy` is
    omitida when no NOMINA or REGULARIZACION movimiento carries its number, no
    NOMINA movimiento is dated on its date (a payroll record without a number),
    and the schedule still expects a payment for it. A LIQUIDADO loan misses none."""
    if prestamo.estatus == LIQUIDADO:
        return []
    movs = list(movimientos)
    numeros_cubiertos = {m.quincena for m in movs if m.origen in ORIGENES_QUE_CUBREN and m.quincena}
    fechas_nomina = {m.fecha for m in movs if m.origen == NOMINA}
    descuentos = descuentos_programados(prestamo)
    omitidas = []
    for numero, fecha in enumerate(calendario(prestamo), start=1):
        if fecha >= hoy:
            break
        if numero in numeros_cubiertos or fecha in fechas_nomina or numero not in descuentos:
            continue
        omitidas.append(QuincenaOmitida(numero=numero, fecha=fecha, descuento=descuentos[numero]))
    return omitidas


def saldo_a_favor(prestamo: Prestamo, movimientos: Iterable[MovimientoLike]) -> Decimal:
    """Money received beyond the debt: SALDO_A_FAVOR movimientos, plus any payment
    dated after the loan was liquidated (e.g. a payroll discount the dependencia
    still made)."""
    liquidado = prestamo.fecha_liquidacion if prestamo.estatus == LIQUIDADO else None
    return sum(
        (m.monto for m in movimientos
         if m.origen == SALDO_A_FAVOR
         or (liquidado is not None and m.origen in ORIGENES_QUE_AMORTIZAN and m.fecha > liquidado)),
        CERO,
    )


def estado_prestamo(session: Session, *, prestamo: Prestamo, al: date) -> EstadoPrestamo:
    """Saldo and counters of `prestamo` on `al`, from schedule + applied movimientos."""
    todos = movimientos_de(session, prestamo_id=prestamo.id)
    aplicados = [m for m in todos if m.fecha <= al]
    fechas = calendario(prestamo)
    saldo = saldo_al(prestamo, aplicados, al=al)
    cubiertas = {
        m.quincena for m in aplicados if m.origen in ORIGENES_QUE_CUBREN and m.quincena is not None
    }
    transcurridas = sum(1 for f in fechas if f < al)
    pagadas = len(cubiertas)
    restantes = 0 if saldo == 0 else max(prestamo.plazo_quincenas - pagadas, 0)
    return EstadoPrestamo(
        prestamo=prestamo,
        al=al,
        saldo_deudor_total=saldo,
        saldo_a_favor=saldo_a_favor(prestamo, aplicados),
        fechas=fechas,
        movimientos=aplicados,
        quincenas_pagadas=pagadas,
        quincenas_restantes=restantes,
        quincenas_transcurridas=transcurridas,
        quincenas_sin_descuento=[
            q.numero for q in quincenas_omitidas(prestamo=prestamo, movimientos=aplicados, hoy=al)
        ],
        total_pagado=sum((m.monto for m in aplicados), CERO),
    )


def saldo_vigente(session: Session, *, derechohabiente_id: int, al: date) -> EstadoPrestamo:
    """The derechohabiente's current loan and its saldo on `al` (404 if none)."""
    prestamo = exigir_vigente(session, derechohabiente_id=derechohabiente_id)
    return estado_prestamo(session, prestamo=prestamo, al=al)


def saldo_para_consulta(session: Session, *, derechohabiente_id: int, al: date) -> EstadoPrestamo:
    """What "¿cuál es mi saldo?" answers: the vigente loan or, when there is none, the
    newest liquidated loan that left a saldo a favor (so the person learns of it);
    404 otherwise."""
    prestamo = prestamo_vigente(session, derechohabiente_id=derechohabiente_id)
    if prestamo is None:
        con_favor = exists().where(
            Movimiento.prestamo_id == Prestamo.id,
            or_(
                Movimiento.origen == SALDO_A_FAVOR,
                and_(
                    Movimiento.origen.in_(ORIGENES_QUE_AMORTIZAN),
                    Movimiento.fecha > Prestamo.fecha_liquidacion,
                ),
            ),
        )
        prestamo = session.scalars(
            select(Prestamo)
            .where(
                Prestamo.derechohabiente_id == derechohabiente_id,
                Prestamo.estatus == LIQUIDADO,
                con_favor,
            )
            .order_by(Prestamo.fecha_liquidacion.desc(), Prestamo.id.desc())
            .limit(1)
        ).first()
    if prestamo is None:
        raise NoEncontrado(
            "No tiene un préstamo personal vigente con el ISSSTE.", "sin_prestamo_vigente"
        )
    return estado_prestamo(session, prestamo=prestamo, al=al)


def historico(session: Session, *, derechohabiente_id: int) -> list[Prestamo]:
    """Every loan of the derechohabiente, newest first."""
    return list(
        session.scalars(
            select(Prestamo)
            .where(Prestamo.derechohabiente_id == derechohabiente_id)
            .order_by(Prestamo.fecha_otorgamiento.desc(), Prestamo.id.desc())
        )
    )


def tasa_quincenal_con_iva(prestamo: Prestamo) -> Decimal:
    return tasa_quincenal(Decimal(prestamo.tasa_anual))
