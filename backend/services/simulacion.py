"""Loan simulation: the product rules from the catalogue plus the finance maths.

Every broken rule raises `ErrorNegocio(422, ...)` with a Spanish sentence a
caller can hear. No database: the catalogue is data loaded once.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from backend.errors import ErrorNegocio
from backend.schemas.productos import Antiguedad, Nivel, Producto
from backend.schemas.simulacion import RenglonTabla, SimulacionRespuesta
from backend.services import finanzas
from backend.services.productos import RUTA_CATALOGO, cargar_catalogo, obtener_producto

DIAS_ANIO = 360  # commercial calendar: 12 months of 30 days
DIAS_MES = 30
DIAS_QUINCENA = 15
_UNO_IVA = 1 + finanzas.IVA
_TASA_DEC = Decimal("0.00000001")

SEXO_TEXTO = {"H": "hombres", "M": "mujeres"}


def _regla(status: int, detail: str, codigo: str) -> ErrorNegocio:
    return ErrorNegocio(status, detail, codigo)


def texto_anios(anios: Decimal) -> str:
    """'1 año', '8 años', '6 meses', '8.5 años' — as it will be read aloud."""
    if anios == anios.to_integral_value():
        n = int(anios)
        return "1 año" if n == 1 else f"{n} años"
    meses = anios * 12
    if anios < 1 and meses == meses.to_integral_value():
        n = int(meses)
        return "1 mes" if n == 1 else f"{n} meses"
    return f"{anios.normalize():f} años"


def texto_antiguedad(a: Antiguedad) -> str:
    return f"{a.anios} años, {a.meses} meses y {a.dias} día" + ("" if a.dias == 1 else "s")


def _nivel(niveles: list[Nivel], anios: Decimal) -> Nivel:
    """The highest tier that applies (tiers are listed from lowest to highest)."""
    elegido = niveles[0]
    for nivel in niveles:
        if nivel.aplica(anios):
            elegido = nivel
    return elegido


def plazo_maximo_por_limite(anios: Decimal, limite: Antiguedad) -> int:
    """Longest plazo with cotización + plazo strictly under `limite` (may be <= 0)."""
    dias_limite = limite.anios * DIAS_ANIO + limite.meses * DIAS_MES + limite.dias
    holgura = (Decimal(dias_limite) - anios * DIAS_ANIO) / DIAS_QUINCENA
    return math.ceil(holgura) - 1


def _plazo_maximo(
    p: Producto, *, tipo: str, anios: Decimal | None, sexo: str | None, plazo: int, avisos: list[str]
) -> int:
    """The longest plazo this person may take; raises if `plazo` breaks a rule."""
    nombre = p.nombre.lower()
    if tipo == "pensionado":
        maximo = p.plazo.maximo_pensionado
        if plazo > maximo:
            raise _regla(422, f"Para pensionados el plazo máximo del {nombre} es de {maximo} quincenas.", "plazo_excedido")
        return maximo

    if p.plazo.maximo is not None:
        maximo = p.plazo.maximo
        if plazo > maximo:
            rango = (
                f"es de {maximo} quincenas"
                if p.plazo.minimo == maximo
                else f"va de {p.plazo.minimo} a {maximo} quincenas"
            )
            raise _regla(422, f"El plazo del {nombre} {rango}.", "plazo_excedido")
    else:
        niveles = p.plazo.maximo_por_antiguedad or []
        if anios is None:
            maximo = niveles[0].maximo or 0
            if plazo > maximo:
                siguiente = next((n for n in niveles if (n.maximo or 0) >= plazo), niveles[-1])
                umbral = siguiente.desde_anios if siguiente.desde_anios is not None else siguiente.mas_de_anios
                raise _regla(
                    422,
                    f"Sin sus años de cotización podemos simular hasta {maximo} quincenas. "
                    f"Con {texto_anios(umbral or Decimal(0))} o más de cotización el plazo máximo es de "
                    f"{siguiente.maximo} quincenas; díganos cuántos años ha cotizado.",
                    "faltan_anios_cotizacion",
                )
            avisos.append(f"Sin sus años de cotización calculamos con el plazo máximo más corto, {maximo} quincenas.")
        else:
            maximo = _nivel(niveles, anios).maximo or 0
            if plazo > maximo:
                raise _regla(
                    422,
                    f"Con {texto_anios(anios)} de cotización el plazo máximo es de {maximo} quincenas.",
                    "plazo_excedido",
                )

    limites = p.limite_cotizacion_mas_plazo
    if limites and anios is not None:
        por_sexo = {s: plazo_maximo_por_limite(anios, lim) for s, lim in limites.items()}
        candidatos = {sexo: por_sexo[sexo]} if sexo in por_sexo else por_sexo
        if all(plazo > m for m in candidatos.values()):
            partes = " o ".join(f"{texto_antiguedad(limites[s])} para {SEXO_TEXTO[s]}" for s in candidatos)
            if len(candidatos) == 1:
                m = next(iter(candidatos.values()))
                cierre = (
                    f"el plazo máximo para usted es de {m} quincenas."
                    if m >= 1
                    else "ya no alcanza para ningún plazo."
                )
            else:
                cierre = "el plazo máximo sería de " + " o ".join(
                    f"{max(m, 0)} quincenas para {SEXO_TEXTO[s]}" for s, m in candidatos.items()
                ) + "."
            raise _regla(
                422,
                f"Con {texto_anios(anios)} de cotización, su cotización más el plazo debe ser menor a {partes}; {cierre}",
                "cotizacion_mas_plazo",
            )
        if any(plazo > m for m in candidatos.values()):
            raise _regla(
                422,
                f"Con {texto_anios(anios)} de cotización ese plazo depende de si usted es hombre o mujer; "
                "indíquenos su sexo como aparece en su CURP, H o M.",
                "falta_sexo",
            )
        maximo = min(maximo, *candidatos.values())
    return maximo


def totales_amortizacion(
    monto: Decimal, tasa_anual: Decimal, plazo: int, descuento: Decimal, *, con_iva: bool = True
) -> tuple[Decimal, Decimal, Decimal]:
    """(total pagado, intereses, IVA) of `finanzas.tabla_amortizacion` without building rows.

    Hand-written twin of that loop because the simulation answers ~1,000 requests/s
    and most of them do not ask for the table; a test checks both agree to the cent.
    """
    i = tasa_anual / finanzas.QUINCENAS_POR_ANIO
    factor_iva = finanzas.IVA if con_iva else Decimal(0)
    cent, modo = finanzas.CENT, ROUND_HALF_UP
    inicial = saldo = monto.quantize(cent, rounding=modo)
    intereses = iva_total = Decimal(0)
    for k in range(1, plazo + 1):
        interes = (saldo * i).quantize(cent, rounding=modo)
        iva = (interes * factor_iva).quantize(cent, rounding=modo)
        intereses += interes
        iva_total += iva
        capital = descuento - interes - iva
        if k == plazo or capital >= saldo:
            break  # this row pays off the whole saldo
        saldo -= capital
    # Every row's capital adds up to the amount lent, so what is paid is amount + interest + IVA.
    total = inicial + intereses + iva_total
    return total, intereses, iva_total


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
) -> SimulacionRespuesta:
    p = obtener_producto(clave=producto, ruta=ruta)
    nombre = p.nombre.lower()
    sueldo = Decimal(sueldo_base_mensual)
    anios = None if anios_cotizacion is None else Decimal(anios_cotizacion)
    plazo = int(plazo_quincenas)
    avisos: list[str] = []

    if sueldo <= 0:
        raise _regla(422, "El sueldo base mensual debe ser mayor que cero.", "sueldo_invalido")
    if plazo < 1:
        raise _regla(422, "El plazo debe ser de al menos una quincena.", "plazo_invalido")
    if tipo not in p.tipos:
        raise _regla(422, f"El {nombre} no está disponible para {tipo}s.", "tipo_no_permitido")
    if renovacion and not p.renovable:
        raise _regla(422, f"El {nombre} no tiene modalidad de renovación.", "sin_renovacion")
    if tipo == "asegurado" and anios is not None and anios < p.antiguedad_minima_anios:
        raise _regla(
            422,
            f"Para el {nombre} se necesita al menos {texto_anios(p.antiguedad_minima_anios)} de cotización; "
            f"usted tiene {texto_anios(anios)}.",
            "antiguedad_insuficiente",
        )
    if tipo == "asegurado" and anios is None:
        avisos.append(f"Para el {nombre} se necesita al menos {texto_anios(p.antiguedad_minima_anios)} de cotización.")
    plazo_maximo = _plazo_maximo(p, tipo=tipo, anios=anios, sexo=sexo, plazo=plazo, avisos=avisos)
    if plazo < p.plazo.minimo:
        raise _regla(422, f"El plazo mínimo del {nombre} es de {p.plazo.minimo} quincenas.", "plazo_insuficiente")

    tasa = p.tasa_anual_renovacion if (renovacion and p.tasa_anual_renovacion is not None) else p.tasa_anual
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
            avisos.append("Sin sus años de cotización calculamos con el monto del primer nivel de antigüedad.")
        nivel = _nivel(regla.niveles, anios if anios is not None else Decimal(0))
        if regla.regla == "tope_por_antiguedad":
            tope = regla.tope_pensionado if tipo == "pensionado" else nivel.tope
            assert tope is not None
        else:
            meses = regla.meses_pensionado if tipo == "pensionado" else nivel.meses
            assert meses is not None and regla.sueldo_tope_mensual is not None
            tope = finanzas.redondear(meses * min(sueldo, regla.sueldo_tope_mensual))
        descuento_capacidad = finanzas.redondear(quincenal * regla.capacidad_descuento)
        monto_capacidad = finanzas.redondear(finanzas.valor_presente(descuento_capacidad, tasa_q, plazo))
        if monto_capacidad < tope:
            monto, descuento = monto_capacidad, descuento_capacidad
            avisos.append(
                f"El monto se limita a lo que puede pagar con el {float(regla.capacidad_descuento) * 100:g} % "
                "de su sueldo quincenal."
            )
        else:
            monto = finanzas.redondear(tope)
            descuento = finanzas.redondear(finanzas.pago_periodico(monto, tasa_q, plazo))

    total, intereses, iva = totales_amortizacion(monto, tasa, plazo, descuento, con_iva=p.iva_sobre_intereses)
    factor_iva = _UNO_IVA if p.iva_sobre_intereses else Decimal(1)

    return SimulacionRespuesta(
        producto=p.clave,
        nombre_producto=p.nombre,
        vigencia=cargar_catalogo(ruta).vigencia,
        tipo=tipo,  # type: ignore[arg-type]
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
            [
                RenglonTabla(
                    quincena=f.quincena,
                    saldo_inicial=f.saldo_inicial,
                    interes=f.interes,
                    iva=f.iva,
                    capital=f.capital,
                    pago=f.pago,
                    saldo_final=f.saldo_final,
                )
                for f in finanzas.tabla_amortizacion(monto, tasa, plazo, descuento, con_iva=p.iva_sobre_intereses)
            ]
            if incluir_tabla
            else None
        ),
    )
