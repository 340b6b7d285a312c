"""Applying a bank's payment notification for a FOPI to the loan.

- The bank must notify exactly the printed amount (it collects that amount;
  another one means a different or mistyped operation).
- A bank notification is applied once: the FOPI goes EMITIDO -> PAGADO and the
  Movimiento rows carry the reference under UniqueConstraint(origen, referencia),
  so a repeated or concurrent notification cannot apply twice.
- What the bank collected beyond the saldo on the payment date is kept as a
  SALDO_A_FAVOR movimiento (see backend/services/fopi.py).
"""

from __future__ import annotations

import logging
import unicodedata
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.models import Fopi, Movimiento, Prestamo
from backend.models.base import utcnow
from backend.services import prestamos, referencias, regularizacion
from backend.services.errores import Conflicto, NoEncontrado, ReglaIncumplida
from backend.services.fopi import (
    BANCOS_AUTORIZADOS,
    dinero,
    marcar_vencido,
)

log = logging.getLogger("backend.fopi")

_ALIAS_BANCOS = {"citibanamex": "Banamex", "bancomer": "BBVA", "bbvabancomer": "BBVA"}


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
    return "".join(
        c for c in unicodedata.normalize("NFKD", texto) if not unicodedata.combining(c)
    ).casefold()


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
            (Movimiento.referencia == fopi.referencia)
            | Movimiento.referencia.like(f"{fopi.referencia}-Q%"),
        )
    ).all()
    favor = sum(
        (Decimal(m.monto) for m in movs if m.origen == prestamos.SALDO_A_FAVOR), prestamos.CERO
    )
    return ResultadoNotificacion(
        referencia=fopi.referencia,
        concepto=fopi.concepto,
        estatus=fopi.estatus,
        aplicado=aplicado,
        fecha_pago=fopi.fecha_pago or fopi.fecha_emision,
        movimientos=len(movs),
        prestamo_liquidado=fopi.prestamo.estatus == prestamos.LIQUIDADO,
        aplicado_al_prestamo=sum(
            (Decimal(m.monto) for m in movs if m.origen != prestamos.SALDO_A_FAVOR), prestamos.CERO
        ),
        saldo_a_favor=favor,
    )


def _ya_pagada(session: Session, fopi: Fopi, folio_banco: str) -> ResultadoNotificacion:
    if fopi.folio_banco == folio_banco:
        return _resultado(session, fopi, aplicado=False)
    raise Conflicto(
        f"La referencia ya fue pagada el {fopi.fecha_pago:%d/%m/%Y}; no se puede aplicar otro pago "
        "con ella.",
        "referencia_pagada",
    )


def _aplicar_regularizacion(
    session: Session, *, fopi: Fopi, prestamo: Prestamo, ref: str, fecha_pago: date, hoy: date
) -> None:
    cubiertas = [regularizacion.QuincenaPorRegularizar.de_json(q) for q in fopi.quincenas or []]
    pendientes = {
        q.numero
        for q in prestamos.quincenas_omitidas(
            prestamo=prestamo,
            movimientos=prestamos.movimientos_de(session, prestamo_id=prestamo.id),
            hoy=hoy,
        )
    }
    if not cubiertas or any(q.numero not in pendientes for q in cubiertas):
        raise Conflicto(
            "Alguna quincena de este formato ya fue cubierta; genere un formato de regularización "
            "nuevo.",
            "quincenas_ya_cubiertas",
        )
    for q in cubiertas:
        session.add(
            Movimiento(
                prestamo_id=prestamo.id,
                quincena=q.numero,
                fecha=fecha_pago,
                monto=q.descuento,
                origen=prestamos.REGULARIZACION,
                referencia=f"{ref}-Q{q.numero:03d}",
            )
        )


def _aplicar_pago(
    session: Session, *, fopi: Fopi, prestamo: Prestamo, ref: str, fecha_pago: date
) -> Decimal:
    """A pago parcial or liquidación: the saldo on the payment date is applied to the
    loan, anything beyond it becomes saldo a favor. Returns the saldo after the payment."""
    monto = Decimal(fopi.monto)
    saldo = prestamos.saldo_deudor(session, prestamo=prestamo, al=fecha_pago)
    al_prestamo = min(monto, saldo)
    excedente = monto - al_prestamo
    for importe, origen in ((al_prestamo, prestamos.FOPI), (excedente, prestamos.SALDO_A_FAVOR)):
        if importe > 0:
            session.add(
                Movimiento(
                    prestamo_id=prestamo.id,
                    quincena=None,
                    fecha=fecha_pago,
                    monto=importe,
                    origen=origen,
                    referencia=ref,
                )
            )
    if excedente > 0:
        log.info(
            "pago con excedente: referencia=%s concepto=%s (saldo a favor registrado)",
            ref,
            fopi.concepto,
        )
    if (
        fopi.concepto == "LIQUIDACION" and al_prestamo < saldo
    ):  # pragma: no cover - the form covers the saldo
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
        raise NoEncontrado(
            "No existe un formato de pago con esa referencia.", "referencia_desconocida"
        )
    if fopi.estatus == "PAGADO":
        return _ya_pagada(session, fopi, folio_banco)
    if fecha_pago > hoy:
        raise ReglaIncumplida(
            "La fecha de pago no puede ser posterior a hoy.",
            "fecha_pago_futura",
            campos=["fecha_pago"],
        )
    if fecha_pago < fopi.fecha_emision:
        raise ReglaIncumplida(
            "La fecha de pago es anterior a la emisión del formato.",
            "fecha_pago_invalida",
            campos=["fecha_pago"],
        )
    if fecha_pago > fopi.vigencia:
        if marcar_vencido(fopi, hoy):
            session.commit()
        raise Conflicto(
            f"La referencia venció el {fopi.vigencia:%d/%m/%Y}; el pago no se puede aplicar.",
            "referencia_vencida",
        )
    if monto != fopi.monto:
        raise ReglaIncumplida(
            f"El monto pagado ({dinero(monto)}) no coincide con el importe del formato "
            f"({dinero(fopi.monto)}).",
            "monto_no_coincide",
            campos=["monto"],
        )
    prestamo = session.scalars(
        select(Prestamo).where(Prestamo.id == fopi.prestamo_id).with_for_update()
    ).one()
    if fopi.concepto == "REGULARIZACION":
        if prestamo.estatus != prestamos.VIGENTE:
            raise Conflicto(
                "El préstamo de esta referencia ya está liquidado.", "prestamo_liquidado"
            )
        _aplicar_regularizacion(
            session, fopi=fopi, prestamo=prestamo, ref=ref, fecha_pago=fecha_pago, hoy=hoy
        )
        session.flush()
        restante = prestamos.saldo_deudor(session, prestamo=prestamo, al=fecha_pago)
    else:
        # On a loan already liquidated (another form was paid first) saldo_al is 0:
        # the whole payment is recorded as saldo a favor instead of being refused,
        # because the bank has already taken the money.
        restante = _aplicar_pago(
            session, fopi=fopi, prestamo=prestamo, ref=ref, fecha_pago=fecha_pago
        )
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
        raise Conflicto(
            "El pago ya se está aplicando; intente de nuevo en un momento.", "pago_en_proceso"
        ) from None
    log.info("pago aplicado: referencia=%s concepto=%s banco=%s", ref, fopi.concepto, nombre_banco)
    return _resultado(session, fopi, aplicado=True)
