"""The loan-product catalogue (backend/data/productos.json) as pydantic models.

The same models validate the data file at load time and document
`GET /api/v1/productos`. Amounts and rates are Decimal inside and JSON numbers
outside.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, model_validator

# Decimal in Python, a JSON number on the wire (money is rounded before it gets here).
Numero = Annotated[Decimal, PlainSerializer(float, return_type=float, when_used="json")]

TipoDerechohabiente = Literal["asegurado", "pensionado"]
Sexo = Literal["H", "M"]


class _Modelo(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Nivel(_Modelo):
    """One seniority tier. `desde_anios` is inclusive (>=), `mas_de_anios` strict (>)."""

    desde_anios: Numero | None = None
    mas_de_anios: Numero | None = None
    maximo: int | None = Field(default=None, description="Plazo máximo en quincenas")
    tope: Numero | None = Field(default=None, description="Monto máximo en pesos")
    meses: Numero | None = Field(default=None, description="Meses de sueldo básico")

    @model_validator(mode="after")
    def _un_limite(self) -> Nivel:
        if (self.desde_anios is None) == (self.mas_de_anios is None):
            raise ValueError("cada nivel lleva exactamente uno de desde_anios o mas_de_anios")
        return self

    def aplica(self, anios: Decimal) -> bool:
        if self.desde_anios is not None:
            return anios >= self.desde_anios
        assert self.mas_de_anios is not None
        return anios > self.mas_de_anios


class ReglaPlazo(_Modelo):
    minimo: int = Field(ge=1)
    maximo: int | None = Field(default=None, ge=1)
    maximo_por_antiguedad: list[Nivel] | None = None
    maximo_pensionado: int = Field(ge=1)

    @model_validator(mode="after")
    def _algun_maximo(self) -> ReglaPlazo:
        if (self.maximo is None) == (self.maximo_por_antiguedad is None):
            raise ValueError("el plazo lleva maximo o maximo_por_antiguedad, no ambos")
        return self


class ReglaMonto(_Modelo):
    """How the maximum amount is found.

    - descuento_maximo: a share of the quincenal salary is the discount; the
      amount is its present value over the plazo (crédito complementario).
    - tope_por_antiguedad: a fixed ceiling per seniority tier.
    - meses_sueldo: months of salary (capped at `sueldo_tope_mensual`) per tier.
    The last two are further capped by what `capacidad_descuento` of the
    quincenal salary can repay.
    """

    regla: Literal["descuento_maximo", "tope_por_antiguedad", "meses_sueldo"]
    porcentaje_descuento: Numero | None = None
    porcentaje_descuento_renovacion: Numero | None = None
    niveles: list[Nivel] | None = None
    tope_pensionado: Numero | None = None
    meses_pensionado: Numero | None = None
    sueldo_tope_mensual: Numero | None = None
    capacidad_descuento: Numero | None = None

    @model_validator(mode="after")
    def _completa(self) -> ReglaMonto:
        faltan: list[str] = []
        if self.regla == "descuento_maximo" and self.porcentaje_descuento is None:
            faltan.append("porcentaje_descuento")
        if self.regla != "descuento_maximo":
            if not self.niveles:
                faltan.append("niveles")
            if self.capacidad_descuento is None:
                faltan.append("capacidad_descuento")
        if self.regla == "tope_por_antiguedad" and self.tope_pensionado is None:
            faltan.append("tope_pensionado")
        if self.regla == "meses_sueldo" and (self.meses_pensionado is None or self.sueldo_tope_mensual is None):
            faltan.append("meses_pensionado/sueldo_tope_mensual")
        if faltan:
            raise ValueError(f"regla {self.regla} incompleta: {', '.join(faltan)}")
        return self


class Antiguedad(_Modelo):
    anios: int = Field(ge=0)
    meses: int = Field(ge=0, lt=12)
    dias: int = Field(ge=0, lt=30)


class Producto(_Modelo):
    clave: str
    nombre: str
    institucion: Literal["ISSSTE", "ISSEG"] = Field(
        description="De quién son estas condiciones: el crédito complementario de seed 004 es del ISSEG (Guanajuato)"
    )
    aviso_fuente: str = Field(
        min_length=1,
        description="Lo que el usuario oye en cada simulación sobre de dónde salen las cifras (institución o estimación)",
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

    @model_validator(mode="after")
    def _renovacion(self) -> Producto:
        if self.renovable and self.tasa_anual_renovacion is None:
            raise ValueError(f"{self.clave}: renovable sin tasa_anual_renovacion")
        return self


class Catalogo(_Modelo):
    vigencia: int = Field(description="Año de los parámetros")
    nota: str
    productos: list[Producto]
