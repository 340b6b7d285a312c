"""Regularisation: the quincenas in which the dependencia did not discount the
loan payment through payroll, and what regularising them costs.

Which quincenas are *omitidas* is decided in one place,
backend.services.prestamos.quincenas_omitidas (the saldo endpoint and the estado
de cuenta count them with the same rule): a scheduled quincena dated before
today that no NOMINA movimiento covers (same quincena number, or a NOMINA
movimiento on that date) and no REGULARIZACION movimiento has paid since.

The amount is the missed descuentos and nothing else. Seed 001 ("Regularizar
tu crédito evita intereses moratorios") describes regularisation as the way to
*avoid* moratorium interest, and no seed gives a moratorium rate or formula, so
none is charged (an earlier version added an assumed 1.5 % a month; see the
README, "Regularización"). The ordinary interest the loan kept accruing on the
unpaid descuentos stays in the saldo (finanzas.saldo_deudor capitalises it);
paying a regularisation records one REGULARIZACION movimiento per quincena for
its descuento. `dias_atraso` (to the FOPI's fecha límite de pago) is shown for
information only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session

from backend.models import Prestamo
from backend.services.prestamos import (  # noqa: F401  (QuincenaOmitida re-exported)
    MovimientoLike,
    QuincenaOmitida,
    movimientos_de,
    quincenas_omitidas,
)


@dataclass(frozen=True)
class QuincenaPorRegularizar:
    numero: int
    fecha: date
    descuento: Decimal
    dias_atraso: int

    def como_json(self) -> dict[str, object]:
        """The form stored in Fopi.quincenas (JSON: strings for money and dates)."""
        return {
            "numero": self.numero,
            "fecha": self.fecha.isoformat(),
            "descuento": str(self.descuento),
            "dias_atraso": self.dias_atraso,
        }

    @classmethod
    def de_json(cls, data: dict[str, object]) -> QuincenaPorRegularizar:
        # FOPIs stored before the moratorium charge was dropped also carry
        # "interes_moratorio": ignored, their printed amount stays what it was.
        return cls(
            numero=int(str(data["numero"])),
            fecha=date.fromisoformat(str(data["fecha"])),
            descuento=Decimal(str(data["descuento"])),
            dias_atraso=int(str(data["dias_atraso"])),
        )


@dataclass(frozen=True)
class Regularizacion:
    prestamo: Prestamo
    quincenas: list[QuincenaPorRegularizar]
    adeudo: Decimal
    total: Decimal
    calculado_al: date

    @property
    def pendiente(self) -> bool:
        return bool(self.quincenas)


def calcular(
    *, prestamo: Prestamo, movimientos: Iterable[MovimientoLike], hoy: date, al: date
) -> Regularizacion:
    """What regularising today costs: the missed descuentos (`al` is the fecha límite de pago)."""
    quincenas = [
        QuincenaPorRegularizar(
            numero=q.numero,
            fecha=q.fecha,
            descuento=q.descuento,
            dias_atraso=max((al - q.fecha).days, 0),
        )
        for q in quincenas_omitidas(prestamo=prestamo, movimientos=movimientos, hoy=hoy)
    ]
    adeudo = sum((q.descuento for q in quincenas), Decimal("0.00"))
    return Regularizacion(
        prestamo=prestamo, quincenas=quincenas, adeudo=adeudo, total=adeudo, calculado_al=al
    )


def consultar(*, session: Session, prestamo: Prestamo, hoy: date, al: date) -> Regularizacion:
    """`calcular` on the loan's movimientos as stored now."""
    return calcular(
        prestamo=prestamo,
        movimientos=movimientos_de(session, prestamo_id=prestamo.id),
        hoy=hoy,
        al=al,
    )
