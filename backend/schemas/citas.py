from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field, field_validator

Canal = Literal["SMS", "WHATSAPP"]


class CitaCrear(BaseModel):
    oficina_id: int = Field(gt=0, le=2**31 - 1)
    inicio: datetime = Field(
        description="Inicio del horario elegido; sin zona horaria se entiende hora del centro de "
        "México.",
        examples=["2024-01-30T13:30:00-06:00"],
    )
    canal_notificacion: Canal | None = Field(
        default=None, description="Por dónde avisarle: SMS o WHATSAPP (predeterminado WHATSAPP)."
    )
    origen: Literal["web", "whatsapp", "telefono"] = "web"


class OficinaResumen(BaseModel):
    id: int
    nombre: str
    direccion: str
    telefono: str | None


class CitaOut(BaseModel):
    clave: str
    estatus: str
    oficina: OficinaResumen
    inicio: datetime
    fin: datetime
    fecha_cita: str = Field(examples=["30/01/2024"])
    hora: str = Field(examples=["13:30 hrs-13:45 hrs"])
    fecha_texto: str = Field(examples=["martes 30 de enero de 2024"])
    registrado_en: str = Field(examples=["24/01/2024 15:53:49"])
    limite_cancelacion: datetime
    cancelable: bool


class FilaBitacoraOut(BaseModel):
    """One row of the "Listado de citas" (seed 003)."""

    fecha_cita: str = Field(examples=["30/01/2024"])
    hora: str = Field(examples=["13:30 hrs-13:45 hrs"])
    expediente: str = Field(examples=["NO"], description="SI cuando la cita fue atendida.")
    registrado_en: str = Field(examples=["24/01/2024 15:53:49"])
    estatus: str = Field(examples=["AGENDADA"])
    clave: str = Field(examples=["AB12CD"])
    inicio: datetime
    registrado_en_iso: datetime
    oficina: str


def _fecha_flexible(valor: object) -> object:
    """Accept `27/04/1956` as well as ISO `1956-04-27` (what a caller dictates)."""
    if isinstance(valor, str):
        texto = valor.strip()
        for formato in ("%d/%m/%Y", "%d-%m-%Y"):
            try:
                return datetime.strptime(texto, formato).date()
            except ValueError:
                pass
    return valor


class CancelarCita(BaseModel):
    fecha_nacimiento: date | None = Field(
        default=None, description="Sin token: su fecha de nacimiento (AAAA-MM-DD o DD/MM/AAAA)."
    )
    origen: Literal["web", "whatsapp", "telefono"] | None = None

    @field_validator("fecha_nacimiento", mode="before")
    @classmethod
    def _fecha(cls, valor: object) -> object:
        return _fecha_flexible(valor)


class CancelacionOut(BaseModel):
    clave: str
    estatus: str
    ya_estaba_cancelada: bool
    mensaje: str


class AtencionOut(BaseModel):
    clave: str
    estatus: str = Field(examples=["ATENDIDA"])
    ya_estaba_atendida: bool
    mensaje: str


class EnlaceOut(BaseModel):
    url: str
    expira_en: datetime


class ReenvioIn(BaseModel):
    canal: Canal | None = None


class ReenvioOut(BaseModel):
    clave: str
    canal: str
    mensaje: str
