"""Loan simulation: the product rules from the catalogue (reglas_producto) plus
the finance maths (finanzas, amortizacion).

Every broken rule raises `ReglaIncumplida(...)` with a Spanish sentence a
caller can hear. No database: the catalogue is data loaded once. The answer is
a `Simulacion`; the router turns it into the API schema.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from backend.services import finanzas
from backend.services.amortizacion import totales_amortizacion
from backend.services.errores import ReglaIncumplida
from backend.services.productos import RUTA_CATALOGO, cargar_catalogo, obtener_producto
from backend.services.reglas_producto import nivel_de, plazo_maximo_de, texto_anios

_UNO_IVA = 1 + finanzas.IVA
_TASA_DEC = Decimal("0.00000001")


@dataclass(frozen=True, slots=True)
class Simulacion:
    """What a simulation found (amounts in pesos, rates as fractions)."""

    producto: str
    nombre_producto: str
    vigencia: int
    tipo: str
    renovacion: bool
    sueldo_base_mensual: Decimal
    sueldo_base_quincenal: Decimal
    descuento_quincenal: Decimal
    monto_maximo: Decimal
    plazo_quincenas: int
    plazo_maximo_permitido: int
    tasa_anual: Decimal
    tasa_anual_con_iva: Decimal
    tasa_quincenal: Decimal
    total_a_pagar: Decimal
    intereses: Decimal
    iva: Decimal
    avisos: list[str]
    tabla: list[finanzas.RenglonAmortizacion] | None = None


def simular(
    *,
    producto: str,
    sueldo_base_mensual: Decimal,
    plazo_quincenas: int,
    renovacion: bool = False,
    tipo: str = "asegurado",
    anios_cotizacion: Decimal | None = None,
    sexo: str | None = None,
    incluir_tabla: bool = False,
    ruta: Path = RUTA_CATALOGO,
) -> Simulacion:
    p = obtener_producto(clave=producto, ruta=ruta)
    nombre = p.nombre.lower()
    sueldo = Decimal(sueldo_base_mensual)
    anios = None if anios_cotizacion is None else Decimal(anios_cotizacion)
    plazo = int(plazo_quincenas)
    # Whose conditions these are, or that they are an estimate (issue 16): always said first.
    avisos: list[str] = [p.aviso_fuente]

    if sueldo <= 0:
        raise ReglaIncumplida("El sueldo base mensual debe ser mayor que cero.", "sueldo_invalido")
    if plazo < 1:
        raise ReglaIncumplida("El plazo debe ser de al menos una quincena.", "plazo_invalido")
    if tipo not in p.tipos:
        raise ReglaIncumplida(f"El {nombre} no está disponible para {tipo}s.", "tipo_no_permitido")
    if renovacion and not p.renovable:
        raise ReglaIncumplida(f"El {nombre} no tiene modalidad de renovación.", "sin_renovacion")
    if tipo == "asegurado" and anios is not None and anios < p.antiguedad_minima_anios:
        raise ReglaIncumplida(
            f"Para el {nombre} se necesita al menos {texto_anios(p.antiguedad_minima_anios)} de "
            f"cotización; usted tiene {texto_anios(anios)}.",
            "antiguedad_insuficiente",
        )
    if tipo == "asegurado" and anios is None:
        avisos.append(
            f"Para el {nombre} se necesita al menos {texto_anios(p.antiguedad_minima_anios)} de "
            "cotización."
        )
    plazo_maximo = plazo_maximo_de(p, tipo=tipo, anios=anios, sexo=sexo, plazo=plazo, avisos=avisos)
    if plazo < p.plazo.minimo:
        raise ReglaIncumplida(
            f"El plazo mínimo del {nombre} es de {p.plazo.minimo} quincenas.", "plazo_insuficiente"
        )

    tasa = (
        p.tasa_anual_renovacion
        if (renovacion and p.tasa_anual_renovacion is not None)
        else p.tasa_anual
    )
    tasa_q = finanzas.tasa_quincenal(tasa, con_iva=p.iva_sobre_intereses)
    quincenal = sueldo / 2
    regla = p.monto

    if regla.regla == "descuento_maximo":
        porcentaje = regla.porcentaje_descuento
        if renovacion and regla.porcentaje_descuento_renovacion is not None:
            porcentaje = regla.porcentaje_descuento_renovacion
        assert porcentaje is not None
        # The discount is rounded first and the amount follows from it (seed 004 table).
        descuento = finanzas.redondear(quincenal * porcentaje)
        monto = finanzas.redondear(finanzas.valor_presente(descuento, tasa_q, plazo))
    else:
        assert regla.niveles and regla.capacidad_descuento is not None
        if tipo == "asegurado" and anios is None:
            avisos.append(
                "Sin sus años de cotización calculamos con el monto del primer nivel de antigüedad."
            )
        nivel = nivel_de(regla.niveles, anios if anios is not None else Decimal(0))
        if regla.regla == "tope_por_antiguedad":
            tope = regla.tope_pensionado if tipo == "pensionado" else nivel.tope
            assert tope is not None
        else:
            meses = regla.meses_pensionado if tipo == "pensionado" else nivel.meses
            assert meses is not None and regla.sueldo_tope_mensual is not None
            tope = finanzas.redondear(meses * min(sueldo, regla.sueldo_tope_mensual))
        descuento_capacidad = finanzas.redondear(quincenal * regla.capacidad_descuento)
        monto_capacidad = finanzas.redondear(
            finanzas.valor_presente(descuento_capacidad, tasa_q, plazo)
        )
        if monto_capacidad < tope:
            monto, descuento = monto_capacidad, descuento_capacidad
            avisos.append(
                "El monto se limita a lo que puede pagar con el "
                f"{float(regla.capacidad_descuento) * 100:g} % de su sueldo quincenal."
            )
        else:
            monto = finanzas.redondear(tope)
            descuento = finanzas.redondear(finanzas.pago_periodico(monto, tasa_q, plazo))

    total, intereses, iva = totales_amortizacion(
        monto, tasa, plazo, descuento, con_iva=p.iva_sobre_intereses
    )
    factor_iva = _UNO_IVA if p.iva_sobre_intereses else Decimal(1)

    return Simulacion(
        producto=p.clave,
        nombre_producto=p.nombre,
        vigencia=cargar_catalogo(ruta).vigencia,
        tipo=tipo,
        renovacion=renovacion,
        sueldo_base_mensual=finanzas.redondear(sueldo),
        sueldo_base_quincenal=finanzas.redondear(quincenal),
        descuento_quincenal=descuento,
        monto_maximo=monto,
        plazo_quincenas=plazo,
        plazo_maximo_permitido=plazo_maximo,
        tasa_anual=tasa,
        tasa_anual_con_iva=tasa * factor_iva,
        tasa_quincenal=tasa_q.quantize(_TASA_DEC),
        total_a_pagar=total,
        intereses=intereses,
        iva=iva,
        avisos=avisos,
        tabla=(
            finanzas.tabla_amortizacion(
                monto, tasa, plazo, descuento, con_iva=p.iva_sobre_intereses
            )
            if incluir_tabla
            else None
        ),
    )
