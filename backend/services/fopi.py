"""FOPI (Formato de Pago de Individuales): issuing bank payment forms and
applying the banks' payment notifications to the loan.

- Pago parcial: any amount > 0 and <= the saldo today.
- Liquidación: the saldo at the fecha límite de pago (the FOPI's vigencia),
  computed with finanzas.saldo_deudor from the movimientos applied so far. The
  saldo only grows between payments (interest on quincena dates), so that
  amount settles the loan on any day the bank may take it; paid on the last
  day it equals the saldo on the payment date to the cent.
- Regularización: the missed descuentos plus moratorium interest
  (see backend/services/regularizacion.py).
- Vigencia: 5 business days after the day of issue, skipping weekends and
  Mexican federal holidays (python `holidays`, country MX).
- A bank notification is applied once: the FOPI goes EMITIDO -> PAGADO and the
  Movimiento rows carry the reference under UniqueConstraint(origen, referencia),
  so a repeated or concurrent notification cannot apply twice.
"""

from __future__ import annotations

import logging
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import cache

import holidays
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.errors import ErrorNegocio
from backend.models import Derechohabiente, Fopi, Movimiento, Prestamo
from backend.models.base import utcnow
from backend.services import finanzas, referencias, regularizacion

log = logging.getLogger("backend.fopi")

DIAS_HABILES_VIGENCIA = 5
# Collecting banks printed on the form (data: update when the agreements change).
BANCOS_AUTORIZADOS: tuple[str, ...] = ("BBVA", "Banamex", "Banorte", "HSBC", "Santander", "Scotiabank")
_ALIAS_BANCOS = {"citibanamex": "Banamex", "bancomer": "BBVA", "bbvabancomer": "BBVA"}
DESCRIPCION_CONCEPTO = {
    "PARCIAL": "Pago parcial del préstamo personal",
    "LIQUIDACION": "Liquidación del préstamo personal",
    "REGULARIZACION": "Regularización de descuentos no aplicados por nómina",
}
TIPO_A_CONCEPTO = {"parcial": "PARCIAL", "liquidacion": "LIQUIDACION"}


# --- dates -------------------------------------------------------------------

@cache
def _feriados_mx() -> holidays.HolidayBase:
    # Years are filled in lazily on lookup.
    return holidays.country_holidays("MX")


def es_dia_habil(dia: date) -> bool:
    return dia.weekday() < 5 and dia not in _feriados_mx()


def sumar_dias_habiles(desde: date, dias: int) -> date:
    """The `dias`-th business day strictly after `desde`."""
    actual = desde
    contados = 0
    while contados < dias:
        actual += timedelta(days=1)
        if es_dia_habil(actual):
            contados += 1
    return actual


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
            raise ErrorNegocio(404, "No encontramos un préstamo vigente con ese folio a su nombre.", "sin_prestamo_vigente")
        raise ErrorNegocio(404, "No tiene un préstamo personal vigente.", "sin_prestamo_vigente")
    return prestamo


def saldo_prestamo(*, session: Session, prestamo: Prestamo, al: date) -> Decimal:
    """Saldo deudor on `al` from the schedule and the stored movimientos."""
    movimientos = regularizacion.movimientos_de(session, prestamo.id)
    return finanzas.saldo_deudor(
        monto=Decimal(prestamo.monto),
        tasa_anual=Decimal(prestamo.tasa_anual),
        fechas_programadas=finanzas.fechas_quincena(prestamo.fecha_primer_descuento, prestamo.plazo_quincenas),
        pagos=[finanzas.Pago(m.fecha, Decimal(m.monto)) for m in movimientos],
        al=al,
    )


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
    interes_moratorio: Decimal | None = None,
) -> Fopi:
    """Insert a FOPI with the next free reference for (prestamo, vigencia)."""
    for _intento in range(3):
        emitidos = session.scalar(
            select(func.count()).select_from(Fopi).where(Fopi.prestamo_id == prestamo.id, Fopi.vigencia == vigencia)
        ) or 0
        consecutivo = emitidos + 1
        while True:
            if consecutivo > referencias.MAX_CONSECUTIVO:
                raise ErrorNegocio(
                    409, "Ya generó demasiados formatos de pago hoy; use uno de los que tiene.", "demasiados_fopi"
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
            interes_moratorio=interes_moratorio,
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
    raise ErrorNegocio(409, "No pudimos generar el formato en este momento; intente de nuevo.", "fopi_conflicto")


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
        raise ErrorNegocio(409, "Su préstamo no tiene saldo pendiente por pagar.", "sin_saldo")
    if concepto == "PARCIAL":
        if monto is None:
            raise ErrorNegocio(422, "Indique el monto que desea pagar.", "monto_requerido", campos=["monto"])
        if monto <= 0:
            raise ErrorNegocio(422, "El monto a pagar debe ser mayor que cero.", "monto_invalido", campos=["monto"])
        if monto > saldo_hoy:
            raise ErrorNegocio(
                422,
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
    tasa_mensual: Decimal,
    folio: str | None = None,
) -> tuple[Fopi, regularizacion.Regularizacion]:
    """Issue a REGULARIZACION FOPI for every missed quincena, interest to its vigencia."""
    prestamo = prestamo_vigente(session=session, derechohabiente_id=derechohabiente.id, folio=folio)
    vigencia = calcular_vigencia(hoy)
    calculo = regularizacion.consultar(
        session=session, prestamo=prestamo, hoy=hoy, al=vigencia, tasa_mensual=tasa_mensual
    )
    if not calculo.pendiente:
        raise ErrorNegocio(409, "Su préstamo está al corriente: no tiene quincenas por regularizar.", "sin_adeudo")
    fopi = _crear_fopi(
        session=session,
        prestamo=prestamo,
        concepto="REGULARIZACION",
        monto=calculo.total,
        hoy=hoy,
        vigencia=vigencia,
        quincenas=[q.como_json() for q in calculo.quincenas],
        interes_moratorio=calculo.interes_moratorio,
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
        raise ErrorNegocio(404, "No encontramos un formato de pago con esa referencia a su nombre.", "fopi_no_encontrado")
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
    raise ErrorNegocio(
        422,
        "El banco no está autorizado para recibir pagos de préstamos personales del ISSSTE.",
        "banco_no_autorizado",
        campos=["banco"],
    )


def _resultado(fopi: Fopi, *, aplicado: bool) -> ResultadoNotificacion:
    movimientos = len(fopi.quincenas or []) if fopi.concepto == "REGULARIZACION" else 1
    return ResultadoNotificacion(
        referencia=fopi.referencia,
        concepto=fopi.concepto,
        estatus=fopi.estatus,
        aplicado=aplicado,
        fecha_pago=fopi.fecha_pago or fopi.fecha_emision,
        movimientos=movimientos,
        prestamo_liquidado=fopi.prestamo.estatus == "LIQUIDADO",
    )


def _ya_pagada(fopi: Fopi, folio_banco: str) -> ResultadoNotificacion:
    if fopi.folio_banco == folio_banco:
        return _resultado(fopi, aplicado=False)
    raise ErrorNegocio(
        409,
        f"La referencia ya fue pagada el {fopi.fecha_pago:%d/%m/%Y}; no se puede aplicar otro pago con ella.",
        "referencia_pagada",
    )


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
        raise ErrorNegocio(422, str(exc), "referencia_invalida", campos=["referencia"]) from exc
    nombre_banco = banco_autorizado(banco)
    folio_banco = folio_banco.strip()
    fopi = session.scalars(select(Fopi).where(Fopi.referencia == ref).with_for_update()).first()
    if fopi is None:
        raise ErrorNegocio(404, "No existe un formato de pago con esa referencia.", "referencia_desconocida")
    if fopi.estatus == "PAGADO":
        return _ya_pagada(fopi, folio_banco)
    if fecha_pago > hoy:
        raise ErrorNegocio(422, "La fecha de pago no puede ser posterior a hoy.", "fecha_pago_futura", campos=["fecha_pago"])
    if fecha_pago < fopi.fecha_emision:
        raise ErrorNegocio(
            422, "La fecha de pago es anterior a la emisión del formato.", "fecha_pago_invalida", campos=["fecha_pago"]
        )
    if fecha_pago > fopi.vigencia:
        if _marcar_vencido(fopi, hoy):
            session.commit()
        raise ErrorNegocio(
            409,
            f"La referencia venció el {fopi.vigencia:%d/%m/%Y}; el pago no se puede aplicar.",
            "referencia_vencida",
        )
    if monto != fopi.monto:
        raise ErrorNegocio(
            422,
            f"El monto pagado ({_dinero(monto)}) no coincide con el importe del formato ({_dinero(fopi.monto)}).",
            "monto_no_coincide",
            campos=["monto"],
        )
    prestamo = session.scalars(select(Prestamo).where(Prestamo.id == fopi.prestamo_id).with_for_update()).one()
    if prestamo.estatus != "VIGENTE":
        raise ErrorNegocio(409, "El préstamo de esta referencia ya está liquidado.", "prestamo_liquidado")

    if fopi.concepto == "REGULARIZACION":
        cubiertas = [regularizacion.QuincenaConInteres.de_json(q) for q in fopi.quincenas or []]
        pendientes = {
            q.numero
            for q in regularizacion.quincenas_omitidas(
                prestamo=prestamo, movimientos=regularizacion.movimientos_de(session, prestamo.id), hoy=hoy
            )
        }
        if not cubiertas or any(q.numero not in pendientes for q in cubiertas):
            raise ErrorNegocio(
                409,
                "Alguna quincena de este formato ya fue cubierta; genere un formato de regularización nuevo.",
                "quincenas_ya_cubiertas",
            )
        for q in cubiertas:
            session.add(
                Movimiento(
                    prestamo_id=prestamo.id,
                    quincena=q.numero,
                    fecha=fecha_pago,
                    monto=q.descuento,
                    origen="REGULARIZACION",
                    referencia=f"{ref}-Q{q.numero:03d}",
                )
            )
    else:
        session.add(
            Movimiento(
                prestamo_id=prestamo.id, quincena=None, fecha=fecha_pago, monto=fopi.monto, origen="FOPI", referencia=ref
            )
        )
    fopi.estatus = "PAGADO"
    fopi.fecha_pago = fecha_pago
    fopi.banco = nombre_banco
    fopi.folio_banco = folio_banco
    fopi.pagado_en = utcnow()
    session.flush()
    if fopi.concepto == "LIQUIDACION" or saldo_prestamo(session=session, prestamo=prestamo, al=fecha_pago) <= 0:
        prestamo.estatus = "LIQUIDADO"
        prestamo.fecha_liquidacion = fecha_pago
    try:
        session.commit()
    except IntegrityError:  # the same notification applied concurrently
        session.rollback()
        fopi = session.scalars(select(Fopi).where(Fopi.referencia == ref)).one()
        if fopi.estatus == "PAGADO":
            return _ya_pagada(fopi, folio_banco)
        raise ErrorNegocio(409, "El pago ya se está aplicando; intente de nuevo en un momento.", "pago_en_proceso") from None
    log.info("pago aplicado: referencia=%s concepto=%s banco=%s", ref, fopi.concepto, nombre_banco)
    return _resultado(fopi, aplicado=True)
