from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import Base, utcnow


class Derechohabiente(Base):
    """A worker (asegurado) or pensioner (pensionado) with the right to a loan."""

    __tablename__ = "derechohabiente"

    id: Mapped[int] = mapped_column(primary_key=True)
    curp: Mapped[str] = mapped_column(String(18), unique=True, index=True)
    nombre: Mapped[str] = mapped_column(String(80))
    primer_apellido: Mapped[str] = mapped_column(String(80))
    segundo_apellido: Mapped[str | None] = mapped_column(String(80))
    sexo: Mapped[str] = mapped_column(String(1))  # "H" or "M", as in the CURP
    fecha_nacimiento: Mapped[date]
    tipo: Mapped[str] = mapped_column(String(12))  # "asegurado" | "pensionado"
    dependencia: Mapped[str | None] = mapped_column(String(120))
    sueldo_base_mensual: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    anios_cotizacion: Mapped[int]
    telefono: Mapped[str | None] = mapped_column(String(20))  # E.164, e.g. +5215512345678
    email: Mapped[str | None] = mapped_column(String(120))
    # hmac-sha256$<key id>$<hex> (backend/services/nip_hash.py), or argon2 until the next login.
    nip_hash: Mapped[str] = mapped_column(String(200))
    creado_en: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def nombre_completo(self) -> str:
        return " ".join(p for p in (self.nombre, self.primer_apellido, self.segundo_apellido) if p)
