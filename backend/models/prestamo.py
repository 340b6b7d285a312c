from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.models.base import Base, utcnow
from backend.models.derechohabiente import Derechohabiente


class Prestamo(Base):
    """A personal loan. Its saldo is never stored: it is computed from the
    schedule (monto, tasa, plazo, fecha_primer_descuento) and the movimientos."""

    __tablename__ = "prestamo"
    __table_args__ = (Index("ix_prestamo_dh_estatus", "derechohabiente_id", "estatus"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    folio: Mapped[str] = mapped_column(String(20), unique=True)
    derechohabiente_id: Mapped[int] = mapped_column(ForeignKey("derechohabiente.id"))
    producto: Mapped[str] = mapped_column(String(40))  # catalogue key, e.g. credito_complementario
    monto: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    plazo_quincenas: Mapped[int]
    tasa_anual: Mapped[Decimal] = mapped_column(Numeric(6, 4))  # 0.1600, before IVA
    descuento_quincenal: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    fecha_otorgamiento: Mapped[date]
    fecha_primer_descuento: Mapped[date]  # a quincena date: the 15th or the month's last day
    estatus: Mapped[str] = mapped_column(String(12))  # VIGENTE | LIQUIDADO
    fecha_liquidacion: Mapped[date | None]
    creado_en: Mapped[datetime] = mapped_column(default=utcnow)

    derechohabiente: Mapped[Derechohabiente] = relationship()
    movimientos: Mapped[list[Movimiento]] = relationship(
        back_populates="prestamo", order_by="Movimiento.fecha"
    )


class Movimiento(Base):
    """A payment applied to a loan: a payroll discount, a FOPI payment at a bank,
    or a regularisation payment; or SALDO_A_FAVOR, the part of a bank payment that
    exceeded the saldo on its date (it does not amortise; see services/prestamos.py).
    `referencia` makes bank notifications idempotent."""

    __tablename__ = "movimiento"
    __table_args__ = (
        UniqueConstraint("origen", "referencia", name="uq_movimiento_origen_referencia"),
        Index("ix_movimiento_prestamo_fecha", "prestamo_id", "fecha"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    prestamo_id: Mapped[int] = mapped_column(ForeignKey("prestamo.id"))
    quincena: Mapped[int | None]  # 1..plazo for payroll discounts; None for extra payments
    fecha: Mapped[date]
    monto: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    origen: Mapped[str] = mapped_column(
        String(16)
    )  # NOMINA | FOPI | REGULARIZACION | SALDO_A_FAVOR
    referencia: Mapped[str | None] = mapped_column(String(40))
    creado_en: Mapped[datetime] = mapped_column(default=utcnow)

    prestamo: Mapped[Prestamo] = relationship(back_populates="movimientos")
