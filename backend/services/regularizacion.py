"""Regularisation: the quincenas in which the dependencia did not discount the
loan payment through payroll, what is owed for them and the moratorium interest.

Which quincenas are *omitidas* is decided in one place,
backend.services.prestamos.quincenas_omitidas (the saldo endpoint and the estado
de cuenta count them with the same rule): a scheduled quincena dated before
today that no NOMINA movimiento covers (same quincena number, or a NOMINA
movimiento on that date) and no REGULARIZACION movimiento has paid since.

Moratorium interest (an assumption, written down because the seeds give no
formula): simple daily interest on each missed descuento, at
`tasa_mensual / 30` per calendar day (commercial month), counted from the
quincena date to the payment date; no IVA on it. The amount printed on a bank
form must be fixed, so the payment date used is the FOPI's fecha límite de
pago (its vigencia): paying earlier never costs more. Each quincena's interest
is rounded to cents and the total is the sum of those rounded amounts.
The ordinary interest the loan kept accruing on the unpaid descuentos stays
in the saldo (finanzas.saldo_deudor capitalises it); the moratorium interest
is a penalty on top and does not amortise the loan, so paying a regularisation
records one REGULARIZACION movimiento per quincena for its descuento only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session

from backend.models import Prestamo
from backend.services import finanzas
from backend.services.prestamos import (  # noqa: F401  (QuincenaOmitida re-exported)
    MovimientoLike,
    QuincenaOmitida,
    movimientos_de,
    quincenas_omitidas,
)

DIAS_POR_MES = 30


@dataclass(frozen=True)
class QuincenaConInteres:
    numero: int
    fecha: date
    descuento: Decimal
    dias_atraso: int
    interes_moratorio: Decimal

    def como_json(self) -> dict[str, object]:
        """The form stored in Fopi.quincenas (JSON: strings for money and dates)."""
        return {
            "numero": self.numero,
            "fecha": self.fecha.isoformat(),
            "descuento": str(self.descuento),
            "dias_atraso": self.dias_atraso,
            "interes_moratorio": str(self.interes_moratorio),
        }

    @classmethod
    def de_json(cls, data: dict[str, object]) -> QuincenaConInteres:
        return cls(
            numero=int(str(data["numero"])),
            fecha=date.fromisoformat(str(data["fecha"])),
            descuento=Decimal(str(data["descuento"])),
            dias_atraso=int(str(data["dias_atraso"])),
            interes_moratorio=Decimal(str(data["interes_moratorio"])),
        )


@dataclass(frozen=True)
class Regularizacion:
    prestamo: Prestamo
    quincenas: list[QuincenaConInteres]
    adeudo: Decimal
    interes_moratorio: Decimal
    total: Decimal
    tasa_moratoria_mensual: Decimal
    calculado_al: date

    @property
    def pendiente(self) -> bool:
        return bool(self.quincenas)


def interes_moratorio(*, descuento: Decimal, desde: date, hasta: date, tasa_mensual: Decimal) -> Decimal:
    """Simple daily interest on one missed descuento, rounded to cents."""
    dias = max((hasta - desde).days, 0)
    return finanzas.redondear(descuento * tasa_mensual * dias / DIAS_POR_MES)


def calcular(
    *, prestamo: Prestamo, movimientos: Iterable[MovimientoLike], hoy: date, al: date, tasa_mensual: Decimal
) -> Regularizacion:
    """What regularising today costs if paid by `al` (the fecha límite de pago)."""
    quincenas = [
        QuincenaConInteres(
            numero=q.numero,
            fecha=q.fecha,
            descuento=q.descuento,
            dias_atraso=max((al - q.fecha).days, 0),
            interes_moratorio=interes_moratorio(
                descuento=q.descuento, desde=q.fecha, hasta=al, tasa_mensual=tasa_mensual
            ),
        )
        for q in quincenas_omitidas(prestamo=prestamo, movimientos=movimientos, hoy=hoy)
    ]
    adeudo = sum((q.descuento for q in quincenas), Decimal("0.00"))
    interes = sum((q.interes_moratorio for q in quincenas), Decimal("0.00"))
    return Regularizacion(
        prestamo=prestamo,
        quincenas=quincenas,
        adeudo=adeudo,
        interes_moratorio=interes,
        total=adeudo + interes,
        tasa_moratoria_mensual=tasa_mensual,
        calculado_al=al,
    )


def consultar(*, session: Session, prestamo: Prestamo, hoy: date, al: date, tasa_mensual: Decimal) -> Regularizacion:
    """`calcular` on the loan's movimientos as stored now."""
    return calcular(
        prestamo=prestamo, movimientos=movimientos_de(session, prestamo_id=prestamo.id), hoy=hoy, al=al,
        tasa_mensual=tasa_mensual,
    )
