"""Counters and records of the request hardening: NIP lockouts (known and unknown
CURPs alike), failed attempts per source for throttling, idempotency keys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import Base, utcnow


class IntentoIdentidad(Base):
    """Failed NIP checks per CURP, for every well-formed CURP whether or not
    someone has it, so a wrong NIP and an unknown CURP count and lock alike.
    `bloqueos` counts the lockouts so far: each one lasts twice the previous."""

    __tablename__ = "intento_identidad"

    curp: Mapped[str] = mapped_column(String(18), primary_key=True)
    intentos_fallidos: Mapped[int] = mapped_column(default=0)
    bloqueado_hasta: Mapped[datetime | None]
    bloqueos: Mapped[int] = mapped_column(default=0)
    actualizado_en: Mapped[datetime] = mapped_column(default=utcnow)


class IntentoFallido(Base):
    """One failed attempt (NIP check or cancellation by birth date) from one
    source; counted per source and globally over a sliding window."""

    __tablename__ = "intento_fallido"
    __table_args__ = (
        Index("ix_intento_fallido_origen", "ambito", "origen", "creado_en"),
        Index("ix_intento_fallido_creado", "ambito", "creado_en"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ambito: Mapped[str] = mapped_column(String(20))  # "identidad" | "cancelacion"
    origen: Mapped[str] = mapped_column(String(64))
    creado_en: Mapped[datetime] = mapped_column(default=utcnow)


class ClaveIdempotencia(Base):
    """An Idempotency-Key of a booking or cancellation and the answer it got
    (status None while the first request is still running)."""

    __tablename__ = "clave_idempotencia"

    clave: Mapped[str] = mapped_column(String(128), primary_key=True)
    huella: Mapped[str] = mapped_column(String(64))  # operation + subject + body, hashed
    status: Mapped[int | None]
    cuerpo: Mapped[str | None] = mapped_column(Text)
    creado_en: Mapped[datetime] = mapped_column(default=utcnow)
    expira_en: Mapped[datetime] = mapped_column(index=True)
