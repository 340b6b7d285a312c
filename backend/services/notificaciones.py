"""SMS / WhatsApp notifications through a transactional outbox.

Business events (cita agendada, cancelada, hoja reenviada) write a
`Notificacion` row in the same transaction; reminders 48 h before a cita are
enqueued by the sender. The sender (`python -m backend.notificaciones`)
delivers them with Twilio's own client (`twilio.rest.Client`, REST base
overridable by TWILIO_API_BASE) and records the Twilio SID: see
backend/services/envio_notificaciones.py. This module has the texts, the
queue and the operator's queries.

Without Twilio credentials (e.g. under `make run`) the sender still schedules
the reminders and keeps every message in the outbox; it just delivers nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.contacto import LINEA_CITAS
from backend.models import Cita, Derechohabiente, Notificacion
from backend.models.cita import AGENDADA
from backend.models.notificacion import DESCARTADA, ENVIANDO, FALLIDA, INCIERTA, PENDIENTE
from backend.services.disponibilidad import (
    fecha_larga,
    horas_cancelacion,
    local,
    plazo_cancelacion,
    utc,
)

log = logging.getLogger("backend.notificaciones")

SMS = "SMS"
WHATSAPP = "WHATSAPP"
CANALES = (SMS, WHATSAPP)

CITA_AGENDADA = "CITA_AGENDADA"
CITA_CANCELADA = "CITA_CANCELADA"
RECORDATORIO_CITA = "RECORDATORIO_CITA"
HOJA_CITA = "HOJA_CITA"

ANTICIPACION_RECORDATORIO = timedelta(hours=48)


def _hora(dt: datetime) -> str:
    return f"{local(dt):%H:%M}"


def _cuerpo(tipo: str, cita: Cita) -> str:
    cuando = f"el {fecha_larga(cita.inicio)} a las {_hora(cita.inicio)} horas"
    if tipo == CITA_AGENDADA:
        return (
            f"ISSSTE CAPP: su cita quedó agendada. Clave de cita: {cita.clave}. "
            f"Le esperamos {cuando} en {cita.oficina.nombre}, {cita.oficina.direccion}. "
            "Lleve original y copia de sus requisitos. Si no puede asistir, cancele con al "
            f"menos {horas_cancelacion()} horas de anticipación en la {LINEA_CITAS}."
        )
    if tipo == CITA_CANCELADA:
        return (
            f"ISSSTE CAPP: su cita {cita.clave} de {cuando} quedó cancelada. "
            "Cuando lo desee puede agendar una nueva."
        )
    if tipo == RECORDATORIO_CITA:
        limite = cita.inicio - plazo_cancelacion()
        return (
            f"ISSSTE CAPP: le recordamos su cita {cita.clave} {cuando} en {cita.oficina.nombre}. "
            "Lleve original y copia de sus requisitos. Si no puede asistir, cancélela antes del "
            f"{fecha_larga(limite)} a las {_hora(limite)} horas en la {LINEA_CITAS}."
        )
    if tipo == HOJA_CITA:
        return (
            f"ISSSTE CAPP: le enviamos su hoja de asignación de clave de cita {cita.clave}, "
            f"{cuando}."
        )
    raise ValueError(f"tipo de notificación desconocido: {tipo}")


def encolar_cita(
    session: Session,
    *,
    cita: Cita,
    tipo: str,
    ahora: datetime,
    canal: str | None = None,
    clave_unica: str | None = None,
    proximo_intento: datetime | None = None,
) -> Notificacion | None:
    """Add a message about `cita` to the outbox (inside the caller's transaction).

    Returns None when the person has no phone or the message was already queued."""
    dh: Derechohabiente = cita.derechohabiente
    if not dh.telefono:
        log.info("cita %s: sin teléfono, no se notifica %s", cita.clave, tipo)
        return None
    canal = canal or cita.canal_notificacion or WHATSAPP
    clave_unica = clave_unica or f"{tipo}:{cita.id}"
    adjunto = tipo in (HOJA_CITA,) or (tipo == CITA_AGENDADA and canal == WHATSAPP)
    notif = Notificacion(
        clave_unica=clave_unica,
        tipo=tipo,
        canal=canal,
        destino=dh.telefono,
        cuerpo=_cuerpo(tipo, cita),
        derechohabiente_id=dh.id,
        cita_id=cita.id,
        adjunto_tipo="hoja_cita" if adjunto else None,
        adjunto_id=cita.clave if adjunto else None,
        estado=PENDIENTE,
        intentos=0,
        proximo_intento=proximo_intento or ahora,
        creado_en=ahora,
    )
    try:
        with session.begin_nested():
            session.add(notif)
            session.flush()
    except IntegrityError:
        return None  # already queued: enqueueing is idempotent
    return notif


def descartar_pendientes(session: Session, *, cita_id: int, tipos: tuple[str, ...]) -> None:
    """Drop queued, unsent messages of a cita (e.g. its reminder once cancelled)."""
    session.execute(
        update(Notificacion)
        .where(Notificacion.cita_id == cita_id, Notificacion.tipo.in_(tipos),
               Notificacion.estado == PENDIENTE)
        .values(estado=DESCARTADA)
    )


def programar_recordatorios(session: Session, *, ahora: datetime) -> int:
    """Queue a reminder for every AGENDADA cita starting within the next 48 h.

    Citas booked less than 48 h ahead already got their booking notice and are skipped."""
    candidatas = session.scalars(
        select(Cita).where(
            Cita.estatus == AGENDADA,
            Cita.inicio > utc(ahora),
            Cita.inicio <= utc(ahora) + ANTICIPACION_RECORDATORIO,
        )
    ).all()
    nuevas = 0
    for cita in candidatas:
        if utc(cita.creado_en) >= utc(cita.inicio) - ANTICIPACION_RECORDATORIO:
            continue
        if encolar_cita(session, cita=cita, tipo=RECORDATORIO_CITA, ahora=ahora) is not None:
            nuevas += 1
    session.commit()
    return nuevas


def pendientes(session: Session) -> int:
    return int(session.scalar(
        select(func.count()).select_from(Notificacion)
        .where(Notificacion.estado.in_((PENDIENTE, ENVIANDO)))
    ) or 0)


def inciertas(session: Session) -> list[Notificacion]:
    """Rows an operator must check in the Twilio console (oldest first)."""
    return list(
        session.scalars(
            select(Notificacion)
            .where(Notificacion.estado == INCIERTA)
            .order_by(Notificacion.creado_en, Notificacion.id)
        )
    )


def reencolar(session: Session, *, notificacion_id: int, ahora: datetime) -> bool:
    """Operator action: send an INCIERTA or FALLIDA row again (after checking Twilio)."""
    resultado = session.execute(
        update(Notificacion)
        .where(Notificacion.id == notificacion_id, Notificacion.estado.in_((INCIERTA, FALLIDA)))
        .values(estado=PENDIENTE, reclamo=None, reclamada_hasta=None, proximo_intento=utc(ahora))
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return resultado.rowcount == 1  # type: ignore[attr-defined]
