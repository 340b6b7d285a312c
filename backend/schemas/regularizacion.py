"""Schemas of the regularisation endpoints."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from backend.schemas.identidad import Dinero
from backend.schemas.pagos import QuincenaRegularizada


class RegularizacionRespuesta(BaseModel):
    pendiente: bool = Field(description="true si la dependencia dejó de descontar alguna quincena")
    folio_prestamo: str
    quincenas: list[QuincenaRegularizada]
    adeudo: Dinero = Field(description="Suma de los descuentos no aplicados")
    total: Dinero = Field(
        description="Lo que se paga para regularizarse: los descuentos no aplicados, sin interés "
        "moratorio (regularizar evita intereses moratorios, seed 001)"
    )
    calculado_al: date = Field(description="Fecha límite de pago de un formato emitido hoy")
