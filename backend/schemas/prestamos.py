"""Loan response bodies. Money is a JSON number rounded to cents."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from backend.schemas.identidad import Dinero


class Saldo(BaseModel):
    saldo_deudor_total: Dinero = Field(
        description="Adeudo total calculado hoy con los pagos aplicados"
    )
    saldo_a_favor: Dinero = Field(
        description="Pagos recibidos por encima del adeudo (p. ej. una liquidación pagada antes "
        "de su fecha límite); el CAPP los devuelve"
    )
    al: date
    prestamo_folio: str
    estatus: str = Field(
        description="VIGENTE, o LIQUIDADO cuando el préstamo ya se pagó y quedó saldo a favor"
    )
    producto: str
    descuento_quincenal: Dinero
    quincenas_pagadas: int
    quincenas_restantes: int
    quincenas_sin_descuento: int = Field(
        description="Quincenas ya vencidas en las que no se aplicó el descuento (posible "
        "regularización)"
    )
    total_pagado: Dinero
    fecha_ultimo_pago: date | None
    proximo_descuento: date | None


class CondicionesPrestamo(BaseModel):
    folio: str
    producto: str
    estatus: str
    monto: Dinero
    plazo_quincenas: int
    tasa_anual: float = Field(description="Tasa anual sin IVA, p. ej. 0.16")
    tasa_anual_porcentaje: float = Field(description="La misma tasa en porcentaje, p. ej. 16.0")
    iva_sobre_intereses: bool = True
    descuento_quincenal: Dinero
    fecha_otorgamiento: date
    fecha_primer_descuento: date
    fecha_termino: date
    quincenas_pagadas: int
    quincenas_restantes: int
    saldo_deudor_total: Dinero
    al: date


class PrestamoHistorico(BaseModel):
    folio: str
    producto: str
    estatus: str
    monto: Dinero
    plazo_quincenas: int
    tasa_anual: float
    descuento_quincenal: Dinero
    fecha_otorgamiento: date
    fecha_termino: date
    fecha_liquidacion: date | None


class EnlaceEstadoCuenta(BaseModel):
    url: str = Field(description="Enlace público firmado al PDF; no requiere credenciales")
    expira_en: datetime
