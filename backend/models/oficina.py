from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import Base, utcnow


class Oficina(Base):
    """An ISSSTE Oficina de Representación where the loan documents are validated.

    `ventanillas` is the capacity: how many citas fit in one 15-minute slot."""

    __tablename__ = "oficina"

    id: Mapped[int] = mapped_column(primary_key=True)
    clave: Mapped[str] = mapped_column(String(20), unique=True)  # stable seed key, e.g. "JAL-GDL"
    nombre: Mapped[str] = mapped_column(String(160))
    estado: Mapped[str] = mapped_column(String(60))
    ciudad: Mapped[str] = mapped_column(String(80))
    direccion: Mapped[str] = mapped_column(String(300))
    telefono: Mapped[str | None] = mapped_column(String(40))
    horario: Mapped[str] = mapped_column(String(120))
    ventanillas: Mapped[int]
    activa: Mapped[bool] = mapped_column(default=True)
    creado_en: Mapped[datetime] = mapped_column(default=utcnow)
