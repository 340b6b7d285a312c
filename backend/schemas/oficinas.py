from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field


class OficinaOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    clave: str
    nombre: str
    estado: str
    ciudad: str
    direccion: str
    telefono: str | None
    horario: str
    ventanillas: int = Field(description="Citas que caben en cada horario de 15 minutos.")


class HorarioOut(BaseModel):
    inicio: datetime = Field(description="Inicio con zona horaria (hora del centro de México).")
    fin: datetime
    fecha: str = Field(examples=["30/01/2024"])
    hora: str = Field(examples=["13:30 hrs-13:45 hrs"])
    fecha_texto: str = Field(examples=["martes 30 de enero de 2024"])
    lugares_disponibles: int


class DisponibilidadOut(BaseModel):
    oficina_id: int
    oficina: str
    zona_horaria: str
    desde: date
    hasta: date
    horarios: list[HorarioOut]
