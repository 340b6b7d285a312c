"""FOPI (Formato de Pago de Individuales): issuing bank payment forms and
applying the banks' payment notifications to the loan.

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
- The bank must notify exactly the printed amount (it collects that amount;
  another one means a different or mistyped operation).
- A bank notification is applied once: the FOPI goes EMITIDO -> PAGADO and the
  Movimiento rows carry the reference under UniqueConstraint(origen, referencia),
  so a repeated or concurrent notification cannot apply twice.
"""

from __future__ import annotations

import logging
import unicodedata
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.models import Derechohabiente, Fopi, Movimiento, Prestamo
from backend.models.base import utcnow
from backend.services import finanzas, prestamos, referencias, regularizacion
from backend.services.dias_habiles import es_dia_habil, sumar_dias_habiles  # noqa: F401  (es_dia_habil re-exported)
from backend.services.errores import Conflicto, NoEncontrado, ReglaIncumplida

log = logging.getLogger("backend.fopi")

DIAS_HABILES_VIGENCIA = 5
# Collecting banks printed on the form (data: update when the agreements change).
# Seed 001 says "Instituciones Bancarias autorizadas" without naming them: this list
# (and the 5-business-day vigencia) is an assumption, told to the user as an
# estimate to confirm (domain.yml utter_fopi_generado, README "Fuentes").
BANCOS_AUTORIZADOS: tuple[str, ...] = ("BBVA", "Banamex", "Banorte", "HSBC", "Santander", "Scotiabank")
_ALIAS_BANCOS = {"citibanamex": "Banamex", "bancomer": "BBVA", "bbvabancomer": "BBVA"}
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

def prestamo_vigente(*, session: Session, derechohabiente_id: int, folio: str | None = None) -> Prestamo:
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
            raise NoEncontrado("No encontramos un préstamo vigente con ese folio a su nombre.", "sin_prestamo_vigente")
        raise NoEncontrado("No tiene un préstamo personal vigente.", "sin_prestamo_vigente")
    return prestamo


def saldo_prestamo(*, session: Session, prestamo: Prestamo, al: date) -> Decimal:
    """The saldo deudor on `al` (the one implementation: prestamos.saldo_deudor)."""
    return prestamos.saldo_deudor(session, prestamo=prestamo, al=al)


def _dinero(valor: Decimal) -> str:
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
        emitidos = session.scalar(
            select(func.count()).select_from(Fopi).where(Fopi.prestamo_id == prestamo.id, Fopi.vigencia == vigencia)
        ) or 0
        consecutivo = emitidos + 1
        while True:
            if consecutivo > referencias.MAX_CONSECUTIVO:
                raise Conflicto(
                    "Ya generó demasiados formatos de pago hoy; use uno de los que tiene.", "demasiados_fopi"
                )
            referencia = referencias.generar_referencia(
                concepto=concepto, prestamo_id=prestamo.id, vigencia=vigencia, consecutivo=consecutivo
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
    raise Conflicto("No pudimos generar el formato en este momento; intente de nuevo.", "fopi_conflicto")


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
            raise ReglaIncumplida("Indique el monto que desea pagar.", "monto_requerido", campos=["monto"])
        if monto <= 0:
            raise ReglaIncumplida("El monto a pagar debe ser mayor que cero.", "monto_invalido", campos=["monto"])
        if monto > saldo_hoy:
            raise ReglaIncumplida(
                f"El monto no puede ser mayor que su saldo deudor de {_dinero(saldo_hoy)}. "
                "Si desea pagar todo, solicite un formato de liquidación.",
                "monto_mayor_saldo",
                campos=["monto"],
            )
        importe = finanzas.redondear(monto)
    else:
        importe = saldo_prestamo(session=session, prestamo=prestamo, al=vigencia)
    return _crear_fopi(session=session, prestamo=prestamo, concepto=concepto, monto=importe, hoy=hoy, vigencia=vigencia)


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
        raise Conflicto("Su préstamo está al corriente: no tiene quincenas por regularizar.", "sin_adeudo")
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

def _marcar_vencido(fopi: Fopi, hoy: date) -> bool:
    if fopi.estatus == "EMITIDO" and hoy > fopi.vigencia:
        fopi.estatus = "VENCIDO"
        return True
    return False


def obtener_fopi(*, session: Session, derechohabiente: Derechohabiente, referencia: str, hoy: date) -> Fopi:
    """One of the derechohabiente's own FOPIs; anyone else's is 'not found'."""
    ref = referencias.normalizar(referencia)
    fopi = session.scalars(
        select(Fopi)
        .join(Prestamo, Fopi.prestamo_id == Prestamo.id)
        .where(Fopi.referencia == ref, Prestamo.derechohabiente_id == derechohabiente.id)
    ).first()
    if fopi is None:
        raise NoEncontrado("No encontramos un formato de pago con esa referencia a su nombre.", "fopi_no_encontrado")
    if _marcar_vencido(fopi, hoy):
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
    if any([_marcar_vencido(f, hoy) for f in fopis]):
        session.commit()
    return fopis


# --- bank notifications --------------------------------------------------------

@dataclass(frozen=True)
class ResultadoNotificacion:
    referencia: str
    concepto: str
    estatus: str
    aplicado: bool  # False when this notification had already been applied
    fecha_pago: date
    movimientos: int
    prestamo_liquidado: bool
    aplicado_al_prestamo: Decimal  # what amortised the loan
    saldo_a_favor: Decimal  # what exceeded the saldo on the payment date


def _sin_acentos(texto: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", texto) if not unicodedata.combining(c)).casefold()


def banco_autorizado(banco: str) -> str:
    """The canonical name of an authorised bank, or a 422."""
    buscado = _sin_acentos(banco).replace(" ", "")
    for alias, nombre in _ALIAS_BANCOS.items():
        if buscado.startswith(alias):
            return nombre
    for nombre in BANCOS_AUTORIZADOS:
        clave = _sin_acentos(nombre)
        if buscado == clave or buscado.startswith(clave):  # "BBVA México" -> BBVA
            return nombre
    raise ReglaIncumplida(
        "El banco no está autorizado para recibir pagos de préstamos personales del ISSSTE.",
        "banco_no_autorizado",
        campos=["banco"],
    )


def _resultado(session: Session, fopi: Fopi, *, aplicado: bool) -> ResultadoNotificacion:
    """The outcome of a (possibly earlier) application, read back from its movimientos."""
    movs = session.scalars(
        select(Movimiento).where(
            Movimiento.prestamo_id == fopi.prestamo_id,
            (Movimiento.referencia == fopi.referencia) | Movimiento.referencia.like(f"{fopi.referencia}-Q%"),
        )
    ).all()
    favor = sum((Decimal(m.monto) for m in movs if m.origen == prestamos.SALDO_A_FAVOR), prestamos.CERO)
    return ResultadoNotificacion(
        referencia=fopi.referencia,
        concepto=fopi.concepto,
        estatus=fopi.estatus,
        aplicado=aplicado,
        fecha_pago=fopi.fecha_pago or fopi.fecha_emision,
        movimientos=len(movs),
        prestamo_liquidado=fopi.prestamo.estatus == prestamos.LIQUIDADO,
        aplicado_al_prestamo=sum((Decimal(m.monto) for m in movs if m.origen != prestamos.SALDO_A_FAVOR),
                                 prestamos.CERO),
        saldo_a_favor=favor,
    )


def _ya_pagada(session: Session, fopi: Fopi, folio_banco: str) -> ResultadoNotificacion:
    if fopi.folio_banco == folio_banco:
        return _resultado(session, fopi, aplicado=False)
    raise Conflicto(
        f"La referencia ya fue pagada el {fopi.fecha_pago:%d/%m/%Y}; no se puede aplicar otro pago con ella.",
        "referencia_pagada",
    )


def _aplicar_regularizacion(session: Session, *, fopi: Fopi, prestamo: Prestamo, ref: str, fecha_pago: date,
                            hoy: date) -> None:
    cubiertas = [regularizacion.QuincenaPorRegularizar.de_json(q) for q in fopi.quincenas or []]
    pendientes = {
        q.numero
        for q in prestamos.quincenas_omitidas(
            prestamo=prestamo, movimientos=prestamos.movimientos_de(session, prestamo_id=prestamo.id), hoy=hoy
        )
    }
    if not cubiertas or any(q.numero not in pendientes for q in cubiertas):
        raise Conflicto(
            "Alguna quincena de este formato ya fue cubierta; genere un formato de regularización nuevo.",
            "quincenas_ya_cubiertas",
        )
    for q in cubiertas:
        session.add(Movimiento(prestamo_id=prestamo.id, quincena=q.numero, fecha=fecha_pago, monto=q.descuento,
                               origen=prestamos.REGULARIZACION, referencia=f"{ref}-Q{q.numero:03d}"))


def _aplicar_pago(session: Session, *, fopi: Fopi, prestamo: Prestamo, ref: str, fecha_pago: date) -> Decimal:
    """A pago parcial or liquidación: the saldo on the payment date is applied to the
    loan, anything beyond it becomes saldo a favor. Returns the saldo after the payment."""
    monto = Decimal(fopi.monto)
    saldo = prestamos.saldo_deudor(session, prestamo=prestamo, al=fecha_pago)
    al_prestamo = min(monto, saldo)
    excedente = monto - al_prestamo
    if al_prestamo > 0:
        session.add(Movimiento(prestamo_id=prestamo.id, quincena=None, fecha=fecha_pago, monto=al_prestamo,
                               origen=prestamos.FOPI, referencia=ref))
    if excedente > 0:
        session.add(Movimiento(prestamo_id=prestamo.id, quincena=None, fecha=fecha_pago, monto=excedente,
                               origen=prestamos.SALDO_A_FAVOR, referencia=ref))
        log.info("pago con excedente: referencia=%s concepto=%s (saldo a favor registrado)", ref, fopi.concepto)
    if fopi.concepto == "LIQUIDACION" and al_prestamo < saldo:  # pragma: no cover - the form covers the saldo
        log.warning("liquidación insuficiente: referencia=%s; se aplicó como pago parcial", ref)
    return saldo - al_prestamo


def aplicar_notificacion(
    *,
    session: Session,
    referencia: str,
    monto: Decimal,
    fecha_pago: date,
    banco: str,
    folio_banco: str,
    hoy: date,
) -> ResultadoNotificacion:
    """Apply a bank's payment notification to the loan, exactly once."""
    try:
        ref = referencias.validar(referencia)
    except referencias.ReferenciaInvalida as exc:
        raise ReglaIncumplida(str(exc), "referencia_invalida", campos=["referencia"]) from exc
    nombre_banco = banco_autorizado(banco)
    folio_banco = folio_banco.strip()
    fopi = session.scalars(select(Fopi).where(Fopi.referencia == ref).with_for_update()).first()
    if fopi is None:
        raise NoEncontrado("No existe un formato de pago con esa referencia.", "referencia_desconocida")
    if fopi.estatus == "PAGADO":
        return _ya_pagada(session, fopi, folio_banco)
    if fecha_pago > hoy:
        raise ReglaIncumplida("La fecha de pago no puede ser posterior a hoy.", "fecha_pago_futura", campos=["fecha_pago"])
    if fecha_pago < fopi.fecha_emision:
        raise ReglaIncumplida(
            "La fecha de pago es anterior a la emisión del formato.", "fecha_pago_invalida", campos=["fecha_pago"]
        )
    if fecha_pago > fopi.vigencia:
        if _marcar_vencido(fopi, hoy):
            session.commit()
        raise Conflicto(
            f"La referencia venció el {fopi.vigencia:%d/%m/%Y}; el pago no se puede aplicar.",
            "referencia_vencida",
        )
    if monto != fopi.monto:
        raise ReglaIncumplida(
            f"El monto pagado ({_dinero(monto)}) no coincide con el importe del formato ({_dinero(fopi.monto)}).",
            "monto_no_coincide",
            campos=["monto"],
        )
    prestamo = session.scalars(select(Prestamo).where(Prestamo.id == fopi.prestamo_id).with_for_update()).one()
    if fopi.concepto == "REGULARIZACION":
        if prestamo.estatus != prestamos.VIGENTE:
            raise Conflicto("El préstamo de esta referencia ya está liquidado.", "prestamo_liquidado")
        _aplicar_regularizacion(session, fopi=fopi, prestamo=prestamo, ref=ref, fecha_pago=fecha_pago, hoy=hoy)
        session.flush()
        restante = prestamos.saldo_deudor(session, prestamo=prestamo, al=fecha_pago)
    else:
        # On a loan already liquidated (another form was paid first) saldo_al is 0:
        # the whole payment is recorded as saldo a favor instead of being refused,
        # because the bank has already taken the money.
        restante = _aplicar_pago(session, fopi=fopi, prestamo=prestamo, ref=ref, fecha_pago=fecha_pago)
    fopi.estatus = "PAGADO"
    fopi.fecha_pago = fecha_pago
    fopi.banco = nombre_banco
    fopi.folio_banco = folio_banco
    fopi.pagado_en = utcnow()
    if prestamo.estatus == prestamos.VIGENTE and restante <= 0:
        prestamo.estatus = prestamos.LIQUIDADO
        prestamo.fecha_liquidacion = fecha_pago
    try:
        session.commit()
    except IntegrityError:  # the same notification applied concurrently
        session.rollback()
        fopi = session.scalars(select(Fopi).where(Fopi.referencia == ref)).one()
        if fopi.estatus == "PAGADO":
            return _ya_pagada(session, fopi, folio_banco)
        raise Conflicto("El pago ya se está aplicando; intente de nuevo en un momento.", "pago_en_proceso") from None
    log.info("pago aplicado: referencia=%s concepto=%s banco=%s", ref, fopi.concepto, nombre_banco)
    return _resultado(session, fopi, aplicado=True)
