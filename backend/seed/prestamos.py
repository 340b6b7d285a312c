"""Seeded loans with the real maths: the plan of a loan and its payroll discounts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from backend.services.finanzas import (
    Pago,
    fechas_quincena,
    pago_periodico,
    quincena_siguiente,
    redondear,
    saldo_deudor,
    tasa_quincenal,
    valor_presente,
)


@dataclass
class PlanPrestamo:
    folio: str
    producto: str
    monto: Decimal
    plazo_quincenas: int
    tasa_anual: Decimal
    descuento_quincenal: Decimal
    fecha_otorgamiento: date
    fecha_primer_descuento: date
    estatus: str
    fecha_liquidacion: date | None = None
    # (quincena, fecha, monto) of the payroll discounts applied
    nomina: list[tuple[int, date, Decimal]] = field(default_factory=list)


def plan_prestamo(
    *, folio: str, producto: str, tasa_anual: str, plazo: int, fecha_otorgamiento: date, hoy: date,
    descuento: Decimal | None = None, monto: Decimal | None = None, omitir_ultimas: int = 0,
) -> PlanPrestamo:
    """A loan with the real maths: give the descuento (monto = present value of
    the discounts, as the simulation does) or the monto (descuento = annuity).
    Payroll discounts are applied on every scheduled quincena before `hoy`,
    except the last `omitir_ultimas`; the final one pays off the exact saldo."""
    tasa = Decimal(tasa_anual)
    i = tasa_quincenal(tasa)
    if descuento is not None:
        monto = redondear(valor_presente(descuento, i, plazo))
    elif monto is not None:
        descuento = redondear(pago_periodico(monto, i, plazo))
    else:  # pragma: no cover - programming error
        raise ValueError("descuento o monto")
    primer = quincena_siguiente(quincena_siguiente(fecha_otorgamiento))
    fechas = fechas_quincena(primer, plazo)
    vencidas = [(k, f) for k, f in enumerate(fechas, start=1) if f < hoy]
    if omitir_ultimas:
        vencidas = vencidas[:-omitir_ultimas]
    nomina: list[tuple[int, date, Decimal]] = []
    pagos: list[Pago] = []
    for k, f in vencidas:
        importe = descuento
        if k == plazo:
            importe = saldo_deudor(
                monto=monto, tasa_anual=tasa, fechas_programadas=fechas, pagos=pagos, al=f
            )
        nomina.append((k, f, importe))
        pagos.append(Pago(f, importe))
    liquidado = bool(nomina) and nomina[-1][0] == plazo
    return PlanPrestamo(
        folio=folio, producto=producto, monto=monto, plazo_quincenas=plazo, tasa_anual=tasa,
        descuento_quincenal=descuento, fecha_otorgamiento=fecha_otorgamiento,
        fecha_primer_descuento=primer, estatus="LIQUIDADO" if liquidado else "VIGENTE",
        fecha_liquidacion=fechas[-1] if liquidado else None, nomina=nomina,
    )


def referencia_nomina(folio: str, quincena: int) -> str:
    return f"NOM-{folio}-Q{quincena:02d}"
