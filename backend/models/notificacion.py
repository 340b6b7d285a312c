from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import Base, utcnow

PENDIENTE = "PENDIENTE"
ENVIANDO = "ENVIANDO"
ENVIADA = "ENVIADA"
FALLIDA = "FALLIDA"
DESCARTADA = "DESCARTADA"
# Twilio may or may not have taken the message (the request went out and no answer
# came back, or the sender died mid-send). Never resent automatically: an operator
# checks the Twilio console and requeues it (`python -m backend.notificaciones --reencolar ID`).
INCIERTA = "INCIERTA"


class Notificacion(Base):
    """Transactional outbox: a message to deliver by SMS or WhatsApp.

    Rows are written in the same transaction as the business event; the sender
    worker claims them one at a time right before sending (estado PENDIENTE ->
    ENVIANDO with a lease and a fresh `reclamo` token), and only the holder of
    that token may record the outcome. Twilio's SID is stored; a row is never
    sent twice. `clave_unica` makes enqueueing idempotent (one reminder per cita,
    one booking notice per cita)."""

    __tablename__ = "notificacion"
    __table_args__ = (Index("ix_notificacion_estado_proximo", "estado", "proximo_intento"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clave_unica: Mapped[str] = mapped_column(String(80), unique=True)
    tipo: Mapped[str] = mapped_column(
        String(30)
    )  # CITA_AGENDADA | CITA_CANCELADA | RECORDATORIO_CITA | HOJA_CITA
    canal: Mapped[str] = mapped_column(String(10))  # SMS | WHATSAPP
    destino: Mapped[str] = mapped_column(String(20))  # E.164 phone number
    cuerpo: Mapped[str] = mapped_column(Text)
    derechohabiente_id: Mapped[int | None] = mapped_column(ForeignKey("derechohabiente.id"))
    cita_id: Mapped[int | None] = mapped_column(ForeignKey("cita.id"))
    # A file sent as WhatsApp media: a fresh signed link is made at send time.
    adjunto_tipo: Mapped[str | None] = mapped_column(String(30))
    adjunto_id: Mapped[str | None] = mapped_column(String(40))
    estado: Mapped[str] = mapped_column(
        String(12), default=PENDIENTE
    )  # PENDIENTE ENVIANDO ENVIADA FALLIDA DESCARTADA INCIERTA
    intentos: Mapped[int] = mapped_column(default=0)
    proximo_intento: Mapped[datetime] = mapped_column(default=utcnow)
    reclamada_hasta: Mapped[datetime | None]
    reclamo: Mapped[str | None] = mapped_column(String(32))  # token of the current claim
    twilio_sid: Mapped[str | None] = mapped_column(String(40), unique=True)
    ultimo_error: Mapped[str | None] = mapped_column(String(300))
    creado_en: Mapped[datetime] = mapped_column(default=utcnow)
    enviada_en: Mapped[datetime | None]
