"""Delivering the outbox (backend/services/notificaciones.py) with Twilio.

Never twice:
- Rows are claimed ONE AT A TIME, right before sending, with a lease longer
  than one send can take (two Twilio timeouts plus a margin) and a fresh claim
  token; only the holder of that token may record the outcome.
- A failure is retried (exponential backoff) only when the message surely did
  not go out: the connection could not be opened (connect error or connect
  timeout), or Twilio answered 429 or 5xx. Other 4xx answers are FALLIDA.
- When the request went out and no usable answer came back (read timeout,
  connection dropped mid-answer, unreadable body), Twilio may have taken the
  message: the row becomes INCIERTA and is logged (phone masked); it is never
  resent automatically. The same happens to a row whose lease expired while
  ENVIANDO (the sender died mid-send). An operator checks the Twilio console
  and requeues it if it was not delivered (`--inciertas`, `--reencolar ID`).
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import requests
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NewConnectionError

from backend.models import Cita, Notificacion
from backend.models.cita import AGENDADA, ATENDIDA
from backend.models.notificacion import DESCARTADA, ENVIADA, ENVIANDO, FALLIDA, INCIERTA, PENDIENTE
from backend.services import enlaces
from backend.services.disponibilidad import (
    utc,
)
from backend.services.notificaciones import (
    CANALES,
    CITA_CANCELADA,
    HOJA_CITA,
    SMS,
    WHATSAPP,
    programar_recordatorios,
)
from backend.settings import BackendSettings

log = logging.getLogger("backend.notificaciones")

BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_MAXIMO = timedelta(hours=1)
MAX_INTENTOS = 6
LEASE = timedelta(minutes=2)  # at least; see _lease()
TTL_ADJUNTO = timedelta(hours=24)


def faltante_para_entregar(settings: BackendSettings) -> str | None:
    """Why delivery is off (Spanish, for the log), or None when Twilio is configured."""
    faltan = [n for n, v in (("TWILIO_ACCOUNT_SID", settings.twilio_account_sid),
                             ("TWILIO_AUTH_TOKEN", settings.twilio_auth_token)) if not v]
    if faltan:
        return "falta " + faltan[0] if len(faltan) == 1 else "faltan " + " y ".join(faltan)
    if not canales_configurados(settings):
        return "faltan TWILIO_FROM_SMS y TWILIO_FROM_WHATSAPP"
    return None


def canales_configurados(settings: BackendSettings) -> tuple[str, ...]:
    """Channels with a sender number; rows of other channels wait in the outbox."""
    return tuple(
        c
        for c, de in ((SMS, settings.twilio_from_sms), (WHATSAPP, settings.twilio_from_whatsapp))
        if de
    )


def cliente_twilio(settings: BackendSettings) -> Client:
    """Twilio's REST client; `twilio_api_base` replaces https://api.twilio.com."""
    if not settings.twilio_account_sid or not settings.twilio_auth_token:
        raise RuntimeError(
            "Faltan TWILIO_ACCOUNT_SID y TWILIO_AUTH_TOKEN para enviar notificaciones."
        )
    client = Client(settings.twilio_account_sid, settings.twilio_auth_token,
                    http_client=TwilioHttpClient(timeout=settings.twilio_timeout_segundos))
    client.api.base_url = settings.twilio_api_base.rstrip("/")
    return client


def backoff(intentos: int) -> timedelta:
    """30 s, 1 min, 2 min, 4 min ... capped at 1 h."""
    return min(BACKOFF_BASE * (2 ** max(intentos - 1, 0)), BACKOFF_MAXIMO)


def _lease(settings: BackendSettings) -> timedelta:
    """Longer than one send can take: connect timeout + read timeout + margin."""
    return max(LEASE, timedelta(seconds=2 * settings.twilio_timeout_segundos + 30))


@dataclass
class Resumen:
    enviadas: int = 0
    reintentos: int = 0
    fallidas: int = 0
    inciertas: int = 0
    descartadas: int = 0
    recordatorios: int = 0
    entrega_desactivada: bool = False

    def __str__(self) -> str:
        return (
            f"enviadas={self.enviadas} reintentos={self.reintentos} fallidas={self.fallidas} "
            f"inciertas={self.inciertas} descartadas={self.descartadas} "
            f"recordatorios={self.recordatorios}"
        )

    @property
    def hubo_actividad(self) -> bool:
        return any((self.enviadas, self.reintentos, self.fallidas, self.inciertas, self.descartadas,
                    self.recordatorios))


def _abandonar_interrumpidas(session: Session, *, ahora: datetime) -> int:
    """ENVIANDO rows whose lease expired: the sender died (or hung) mid-send and
    Twilio may have accepted the message. Re-sending could duplicate it: INCIERTA.
    The claim token is kept, so a sender that is merely slow can still record
    what really happened."""
    vencidas = session.scalars(
        select(Notificacion).where(
            Notificacion.estado == ENVIANDO, Notificacion.reclamada_hasta < utc(ahora)
        )
    ).all()
    resultado = session.execute(
        update(Notificacion)
        .where(Notificacion.estado == ENVIANDO, Notificacion.reclamada_hasta < utc(ahora))
        .values(
            estado=INCIERTA,
            ultimo_error="Envío interrumpido sin respuesta de Twilio; no se reintenta para no "
            "duplicar el mensaje.",
        )
        .execution_options(synchronize_session=False)
    )
    session.commit()
    for n in vencidas:
        log.warning(
            "notificación %s INCIERTA: envío interrumpido (%s a %s); revise en Twilio antes de "
            "reencolarla",
            n.id,
            n.canal,
            sin_telefonos(n.destino),
        )
    return int(resultado.rowcount or 0)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Reclamo:
    notificacion_id: int
    token: str


def reclamar_una(session: Session, *, ahora: datetime, lease: timedelta = LEASE,
                 canales: tuple[str, ...] = CANALES) -> Reclamo | None:
    """Claim the next due row with a conditional UPDATE (two senders never get the
    same one: the loser's UPDATE matches no row and it tries the next)."""
    while True:
        notif_id = session.scalar(
            select(Notificacion.id)
            .where(Notificacion.estado == PENDIENTE, Notificacion.proximo_intento <= utc(ahora),
                   Notificacion.canal.in_(canales))
            .order_by(Notificacion.proximo_intento, Notificacion.id)
            .limit(1)
        )
        session.rollback()
        if notif_id is None:
            return None
        token = secrets.token_hex(16)
        resultado = session.execute(
            update(Notificacion)
            .where(Notificacion.id == notif_id, Notificacion.estado == PENDIENTE,
                   Notificacion.proximo_intento <= utc(ahora))
            .values(estado=ENVIANDO, reclamada_hasta=utc(ahora) + lease, reclamo=token,
                    intentos=Notificacion.intentos + 1)
            .execution_options(synchronize_session=False)
        )
        session.commit()
        if resultado.rowcount == 1:  # type: ignore[attr-defined]
            return Reclamo(notif_id, token)


def registrar_resultado(session: Session, reclamo: Reclamo, **valores: object) -> bool:
    """Write the outcome of a send, only if `reclamo` is still the row's claim.

    INCIERTA is accepted too: the lease sweep may have flagged a slow send, but
    with the token unchanged nobody else has touched the row since."""
    resultado = session.execute(
        update(Notificacion)
        .where(Notificacion.id == reclamo.notificacion_id, Notificacion.reclamo == reclamo.token,
               Notificacion.estado.in_((ENVIANDO, INCIERTA)))
        .values(reclamada_hasta=None, **valores)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    if resultado.rowcount != 1:  # type: ignore[attr-defined]
        log.warning(
            "notificación %s: resultado no registrado, la fila ya no pertenece a este envío (%s)",
            reclamo.notificacion_id,
            valores.get("estado"),
        )
        return False
    return True


def _destinos(settings: BackendSettings, notif: Notificacion) -> tuple[str, str]:
    if notif.canal == WHATSAPP:
        remitente = settings.twilio_from_whatsapp
        if not remitente.startswith("whatsapp:"):
            remitente = f"whatsapp:{remitente}"
        return f"whatsapp:{notif.destino}", remitente
    return notif.destino, settings.twilio_from_sms


Desenlace = Literal["reintentable", "permanente", "incierto"]


def clasificar_error(exc: BaseException) -> Desenlace:
    """Did the message surely not go out (retry or give up), or may Twilio have it?

    Surely not sent: no connection was opened (connect error / connect timeout:
    nothing was written), or Twilio answered with an error status (429 and 5xx
    are worth retrying, other 4xx are not). Anything else happened after the
    request was written (read timeout, dropped connection, unreadable answer):
    outcome unknown."""
    if isinstance(exc, TwilioRestException | TwilioServiceException):
        status = int(getattr(exc, "status", 0) or 0)
        return "reintentable" if status == 429 or status >= 500 else "permanente"
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return "reintentable"
    if isinstance(exc, requests.exceptions.ConnectionError) and not isinstance(
        exc, requests.exceptions.SSLError
    ):
        causa = exc.args[0] if exc.args else None
        if isinstance(causa, MaxRetryError):
            causa = causa.reason
        if isinstance(causa, NewConnectionError | ConnectTimeoutError):
            return "reintentable"
    return "incierto"


def _sigue_vigente(session: Session, notif: Notificacion) -> bool:
    """A message about a cita that was cancelled meanwhile is not sent."""
    if notif.cita_id is None or notif.tipo == CITA_CANCELADA:
        return True
    cita = session.get(Cita, notif.cita_id)
    if cita is None:
        return False
    validos = (AGENDADA, ATENDIDA) if notif.tipo == HOJA_CITA else (AGENDADA,)
    return cita.estatus in validos


def _enviar(session: Session, settings: BackendSettings, client: Client, reclamo: Reclamo,
            *, reloj: Callable[[], datetime], resumen: Resumen) -> None:
    notif = session.get(Notificacion, reclamo.notificacion_id)
    if notif is None:  # pragma: no cover - deleted between claim and send
        return
    if not _sigue_vigente(session, notif):
        if registrar_resultado(session, reclamo, estado=DESCARTADA):
            resumen.descartadas += 1
        return
    para, de = _destinos(settings, notif)
    cuerpo = notif.cuerpo
    kwargs: dict[str, object] = {}
    if notif.adjunto_tipo and notif.adjunto_id:
        url, _ = enlaces.url_firmada(settings, kind=notif.adjunto_tipo, id_=notif.adjunto_id,
                                     ttl=TTL_ADJUNTO, ahora=reloj())
        if notif.canal == WHATSAPP:
            kwargs["media_url"] = [url]
        else:
            cuerpo = f"{cuerpo} Descárguela aquí (vigente 24 horas): {url}"
    intentos, canal, destino = notif.intentos, notif.canal, sin_telefonos(notif.destino)
    session.rollback()  # no transaction stays open while we wait for Twilio
    try:
        mensaje = client.messages.create(to=para, from_=de, body=cuerpo, **kwargs)
    except Exception as exc:  # noqa: BLE001 - every failure is classified; the sender never crashes
        desenlace = clasificar_error(exc)
        if isinstance(exc, TwilioRestException):
            error = f"Twilio {exc.status} {exc.code or ''}: {exc.msg}"
        else:
            error = f"{type(exc).__name__}: {exc}"
        _fallo(session, reclamo, intentos=intentos, canal=canal, destino=destino, ahora=reloj(),
               resumen=resumen, desenlace=desenlace, error=sin_telefonos(error)[:300])
        return
    if registrar_resultado(
        session,
        reclamo,
        estado=ENVIADA,
        twilio_sid=mensaje.sid,
        enviada_en=reloj(),
        ultimo_error=None,
    ):
        resumen.enviadas += 1
        log.info(
            "notificación %s enviada por %s (sid %s)", reclamo.notificacion_id, canal, mensaje.sid
        )
    else:
        log.warning("notificación %s: Twilio la aceptó (sid %s) pero otro proceso tomó la fila",
                    reclamo.notificacion_id, mensaje.sid)


def sin_telefonos(texto: str) -> str:
    """Twilio's error texts may quote the phone number; keep it out of logs and the DB."""
    return re.sub(r"\+?\d{8,15}", lambda m: m.group(0)[:3] + "*****" + m.group(0)[-2:], texto)


def _fallo(
    session: Session,
    reclamo: Reclamo,
    *,
    intentos: int,
    canal: str,
    destino: str,
    ahora: datetime,
    resumen: Resumen,
    desenlace: Desenlace,
    error: str,
) -> None:
    if desenlace == "incierto":
        if registrar_resultado(session, reclamo, estado=INCIERTA, ultimo_error=error):
            resumen.inciertas += 1
            log.warning(
                "notificación %s INCIERTA (%s a %s): Twilio pudo haberla recibido (%s); no se "
                "reenvía sola, revísela en Twilio",
                reclamo.notificacion_id,
                canal,
                destino,
                error,
            )
        return
    if desenlace == "reintentable" and intentos < MAX_INTENTOS:
        if registrar_resultado(session, reclamo, estado=PENDIENTE, ultimo_error=error,
                               proximo_intento=utc(ahora) + backoff(intentos)):
            resumen.reintentos += 1
    elif registrar_resultado(session, reclamo, estado=FALLIDA, ultimo_error=error):
        resumen.fallidas += 1
    log.warning(
        "notificación %s no enviada (intento %s): %s", reclamo.notificacion_id, intentos, error
    )


def enviar_pendientes(
    session_factory: sessionmaker[Session],
    settings: BackendSettings,
    *,
    ahora: datetime,
    client: Client | None = None,
    lote: int = 50,
    reloj: Callable[[], datetime] | None = None,
) -> Resumen:
    """One pass of the sender: queue due reminders, flag interrupted sends, then
    deliver up to `lote` due messages, claiming each right before sending it.

    `reloj` gives "now" for each claim (the worker passes the real clock; by
    default every step uses `ahora`). Without Twilio credentials and no `client`,
    nothing is delivered and the messages stay PENDIENTE."""
    reloj = reloj or (lambda: ahora)
    resumen = Resumen()
    with session_factory() as session:
        resumen.recordatorios = programar_recordatorios(session, ahora=reloj())
        resumen.inciertas += _abandonar_interrumpidas(session, ahora=reloj())
        if client is None:
            if faltante_para_entregar(settings) is not None:
                resumen.entrega_desactivada = True
                return resumen
            client = cliente_twilio(settings)
        canales = canales_configurados(settings) or CANALES
        for _ in range(lote):
            reclamo = reclamar_una(session, ahora=reloj(), lease=_lease(settings), canales=canales)
            if reclamo is None:
                break
            _enviar(session, settings, client, reclamo, reloj=reloj, resumen=resumen)
    return resumen
