from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.models.base import Base, utcnow
from backend.models.derechohabiente import Derechohabiente
from backend.models.oficina import Oficina

AGENDADA = "AGENDADA"
CANCELADA = "CANCELADA"
ATENDIDA = "ATENDIDA"
# Internal state of a cita whose time passed unattended (set when the person books
# again, so the "one AGENDADA cita" index lets them). It is NOT a bitácora event:
# the bitácora keeps the vocabulary of seed 003 (AGENDADA / CANCELADA / ATENDIDA),
# where such a cita simply stays as its AGENDADA row with expediente "NO".
VENCIDA = "VENCIDA"


class Cita(Base):
    """An appointment in one 15-minute slot of one office.

    Capacity is enforced by the database: `lugar` (1..ventanillas) is unique per
    office and slot and becomes NULL when the cita is cancelled, so two people
    racing for the last place cannot both get it. The partial unique index keeps
    one AGENDADA cita per derechohabiente, also under races."""

    __tablename__ = "cita"
    __table_args__ = (
        UniqueConstraint("oficina_id", "inicio", "lugar", name="uq_cita_oficina_inicio_lugar"),
        Index(
            "uq_cita_agendada_por_derechohabiente",
            "derechohabiente_id",
            unique=True,
            sqlite_where=text("estatus = 'AGENDADA'"),
            postgresql_where=text("estatus = 'AGENDADA'"),
        ),
        Index("ix_cita_derechohabiente", "derechohabiente_id"),
        Index("ix_cita_estatus_inicio", "estatus", "inicio"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    clave: Mapped[str] = mapped_column(String(6), unique=True)
    derechohabiente_id: Mapped[int] = mapped_column(ForeignKey("derechohabiente.id"))
    oficina_id: Mapped[int] = mapped_column(ForeignKey("oficina.id"))
    inicio: Mapped[datetime]  # UTC
    fin: Mapped[datetime]  # UTC
    lugar: Mapped[int | None]
    estatus: Mapped[str] = mapped_column(String(10), default=AGENDADA)
    canal_notificacion: Mapped[str] = mapped_column(String(10), default="WHATSAPP")
    creado_en: Mapped[datetime] = mapped_column(default=utcnow)
    cancelada_en: Mapped[datetime | None]

    derechohabiente: Mapped[Derechohabiente] = relationship()
    oficina: Mapped[Oficina] = relationship()
    eventos: Mapped[list[EventoCita]] = relationship(
        back_populates="cita", order_by="EventoCita.registrado_en"
    )


class EventoCita(Base):
    """One row of the bitácora: every scheduling, cancellation or attendance."""

    __tablename__ = "cita_evento"
    __table_args__ = (Index("ix_cita_evento_cita", "cita_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cita_id: Mapped[int] = mapped_column(ForeignKey("cita.id"))
    estatus: Mapped[str] = mapped_column(String(10))
    registrado_en: Mapped[datetime] = mapped_column(default=utcnow)
    origen: Mapped[str | None] = mapped_column(String(20))  # web, telefono, whatsapp, capp (staff)

    cita: Mapped[Cita] = relationship(back_populates="eventos")


class IntentoCancelacion(Base):
    """Failed cancellations by clave + fecha de nacimiento (the phone path, no token).

    Keyed by the clave as typed (normalised), whether or not a cita has it, so an
    unknown clave and a wrong birth date count and lock alike and the lock itself
    reveals nothing. Same rule as the NIP: after `cancelacion_max_intentos`
    failures the clave is locked for `cancelacion_bloqueo_minutos`."""

    __tablename__ = "cita_intento_cancelacion"

    clave: Mapped[str] = mapped_column(String(6), primary_key=True)
    intentos_fallidos: Mapped[int] = mapped_column(default=0)
    bloqueado_hasta: Mapped[datetime | None]
    actualizado_en: Mapped[datetime] = mapped_column(default=utcnow)
