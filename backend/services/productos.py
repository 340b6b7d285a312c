"""The loan-product catalogue: data in backend/data/productos.json, read once.

The service answers with the domain objects below (frozen dataclasses, Decimal
amounts); `_ArchivoCatalogo` is the private loader that validates the file
(pydantic: types, bounds, no unknown keys, and each class's own checks in
`__post_init__`). The API schema of `GET /api/v1/productos` is
backend/schemas/productos.py, built by the router from these objects.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from backend.services.errores import ErrorDominio, ReglaIncumplida

RUTA_CATALOGO = Path(__file__).resolve().parents[1] / "data" / "productos.json"

TipoDerechohabiente = Literal["asegurado", "pensionado"]
Sexo = Literal["H", "M"]
ReglaDeMonto = Literal["descuento_maximo", "tope_por_antiguedad", "meses_sueldo"]
Institucion = Literal["ISSSTE", "ISSEG"]


@dataclass(frozen=True)
class Nivel:
    """One seniority tier. `desde_anios` is inclusive (>=), `mas_de_anios` strict (>)."""

    desde_anios: Decimal | None = None
    mas_de_anios: Decimal | None = None
    maximo: int | None = None  # plazo, quincenas
    tope: Decimal | None = None  # amount, pesos
    meses: Decimal | None = None  # months of basic salary

    def __post_init__(self) -> None:
        if (self.desde_anios is None) == (self.mas_de_anios is None):
            raise ValueError("cada nivel lleva exactamente uno de desde_anios o mas_de_anios")

    def aplica(self, anios: Decimal) -> bool:
        if self.desde_anios is not None:
            return anios >= self.desde_anios
        assert self.mas_de_anios is not None
        return anios > self.mas_de_anios


@dataclass(frozen=True)
class ReglaPlazo:
    minimo: Annotated[int, Field(ge=1)]
    maximo_pensionado: Annotated[int, Field(ge=1)]
    maximo: Annotated[int, Field(ge=1)] | None = None
    maximo_por_antiguedad: tuple[Nivel, ...] | None = None

    def __post_init__(self) -> None:
        if (self.maximo is None) == (self.maximo_por_antiguedad is None):
            raise ValueError("el plazo lleva maximo o maximo_por_antiguedad, no ambos")


@dataclass(frozen=True)
class ReglaMonto:
    """How the maximum amount is found.

    - descuento_maximo: a share of the quincenal salary is the discount; the
      amount is its present value over the plazo (crédito complementario).
    - tope_por_antiguedad: a fixed ceiling per seniority tier.
    - meses_sueldo: months of salary (capped at `sueldo_tope_mensual`) per tier.
    The last two are further capped by what `capacidad_descuento` of the
    quincenal salary can repay.
    """

    regla: ReglaDeMonto
    porcentaje_descuento: Decimal | None = None
    porcentaje_descuento_renovacion: Decimal | None = None
    niveles: tuple[Nivel, ...] | None = None
    tope_pensionado: Decimal | None = None
    meses_pensionado: Decimal | None = None
    sueldo_tope_mensual: Decimal | None = None
    capacidad_descuento: Decimal | None = None

    def __post_init__(self) -> None:
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
        if self.regla == "meses_sueldo" and (
            self.meses_pensionado is None or self.sueldo_tope_mensual is None
        ):
            faltan.append("meses_pensionado/sueldo_tope_mensual")
        if faltan:
            raise ValueError(f"regla {self.regla} incompleta: {', '.join(faltan)}")


@dataclass(frozen=True)
class Antiguedad:
    anios: Annotated[int, Field(ge=0)]
    meses: Annotated[int, Field(ge=0, lt=12)]
    dias: Annotated[int, Field(ge=0, lt=30)]


@dataclass(frozen=True)
class Producto:
    clave: str
    nombre: str
    institucion: Institucion  # whose conditions: the crédito complementario is ISSEG's
    aviso_fuente: Annotated[str, Field(min_length=1)]  # said with every simulation
    descripcion: str
    tipos: tuple[TipoDerechohabiente, ...]
    tasa_anual: Decimal  # without IVA, as a fraction (0.16 = 16 %)
    iva_sobre_intereses: bool
    renovable: bool
    antiguedad_minima_anios: Decimal
    plazo: ReglaPlazo
    monto: ReglaMonto
    fuente: str
    tasa_anual_renovacion: Decimal | None = None
    garantia: str | None = None
    # For asegurados: years of cotización + plazo must be UNDER this limit.
    limite_cotizacion_mas_plazo: Mapping[Sexo, Antiguedad] | None = None
    requisitos: tuple[str, ...] = ()
    supuestos: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.renovable and self.tasa_anual_renovacion is None:
            raise ValueError(f"{self.clave}: renovable sin tasa_anual_renovacion")


@dataclass(frozen=True)
class Catalogo:
    vigencia: int  # the year of the parameters
    nota: str
    productos: tuple[Producto, ...]


class _ArchivoCatalogo(BaseModel):
    """The file's top level; its config (no unknown keys) reaches every nested class."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    vigencia: int
    nota: str
    productos: tuple[Producto, ...]


@lru_cache(maxsize=4)
def cargar_catalogo(ruta: Path = RUTA_CATALOGO) -> Catalogo:
    """Parse and validate the catalogue file (cached: it changes once a year);
    a file that breaks a rule raises pydantic's ValidationError."""
    archivo = _ArchivoCatalogo.model_validate_json(ruta.read_bytes())
    return Catalogo(vigencia=archivo.vigencia, nota=archivo.nota, productos=archivo.productos)


@lru_cache(maxsize=4)
def _por_clave(ruta: Path = RUTA_CATALOGO) -> dict[str, Producto]:
    return {p.clave: p for p in cargar_catalogo(ruta).productos}


def listar_productos(*, ruta: Path = RUTA_CATALOGO) -> Catalogo:
    return cargar_catalogo(ruta)


def obtener_producto(
    *, clave: str, ruta: Path = RUTA_CATALOGO, si_no_existe: type[ErrorDominio] = ReglaIncumplida
) -> Producto:
    """The product with this clave, or an error naming the ones that exist."""
    productos = _por_clave(ruta)
    normalizada = clave.strip().lower().replace(" ", "_").replace("-", "_")
    producto = productos.get(normalizada)
    if producto is None:
        nombres = ", ".join(p.nombre.lower() for p in productos.values())
        raise si_no_existe(
            f"No conocemos ese tipo de préstamo. Podemos simular: {nombres}.",
            "producto_desconocido",
        )
    return producto
