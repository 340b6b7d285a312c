"""Loans of one derechohabiente: saldo, conditions, history, statement data.

The saldo is never read from a stored number: it is computed on every request
from the loan's schedule and the movimientos actually applied
(backend.services.finanzas.saldo_deudor).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.errors import ErrorNegocio
from backend.models import Movimiento, Prestamo
from backend.services.finanzas import Pago, fechas_quincena, saldo_deudor, tasa_quincenal

VIGENTE = "VIGENTE"
LIQUIDADO = "LIQUIDADO"


@dataclass(frozen=True)
class MovimientoAplicado:
    fecha: date
    quincena: int | None
    monto: Decimal
    origen: str
    referencia: str | None


@dataclass(frozen=True)
class EstadoPrestamo:
    """A loan plus everything derived from its schedule and movimientos on `al`."""

    prestamo: Prestamo
    al: date
    saldo_deudor_total: Decimal
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
        raise ErrorNegocio(404, "No tiene un préstamo personal vigente con el ISSSTE.", "sin_prestamo_vigente")
    return prestamo


def prestamo_por_folio(session: Session, *, derechohabiente_id: int, folio: str) -> Prestamo:
    """A loan of this derechohabiente by folio; someone else's folio is simply not found."""
    prestamo = session.scalars(
        select(Prestamo).where(Prestamo.folio == folio, Prestamo.derechohabiente_id == derechohabiente_id)
    ).first()
    if prestamo is None:
        raise ErrorNegocio(404, "No encontramos un préstamo suyo con ese folio.", "prestamo_no_encontrado")
    return prestamo


def movimientos_de(session: Session, *, prestamo_id: int) -> list[MovimientoAplicado]:
    filas = session.execute(
        select(Movimiento.fecha, Movimiento.quincena, Movimiento.monto, Movimiento.origen, Movimiento.referencia)
        .where(Movimiento.prestamo_id == prestamo_id)
        .order_by(Movimiento.fecha, Movimiento.id)
    ).all()
    return [MovimientoAplicado(f.fecha, f.quincena, Decimal(f.monto), f.origen, f.referencia) for f in filas]


def calendario(prestamo: Prestamo) -> list[date]:
    return fechas_quincena(prestamo.fecha_primer_descuento, prestamo.plazo_quincenas)


def estado_prestamo(session: Session, *, prestamo: Prestamo, al: date) -> EstadoPrestamo:
    """Saldo and counters of `prestamo` on `al`, from schedule + applied movimientos."""
    movimientos = movimientos_de(session, prestamo_id=prestamo.id)
    fechas = calendario(prestamo)
    aplicados = [m for m in movimientos if m.fecha <= al]
    saldo = saldo_deudor(
        monto=Decimal(prestamo.monto),
        tasa_anual=Decimal(prestamo.tasa_anual),
        fechas_programadas=fechas,
        pagos=[Pago(m.fecha, m.monto) for m in aplicados],
        al=al,
    )
    if prestamo.estatus == LIQUIDADO:
        saldo = Decimal("0.00")
    cubiertas = {m.quincena for m in aplicados if m.quincena is not None}
    transcurridas = sum(1 for f in fechas if f < al)
    sin_descuento = [k for k in range(1, transcurridas + 1) if k not in cubiertas]
    pagadas = len(cubiertas)
    restantes = 0 if saldo == 0 else max(prestamo.plazo_quincenas - pagadas, 0)
    return EstadoPrestamo(
        prestamo=prestamo,
        al=al,
        saldo_deudor_total=saldo,
        fechas=fechas,
        movimientos=aplicados,
        quincenas_pagadas=pagadas,
        quincenas_restantes=restantes,
        quincenas_transcurridas=transcurridas,
        quincenas_sin_descuento=[] if prestamo.estatus == LIQUIDADO else sin_descuento,
        total_pagado=sum((m.monto for m in aplicados), Decimal("0.00")),
    )


def saldo_vigente(session: Session, *, derechohabiente_id: int, al: date) -> EstadoPrestamo:
    """The derechohabiente's current loan and its saldo on `al` (404 if none)."""
    prestamo = exigir_vigente(session, derechohabiente_id=derechohabiente_id)
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
