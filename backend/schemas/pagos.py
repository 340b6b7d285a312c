"""Schemas of the FOPI and bank-notification endpoints."""

from __future__ import annotations

import unicodedata
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from backend.schemas.identidad import Dinero


def _sin_acentos(texto: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", texto) if not unicodedata.combining(c))


# Numeric(12, 2) columns: ten digits of pesos.
MONTO_MAXIMO = Decimal("10000000000")


def _monto_valido(valor: Decimal | None) -> Decimal | None:
    if valor is None:
        return None
    if not valor.is_finite() or valor <= 0:
        raise ValueError("El monto debe ser mayor que cero.")
    if valor >= MONTO_MAXIMO:
        raise ValueError("El monto es demasiado grande.")
    if valor != valor.quantize(Decimal("0.01")):
        raise ValueError("El monto solo admite pesos y centavos (dos decimales).")
    return valor


class FopiSolicitud(BaseModel):
    tipo: Literal["parcial", "liquidacion"] = Field(
        description="parcial (con monto) o liquidacion (el saldo a la fecha límite de pago)"
    )
    monto: Decimal | None = Field(
        default=None, description="Importe del pago parcial, en pesos", examples=[1500.00]
    )
    folio_prestamo: str | None = Field(
        default=None,
        description="Folio del préstamo; si se omite, el préstamo vigente más reciente",
    )

    @field_validator("tipo", mode="before")
    @classmethod
    def _tipo(cls, valor: Any) -> Any:
        texto = _sin_acentos(str(valor)).strip().lower()
        if texto not in ("parcial", "liquidacion"):
            raise ValueError("El tipo de pago debe ser «parcial» o «liquidacion».")
        return texto

    @field_validator("monto")
    @classmethod
    def _monto(cls, valor: Decimal | None) -> Decimal | None:
        return _monto_valido(valor)


class QuincenaRegularizada(BaseModel):
    numero: int = Field(description="Número de quincena del plan de pagos (1..plazo)")
    fecha: date
    descuento: Dinero
    dias_atraso: int


class FopiRespuesta(BaseModel):
    referencia: str = Field(description="20 dígitos; ver backend/services/referencias.py")
    referencia_formateada: str
    concepto: Literal["PARCIAL", "LIQUIDACION", "REGULARIZACION"]
    descripcion: str
    monto: Dinero
    fecha_emision: date
    vigencia: date = Field(
        description="Fecha límite de pago (5 días hábiles después de la emisión)"
    )
    estatus: Literal["EMITIDO", "PAGADO", "VENCIDO"]
    bancos: list[str]
    folio_prestamo: str
    pdf_url: str = Field(description="Ruta del PDF (requiere el mismo token)")
    pdf_enlace: str | None = Field(
        default=None, description="Enlace firmado y temporal al PDF, sin token"
    )
    adeudo: Dinero | None = Field(
        default=None, description="Regularización: suma de los descuentos omitidos"
    )
    quincenas: list[QuincenaRegularizada] | None = None
    fecha_pago: date | None = None


class NotificacionBancaria(BaseModel):
    referencia: str = Field(min_length=1, max_length=40, examples=["20000000126112700145"])
    monto: Decimal = Field(examples=[1500.00])
    fecha_pago: date
    banco: str = Field(min_length=1, max_length=60, examples=["BBVA"])
    folio_banco: str = Field(
        min_length=1, max_length=40, description="Folio de la operación en el banco"
    )

    @field_validator("monto")
    @classmethod
    def _monto(cls, valor: Decimal) -> Decimal:
        return _monto_valido(valor) or valor


class NotificacionRespuesta(BaseModel):
    referencia: str
    concepto: str
    estatus: str
    aplicado: bool = Field(
        description="false si esta notificación ya se había aplicado antes (no se duplica)"
    )
    fecha_pago: date
    movimientos: int = Field(description="Movimientos registrados en el préstamo por este pago")
    prestamo_liquidado: bool
    aplicado_al_prestamo: Dinero = Field(description="Parte del pago que amortizó el préstamo")
    saldo_a_favor: Dinero = Field(
        description="Parte del pago que excedió el saldo a la fecha de pago; queda a favor del "
        "derechohabiente"
    )
    mensaje: str
