"""FOPI (Formato de Pago de Individuales): issuing bank payment forms. Applying
the banks' payment notifications to the loan is backend/services/pagos_banco.py.

- Pago parcial: any amount > 0 and <= the saldo today.
- Liquidación: the form must print one fixed amount that settles the loan on
  any day the bank may take it, so it is priced at the last such day (the
  FOPI's vigencia) with the movimientos applied so far: without payments the
  saldo only grows (interest on quincena dates), so that is the most it can be.
  Paid earlier than that, or after a payroll discount that arrived between
  issue and payment, the bank still collects the printed amount, which is then
  more than the debt. The payment is therefore applied as it really happened:
  the saldo ON THE PAYMENT DATE (backend.services.prestamos.saldo_al, with every
  movimiento dated up to that day) is applied as a FOPI movimiento, the loan is
  liquidated, and the rest is recorded as a SALDO_A_FAVOR movimiento, which the
  saldo endpoint and the estado de cuenta show for CAPP to refund. A pago
  parcial that ends up larger than the saldo (two forms paid) is split the same
  way; nothing the bank collected disappears.
- Regularización: the missed descuentos, no moratorium interest
  (see backend/services/regularizacion.py).
- Vigencia: 5 business days after the day of issue, skipping weekends and
  Mexican federal holidays (backend/services/dias_habiles.py).
"""

from __future__ import annotations

import logging
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.models import Derechohabiente, Fopi, Prestamo
from backend.services import finanzas, prestamos, referencias, regularizacion
from backend.services.dias_habiles import es_dia_habil, sumar_dias_habiles  # noqa: F401  (es_dia_habil re-exported)
from backend.services.errores import Conflicto, NoEncontrado, ReglaIncumplida

log = logging.getLogger("backend.fopi")

DIAS_HABILES_VIGENCIA = 5
# Collecting banks printed on the form (data: update when the agreements change).
# Seed 001 says "Instituciones Bancarias autorizadas" without naming them: this list
# (and the 5-business-day vigencia) is an assumption, told to the user as an
# estimate to confirm (domain.yml utter_fopi_generado, README "Fuentes").
BANCOS_AUTORIZADOS: tuple[str, ...] = (
    "BBVA",
    "Banamex",
    "Banorte",
    "HSBC",
    "Santander",
    "Scotiabank",
)
DESCRIPCION_CONCEPTO = {
    "PARCIAL": "Pago parcial del préstamo personal",
    "LIQUIDACION": "Liquidación del préstamo personal",
    "REGULARIZACION": "Regularización de descuentos no aplicados por nómina",
}
TIPO_A_CONCEPTO = {"parcial": "PARCIAL", "liquidacion": "LIQUIDACION"}


# --- dates -------------------------------------------------------------------

def calcular_vigencia(emision: date) -> date:
    return sumar_dias_habiles(emision, DIAS_HABILES_VIGENCIA)


# --- loans ---------------------------------------------------------------------

def prestamo_vigente(
    *, session: Session, derechohabiente_id: int, folio: str | None = None
) -> Prestamo:
    """The derechohabiente's vigente loan (the newest one, or the one with `folio`)."""
    consulta = select(Prestamo).where(
        Prestamo.derechohabiente_id == derechohabiente_id, Prestamo.estatus == "VIGENTE"
    )
    if folio:
        consulta = consulta.where(Prestamo.folio == folio.strip().upper())
    prestamo = session.scalars(
        consulta.order_by(Prestamo.fecha_otorgamiento.desc(), Prestamo.id.desc()).limit(1)
    ).first()
    if prestamo is None:
        if folio:
            raise NoEncontrado(
                "No encontramos un préstamo vigente con ese folio a su nombre.",
                "sin_prestamo_vigente",
            )
        raise NoEncontrado("No tiene un préstamo personal vigente.", "sin_prestamo_vigente")
    return prestamo


def saldo_prestamo(*, session: Session, prestamo: Prestamo, al: date) -> Decimal:
    """The saldo deudor on `al` (the one implementation: prestamos.saldo_deudor)."""
    return prestamos.saldo_deudor(session, prestamo=prestamo, al=al)


def dinero(valor: Decimal) -> str:
    return f"${valor:,.2f}"


# --- issuing -------------------------------------------------------------------

def _crear_fopi(
    *,
    session: Session,
    prestamo: Prestamo,
    concepto: str,
    monto: Decimal,
    hoy: date,
    vigencia: date,
    quincenas: list[dict[str, object]] | None = None,
) -> Fopi:
    """Insert a FOPI with the next free reference for (prestamo, vigencia)."""
    for _intento in range(3):
        emitidos = (
            session.scalar(
                select(func.count())
                .select_from(Fopi)
                .where(Fopi.prestamo_id == prestamo.id, Fopi.vigencia == vigencia)
            )
            or 0
        )
        consecutivo = emitidos + 1
        while True:
            if consecutivo > referencias.MAX_CONSECUTIVO:
                raise Conflicto(
                    "Ya generó demasiados formatos de pago hoy; use uno de los que tiene.",
                    "demasiados_fopi",
                )
            referencia = referencias.generar_referencia(
                concepto=concepto,
                prestamo_id=prestamo.id,
                vigencia=vigencia,
                consecutivo=consecutivo,
            )
            if session.scalar(select(Fopi.id).where(Fopi.referencia == referencia)) is None:
                break
            consecutivo += 1
        fopi = Fopi(
            referencia=referencia,
            prestamo_id=prestamo.id,
            concepto=concepto,
            monto=finanzas.redondear(monto),
            quincenas=quincenas,
            fecha_emision=hoy,
            vigencia=vigencia,
            estatus="EMITIDO",
        )
        session.add(fopi)
        try:
            session.commit()
        except IntegrityError:  # a concurrent request took the same reference
            session.rollback()
            continue
        return fopi
    raise Conflicto(
        "No pudimos generar el formato en este momento; intente de nuevo.", "fopi_conflicto"
    )


def emitir_fopi(
    *,
    session: Session,
    derechohabiente: Derechohabiente,
    tipo: str,
    hoy: date,
    monto: Decimal | None = None,
    folio: str | None = None,
) -> Fopi:
    """Issue a pago parcial (`monto` given) or liquidación FOPI for the vigente loan."""
    concepto = TIPO_A_CONCEPTO[tipo]
    prestamo = prestamo_vigente(session=session, derechohabiente_id=derechohabiente.id, folio=folio)
    vigencia = calcular_vigencia(hoy)
    saldo_hoy = saldo_prestamo(session=session, prestamo=prestamo, al=hoy)
    if saldo_hoy <= 0:
        raise Conflicto("Su préstamo no tiene saldo pendiente por pagar.", "sin_saldo")
    if concepto == "PARCIAL":
        if monto is None:
            raise ReglaIncumplida(
                "Indique el monto que desea pagar.", "monto_requerido", campos=["monto"]
            )
        if monto <= 0:
            raise ReglaIncumplida(
                "El monto a pagar debe ser mayor que cero.", "monto_invalido", campos=["monto"]
            )
        if monto > saldo_hoy:
            raise ReglaIncumplida(
                f"El monto no puede ser mayor que su saldo deudor de {dinero(saldo_hoy)}. "
                "Si desea pagar todo, solicite un formato de liquidación.",
                "monto_mayor_saldo",
                campos=["monto"],
            )
        importe = finanzas.redondear(monto)
    else:
        importe = saldo_prestamo(session=session, prestamo=prestamo, al=vigencia)
    return _crear_fopi(
        session=session,
        prestamo=prestamo,
        concepto=concepto,
        monto=importe,
        hoy=hoy,
        vigencia=vigencia,
    )


def emitir_fopi_regularizacion(
    *,
    session: Session,
    derechohabiente: Derechohabiente,
    hoy: date,
    folio: str | None = None,
) -> tuple[Fopi, regularizacion.Regularizacion]:
    """Issue a REGULARIZACION FOPI for every missed quincena (their descuentos)."""
    prestamo = prestamo_vigente(session=session, derechohabiente_id=derechohabiente.id, folio=folio)
    vigencia = calcular_vigencia(hoy)
    calculo = regularizacion.consultar(session=session, prestamo=prestamo, hoy=hoy, al=vigencia)
    if not calculo.pendiente:
        raise Conflicto(
            "Su préstamo está al corriente: no tiene quincenas por regularizar.", "sin_adeudo"
        )
    fopi = _crear_fopi(
        session=session,
        prestamo=prestamo,
        concepto="REGULARIZACION",
        monto=calculo.total,
        hoy=hoy,
        vigencia=vigencia,
        quincenas=[q.como_json() for q in calculo.quincenas],
    )
    return fopi, calculo


# --- reading -------------------------------------------------------------------

def marcar_vencido(fopi: Fopi, hoy: date) -> bool:
    if fopi.estatus == "EMITIDO" and hoy > fopi.vigencia:
        fopi.estatus = "VENCIDO"
        return True
    return False


def obtener_fopi(
    *, session: Session, derechohabiente: Derechohabiente, referencia: str, hoy: date
) -> Fopi:
    """One of the derechohabiente's own FOPIs; anyone else's is 'not found'."""
    ref = referencias.normalizar(referencia)
    fopi = session.scalars(
        select(Fopi)
        .join(Prestamo, Fopi.prestamo_id == Prestamo.id)
        .where(Fopi.referencia == ref, Prestamo.derechohabiente_id == derechohabiente.id)
    ).first()
    if fopi is None:
        raise NoEncontrado(
            "No encontramos un formato de pago con esa referencia a su nombre.",
            "fopi_no_encontrado",
        )
    if marcar_vencido(fopi, hoy):
        session.commit()
    return fopi


def listar_fopis(*, session: Session, derechohabiente: Derechohabiente, hoy: date) -> list[Fopi]:
    fopis = list(
        session.scalars(
            select(Fopi)
            .join(Prestamo, Fopi.prestamo_id == Prestamo.id)
            .where(Prestamo.derechohabiente_id == derechohabiente.id)
            .order_by(Fopi.creado_en.desc(), Fopi.id.desc())
        )
    )
    if any([marcar_vencido(f, hoy) for f in fopis]):
        session.commit()
    return fopis
