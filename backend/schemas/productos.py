"""The API schema of `GET /api/v1/productos`: the catalogue as the router
answers it, built from the service's domain objects (backend/services/productos.py,
which also validates the data file and holds the catalogue's rules). Amounts and
rates are Decimal inside and JSON numbers outside.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

from backend.services.productos import Sexo, TipoDerechohabiente

# Decimal in Python, a JSON number on the wire (money is rounded before it gets here).
Numero = Annotated[Decimal, PlainSerializer(float, return_type=float, when_used="json")]

__all__ = ["Catalogo", "Numero", "Producto", "Sexo", "TipoDerechohabiente"]


class _Modelo(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, from_attributes=True)


class Nivel(_Modelo):
    """One seniority tier. `desde_anios` is inclusive (>=), `mas_de_anios` strict (>)."""

    desde_anios: Numero | None = None
    mas_de_anios: Numero | None = None
    maximo: int | None = Field(default=None, description="Plazo máximo en quincenas")
    tope: Numero | None = Field(default=None, description="Monto máximo en pesos")
    meses: Numero | None = Field(default=None, description="Meses de sueldo básico")


class ReglaPlazo(_Modelo):
    minimo: int = Field(ge=1)
    maximo: int | None = Field(default=None, ge=1)
    maximo_por_antiguedad: list[Nivel] | None = None
    maximo_pensionado: int = Field(ge=1)


class ReglaMonto(_Modelo):
    """How the maximum amount is found: services.productos.ReglaMonto as the API
    shows it (what each `regla` means is explained there)."""

    regla: Literal["descuento_maximo", "tope_por_antiguedad", "meses_sueldo"]
    porcentaje_descuento: Numero | None = None
    porcentaje_descuento_renovacion: Numero | None = None
    niveles: list[Nivel] | None = None
    tope_pensionado: Numero | None = None
    meses_pensionado: Numero | None = None
    sueldo_tope_mensual: Numero | None = None
    capacidad_descuento: Numero | None = None


class Antiguedad(_Modelo):
    anios: int = Field(ge=0)
    meses: int = Field(ge=0, lt=12)
    dias: int = Field(ge=0, lt=30)


class Producto(_Modelo):
    clave: str
    nombre: str
    institucion: Literal["ISSSTE", "ISSEG"] = Field(
        description="De quién son estas condiciones: el crédito complementario de seed 004 es del "
        "ISSEG (Guanajuato)"
    )
    aviso_fuente: str = Field(
        min_length=1,
        description="Lo que el usuario oye en cada simulación sobre de dónde salen las cifras "
        "(institución o estimación)",
    )
    descripcion: str
    tipos: list[TipoDerechohabiente]
    tasa_anual: Numero = Field(description="Tasa anual sin IVA, como fracción (0.16 = 16 %)")
    tasa_anual_renovacion: Numero | None = None
    iva_sobre_intereses: bool
    renovable: bool
    antiguedad_minima_anios: Numero
    garantia: str | None = None
    plazo: ReglaPlazo
    monto: ReglaMonto
    limite_cotizacion_mas_plazo: dict[Sexo, Antiguedad] | None = Field(
        default=None,
        description="Para asegurados: años de cotización + plazo deben ser MENORES a este límite",
    )
    requisitos: list[str] = []
    fuente: str
    supuestos: list[str] = []


class Catalogo(_Modelo):
    vigencia: int = Field(description="Año de los parámetros")
    nota: str
    productos: list[Producto]
