from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.models.base import Base, utcnow
from backend.models.prestamo import Prestamo


class Fopi(Base):
    """A Formato de Pago de Individuales: a bank payment form for one loan.

    `concepto` is PARCIAL, LIQUIDACION or REGULARIZACION; `estatus` moves
    EMITIDO -> PAGADO (bank notification) or EMITIDO -> VENCIDO (past its
    vigencia). For a regularisation, `quincenas` lists the missed quincenas it
    covers (numero, fecha, descuento, dias) and `monto` is their sum.
    `interes_moratorio` is no longer written (regularising avoids moratorium
    interest, seed 001); it stays for forms issued before that change.
    """

    __tablename__ = "fopi"
    __table_args__ = (Index("ix_fopi_prestamo_estatus", "prestamo_id", "estatus"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    referencia: Mapped[str] = mapped_column(String(20), unique=True)
    prestamo_id: Mapped[int] = mapped_column(ForeignKey("prestamo.id"))
    concepto: Mapped[str] = mapped_column(String(16))  # PARCIAL | LIQUIDACION | REGULARIZACION
    monto: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    interes_moratorio: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    quincenas: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    fecha_emision: Mapped[date]
    vigencia: Mapped[date]  # last day the bank may take the payment
    estatus: Mapped[str] = mapped_column(
        String(10), default="EMITIDO"
    )  # EMITIDO | PAGADO | VENCIDO
    fecha_pago: Mapped[date | None]
    banco: Mapped[str | None] = mapped_column(String(60))
    folio_banco: Mapped[str | None] = mapped_column(String(40))
    pagado_en: Mapped[datetime | None]
    creado_en: Mapped[datetime] = mapped_column(default=utcnow)
    actualizado_en: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    prestamo: Mapped[Prestamo] = relationship()
