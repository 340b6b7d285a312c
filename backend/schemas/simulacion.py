"""Request and answer of `POST /api/v1/simulaciones`.

Inputs are checked by `mode="before"` validators so every complaint is a Spanish
sentence (the error handler passes a validator's message through as `detail`);
`WithJsonSchema` keeps the OpenAPI schema precise at the same time.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from backend.schemas.productos import Numero, Sexo, TipoDerechohabiente

SUELDO_MAXIMO = Decimal("1000000")  # sanity bound: far above any federal salary tabulator
PLAZO_MAXIMO_ABSOLUTO = 600  # sanity bound; each product has its own, much lower limit
ANIOS_MAXIMOS = Decimal("60")


def _a_decimal(valor: Any, error: str) -> Decimal:
    if isinstance(valor, bool):
        raise ValueError(error)
    try:
        if isinstance(valor, int | Decimal):
            numero = Decimal(valor)
        elif isinstance(valor, float):
            numero = Decimal(repr(valor))
        elif isinstance(valor, str):
            numero = Decimal(valor.strip().replace(",", "").replace("$", ""))
        else:
            raise ValueError(error)
    except InvalidOperation as exc:
        raise ValueError(error) from exc
    if not numero.is_finite():
        raise ValueError(error)
    return numero


def _sueldo(valor: Any) -> Decimal:
    numero = _a_decimal(
        valor, "El sueldo base mensual debe ser una cantidad en pesos, por ejemplo 12690.80."
    )
    if numero <= 0:
        raise ValueError("El sueldo base mensual debe ser mayor que cero.")
    if numero > SUELDO_MAXIMO:
        raise ValueError(
            "El sueldo base mensual no puede ser mayor a un millón de pesos; revise la cantidad."
        )
    return numero


def _plazo(valor: Any) -> int:
    numero = _a_decimal(valor, "El plazo debe ser un número entero de quincenas, por ejemplo 36.")
    if numero != numero.to_integral_value():
        raise ValueError("El plazo debe ser un número entero de quincenas, por ejemplo 36.")
    if numero < 1:
        raise ValueError("El plazo debe ser de al menos una quincena.")
    if numero > PLAZO_MAXIMO_ABSOLUTO:
        raise ValueError("Ese plazo es demasiado largo; ningún préstamo pasa de 72 quincenas.")
    return int(numero)


def _anios(valor: Any) -> Decimal | None:
    if valor is None:
        return None
    numero = _a_decimal(valor, "Los años de cotización deben ser un número, por ejemplo 8.")
    if numero < 0:
        raise ValueError("Los años de cotización no pueden ser negativos.")
    if numero > ANIOS_MAXIMOS:
        raise ValueError("Los años de cotización no pueden ser más de 60; revise el dato.")
    return numero


_TIPOS = {
    "asegurado": "asegurado",
    "asegurada": "asegurado",
    "trabajador": "asegurado",
    "trabajadora": "asegurado",
    "pensionado": "pensionado",
    "pensionada": "pensionado",
    "jubilado": "pensionado",
    "jubilada": "pensionado",
}
_SEXOS = {"h": "H", "hombre": "H", "masculino": "H", "m": "M", "mujer": "M", "femenino": "M"}


def _tipo(valor: Any) -> str:
    if valor is None:
        return "asegurado"
    tipo = _TIPOS.get(str(valor).strip().lower()) if isinstance(valor, str) else None
    if tipo is None:
        raise ValueError("El tipo de derechohabiente debe ser asegurado o pensionado.")
    return tipo


def _sexo(valor: Any) -> str | None:
    if valor is None:
        return None
    sexo = _SEXOS.get(valor.strip().lower()) if isinstance(valor, str) else None
    if sexo is None:
        raise ValueError("El sexo debe ser H (hombre) o M (mujer), como en la CURP.")
    return sexo


def _producto(valor: Any) -> str:
    if not isinstance(valor, str) or not valor.strip() or len(valor) > 60:
        raise ValueError("Indique el producto a simular, por ejemplo credito_complementario.")
    return valor.strip()


def _booleano(campo: str) -> Any:
    def validar(valor: Any) -> bool:
        if valor is None:
            return False
        if isinstance(valor, bool):
            return valor
        raise ValueError(f"El campo {campo} debe ser true o false.")

    return BeforeValidator(validar)


class SimulacionSolicitud(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "producto": "credito_complementario",
                    "sueldo_base_mensual": 12690.80,
                    "plazo_quincenas": 36,
                    "tipo": "asegurado",
                    "anios_cotizacion": 8,
                    "sexo": "H",
                }
            ]
        }
    )

    producto: Annotated[
        str,
        BeforeValidator(_producto),
        WithJsonSchema(
            {
                "type": "string",
                "minLength": 1,
                "maxLength": 60,
                "examples": ["credito_complementario"],
            }
        ),
    ] = Field(description="Clave del producto, como en GET /api/v1/productos")
    sueldo_base_mensual: Annotated[
        Decimal,
        BeforeValidator(_sueldo),
        WithJsonSchema({"type": "number", "exclusiveMinimum": 0, "maximum": float(SUELDO_MAXIMO)}),
    ] = Field(description="Sueldo base de cotización mensual, en pesos")
    plazo_quincenas: Annotated[
        int,
        BeforeValidator(_plazo),
        WithJsonSchema({"type": "integer", "minimum": 1, "maximum": PLAZO_MAXIMO_ABSOLUTO}),
    ]
    renovacion: Annotated[bool, _booleano("renovacion"), WithJsonSchema({"type": "boolean"})] = (
        False
    )
    tipo: Annotated[
        TipoDerechohabiente,
        BeforeValidator(_tipo),
        WithJsonSchema({"type": "string", "enum": ["asegurado", "pensionado"]}),
    ] = "asegurado"
    anios_cotizacion: Annotated[
        Decimal | None,
        BeforeValidator(_anios),
        WithJsonSchema(
            {
                "anyOf": [
                    {"type": "number", "minimum": 0, "maximum": float(ANIOS_MAXIMOS)},
                    {"type": "null"},
                ]
            }
        ),
    ] = Field(default=None, description="Años de cotización al ISSSTE (asegurados)")
    sexo: Annotated[
        Sexo | None,
        BeforeValidator(_sexo),
        WithJsonSchema({"anyOf": [{"type": "string", "enum": ["H", "M"]}, {"type": "null"}]}),
    ] = Field(default=None, description="H o M, como en la CURP")
    incluir_tabla: Annotated[
        bool, _booleano("incluir_tabla"), WithJsonSchema({"type": "boolean"})
    ] = False


class RenglonTabla(BaseModel):
    quincena: int
    saldo_inicial: Numero
    interes: Numero
    iva: Numero
    capital: Numero
    pago: Numero
    saldo_final: Numero


class SimulacionRespuesta(BaseModel):
    producto: str
    nombre_producto: str
    vigencia: int = Field(description="Año de los parámetros usados")
    tipo: TipoDerechohabiente
    renovacion: bool
    sueldo_base_mensual: Numero
    sueldo_base_quincenal: Numero
    descuento_quincenal: Numero = Field(description="Descuento por nómina cada quincena")
    monto_maximo: Numero = Field(description="Monto máximo del crédito")
    plazo_quincenas: int
    plazo_maximo_permitido: int = Field(
        description="Plazo más largo que le corresponde, en quincenas"
    )
    tasa_anual: Numero = Field(description="Tasa anual sin IVA, como fracción (0.16 = 16 %)")
    tasa_anual_con_iva: Numero = Field(description="Tasa anual más IVA sobre intereses")
    tasa_quincenal: Numero = Field(description="Tasa quincenal con IVA aplicada al saldo")
    total_a_pagar: Numero
    intereses: Numero
    iva: Numero = Field(description="IVA sobre intereses")
    avisos: list[str] = Field(description="Supuestos de esta simulación, en español")
    tabla: list[RenglonTabla] | None = Field(
        default=None, description="Tabla de amortización (si incluir_tabla)"
    )
