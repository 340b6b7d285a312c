"""Identity request/response bodies."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, Field, PlainSerializer, field_validator

from backend.services.identidad import normalizar_curp, validar_nip

# Money goes out as a JSON number rounded to cents (pydantic would send Decimal as a string).
Dinero = Annotated[Decimal, PlainSerializer(lambda v: float(round(v, 2)), return_type=float)]


class VerificarSolicitud(BaseModel):
    curp: str = Field(description="CURP de 18 caracteres", examples=["HEGG560427MVZRRL04"])
    nip: str = Field(description="NIP de 4 dígitos", examples=["4821"])

    @field_validator("curp", mode="before")
    @classmethod
    def _curp(cls, valor: object) -> str:
        if not isinstance(valor, str):
            raise ValueError("La CURP debe escribirse como texto de 18 caracteres.")
        return normalizar_curp(valor)

    @field_validator("nip", mode="before")
    @classmethod
    def _nip(cls, valor: object) -> str:
        if isinstance(valor, int) and not isinstance(valor, bool):
            valor = str(valor)
        if not isinstance(valor, str):
            raise ValueError("El NIP debe tener 4 dígitos.")
        return validar_nip(valor)


class VerificarRespuesta(BaseModel):
    token: str
    expira_en: datetime = Field(description="Momento (UTC) en que el token deja de valer")
    expira_en_segundos: int
    nombre: str = Field(description="Nombre de pila, para saludar")
    nombre_completo: str
    tipo: str = Field(description="asegurado | pensionado")


class Perfil(BaseModel):
    nombre: str
    nombre_completo: str
    tipo: str
    sexo: str = Field(description="H | M, como en la CURP")
    anios_cotizacion: int
    sueldo_base_mensual: Dinero
    dependencia: str | None
