"""SMS / WhatsApp notifications through a transactional outbox.

Business events (cita agendada, cancelada, hoja reenviada) write a
`Notificacion` row in the same transaction; reminders 48 h before a cita are
enqueued by the sender. The sender (`python -m backend.notificaciones`) claims
rows atomically, delivers them with Twilio's own client (`twilio.rest.Client`,
REST base overridable by TWILIO_API_BASE), records the Twilio SID, and retries
transient failures with exponential backoff. A row is never sent twice: a send
interrupted mid-flight (lease expired while ENVIANDO) is marked FALLIDA for a
human to check instead of being re-sent blind.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import requests
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from backend.models import Cita, Derechohabiente, Notificacion
from backend.models.cita import AGENDADA
from backend.models.notificacion import DESCARTADA, ENVIADA, ENVIANDO, FALLIDA, PENDIENTE
from backend.services import enlaces
from backend.services.disponibilidad import fecha_larga, local, utc
from backend.settings import BackendSettings

log = logging.getLogger("backend.notificaciones")

SMS = "SMS"
WHATSAPP = "WHATSAPP"
CANALES = (SMS, WHATSAPP)

CITA_AGENDADA = "CITA_AGENDADA"
CITA_CANCELADA = "CITA_CANCELADA"
RECORDATORIO_CITA = "RECORDATORIO_CITA"
HOJA_CITA = "HOJA_CITA"

ANTICIPACION_RECORDATORIO = timedelta(hours=48)
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_MAXIMO = timedelta(hours=1)
MAX_INTENTOS = 6
LEASE = timedelta(minutes=2)
TTL_ADJUNTO = timedelta(hours=24)
LINEA = "Línea ASISSSTE 55 4000 1000, opción 5"


def _hora(dt: datetime) -> str:
    return f"{local(dt):%H:%M}"


def _cuerpo(tipo: str, cita: Cita) -> str:
    cuando = f"el {fecha_larga(cita.inicio)} a las {_hora(cita.inicio)} horas"
    if tipo == CITA_AGENDADA:
        return (
            f"ISSSTE CAPP: su cita quedó agendada. Clave de cita: {cita.clave}. "
            f"Le esperamos {cuando} en {cita.oficina.nombre}, {cita.oficina.direccion}. "
            "Lleve original y copia de sus requisitos. Si no puede asistir, cancele con al "
            f"menos 36 horas de anticipación en la {LINEA}."
        )
    if tipo == CITA_CANCELADA:
        return (
            f"ISSSTE CAPP: su cita {cita.clave} de {cuando} quedó cancelada. "
            "Cuando lo desee puede agendar una nueva."
        )
    if tipo == RECORDATORIO_CITA:
        limite = cita.inicio - timedelta(hours=36)
        return (
            f"ISSSTE CAPP: le recordamos su cita {cita.clave} {cuando} en {cita.oficina.nombre}. "
            "Lleve original y copia de sus requisitos. Si no puede asistir, cancélela antes del "
            f"{fecha_larga(limite)} a las {_hora(limite)} horas en la {LINEA}."
        )
    if tipo == HOJA_CITA:
        return f"ISSSTE CAPP: le enviamos su hoja de asignación de clave de cita {cita.clave}, {cuando}."
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


def cliente_twilio(settings: BackendSettings) -> Client:
    """Twilio's REST client; `twilio_api_base` replaces https://api.twilio.com."""
    if not settings.twilio_account_sid or not settings.twilio_auth_token:
        raise RuntimeError("Faltan TWILIO_ACCOUNT_SID y TWILIO_AUTH_TOKEN para enviar notificaciones.")
    client = Client(settings.twilio_account_sid, settings.twilio_auth_token,
                    http_client=TwilioHttpClient(timeout=15))
    client.api.base_url = settings.twilio_api_base.rstrip("/")
    return client


def backoff(intentos: int) -> timedelta:
    """30 s, 1 min, 2 min, 4 min ... capped at 1 h."""
    return min(BACKOFF_BASE * (2 ** max(intentos - 1, 0)), BACKOFF_MAXIMO)


@dataclass
class Resumen:
    enviadas: int = 0
    reintentos: int = 0
    fallidas: int = 0
    descartadas: int = 0
    recordatorios: int = 0


def _abandonar_interrumpidas(session: Session, *, ahora: datetime) -> int:
    """ENVIANDO rows whose lease expired: the worker died mid-send and Twilio may
    have accepted the message. Re-sending could duplicate it, so stop here."""
    resultado = session.execute(
        update(Notificacion)
        .where(Notificacion.estado == ENVIANDO, Notificacion.reclamada_hasta < utc(ahora))
        .values(estado=FALLIDA, reclamada_hasta=None,
                ultimo_error="Envío interrumpido; no se reintenta para no duplicar el mensaje.")
    )
    session.commit()
    return int(resultado.rowcount or 0)  # type: ignore[attr-defined]


def reclamar(session: Session, *, ahora: datetime, lote: int = 50) -> list[int]:
    """Claim due rows atomically: a conditional UPDATE per row, so two senders
    never get the same one (the loser's UPDATE matches no row)."""
    ids = session.scalars(
        select(Notificacion.id)
        .where(Notificacion.estado == PENDIENTE, Notificacion.proximo_intento <= utc(ahora))
        .order_by(Notificacion.proximo_intento, Notificacion.id)
        .limit(lote)
    ).all()
    session.rollback()
    reclamadas = []
    for notif_id in ids:
        resultado = session.execute(
            update(Notificacion)
            .where(Notificacion.id == notif_id, Notificacion.estado == PENDIENTE,
                   Notificacion.proximo_intento <= utc(ahora))
            .values(estado=ENVIANDO, reclamada_hasta=utc(ahora) + LEASE,
                    intentos=Notificacion.intentos + 1)
        )
        session.commit()
        if resultado.rowcount == 1:  # type: ignore[attr-defined]
            reclamadas.append(notif_id)
    return reclamadas


def _destinos(settings: BackendSettings, notif: Notificacion) -> tuple[str, str]:
    if notif.canal == WHATSAPP:
        remitente = settings.twilio_from_whatsapp
        if not remitente.startswith("whatsapp:"):
            remitente = f"whatsapp:{remitente}"
        return f"whatsapp:{notif.destino}", remitente
    return notif.destino, settings.twilio_from_sms


def _enviar(session: Session, settings: BackendSettings, client: Client, notif: Notificacion,
            *, ahora: datetime, resumen: Resumen) -> None:
    if notif.cita_id is not None and notif.tipo == RECORDATORIO_CITA:
        cita = session.get(Cita, notif.cita_id)
        if cita is None or cita.estatus != AGENDADA:
            notif.estado, notif.reclamada_hasta = DESCARTADA, None
            session.commit()
            resumen.descartadas += 1
            return
    para, de = _destinos(settings, notif)
    cuerpo = notif.cuerpo
    kwargs: dict[str, object] = {}
    if notif.adjunto_tipo and notif.adjunto_id:
        url, _ = enlaces.url_firmada(settings, kind=notif.adjunto_tipo, id_=notif.adjunto_id,
                                     ttl=TTL_ADJUNTO, ahora=ahora)
        if notif.canal == WHATSAPP:
            kwargs["media_url"] = [url]
        else:
            cuerpo = f"{cuerpo} Descárguela aquí (vigente 24 horas): {url}"
    try:
        mensaje = client.messages.create(to=para, from_=de, body=cuerpo, **kwargs)
    except TwilioRestException as exc:
        transitorio = exc.status >= 500 or exc.status == 429
        _fallo(session, notif, ahora=ahora, resumen=resumen, transitorio=transitorio,
               error=f"Twilio {exc.status} {exc.code or ''}: {exc.msg}"[:300])
        return
    except (requests.RequestException, TwilioException) as exc:
        _fallo(session, notif, ahora=ahora, resumen=resumen, transitorio=True,
               error=f"{type(exc).__name__}: {exc}"[:300])
        return
    notif.estado = ENVIADA
    notif.twilio_sid = mensaje.sid
    notif.enviada_en = ahora
    notif.reclamada_hasta = None
    notif.ultimo_error = None
    session.commit()
    resumen.enviadas += 1
    log.info("notificación %s enviada por %s (sid %s)", notif.id, notif.canal, mensaje.sid)


def _sin_telefonos(texto: str) -> str:
    """Twilio's error texts may quote the phone number; keep it out of logs and the DB."""
    return re.sub(r"\+?\d{8,15}", lambda m: m.group(0)[:3] + "*****" + m.group(0)[-2:], texto)


def _fallo(session: Session, notif: Notificacion, *, ahora: datetime, resumen: Resumen,
           transitorio: bool, error: str) -> None:
    error = _sin_telefonos(error)
    notif.ultimo_error = error
    notif.reclamada_hasta = None
    if transitorio and notif.intentos < MAX_INTENTOS:
        notif.estado = PENDIENTE
        notif.proximo_intento = utc(ahora) + backoff(notif.intentos)
        resumen.reintentos += 1
    else:
        notif.estado = FALLIDA
        resumen.fallidas += 1
    session.commit()
    log.warning("notificación %s no enviada (intento %s): %s", notif.id, notif.intentos, error)


def enviar_pendientes(
    session_factory: sessionmaker[Session],
    settings: BackendSettings,
    *,
    ahora: datetime,
    client: Client | None = None,
    lote: int = 50,
) -> Resumen:
    """One pass of the sender: queue due reminders, then deliver due messages."""
    client = client or cliente_twilio(settings)
    resumen = Resumen()
    with session_factory() as session:
        resumen.recordatorios = programar_recordatorios(session, ahora=ahora)
        resumen.fallidas += _abandonar_interrumpidas(session, ahora=ahora)
        for notif_id in reclamar(session, ahora=ahora, lote=lote):
            notif = session.get(Notificacion, notif_id)
            if notif is None:  # pragma: no cover - deleted between claim and send
                continue
            _enviar(session, settings, client, notif, ahora=ahora, resumen=resumen)
    return resumen


def pendientes(session: Session) -> int:
    return len(session.scalars(
        select(Notificacion.id).where(or_(Notificacion.estado == PENDIENTE, Notificacion.estado == ENVIANDO))
    ).all())
