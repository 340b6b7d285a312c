"""Loan simulation: the product rules from the catalogue plus the finance maths.

Every broken rule raises `ReglaIncumplida(...)` with a Spanish sentence a
caller can hear. No database: the catalogue is data loaded once.
"""

from __future__ import annotations

import decimal
import math
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path

from backend.schemas.productos import Antiguedad, Nivel, Producto, Sexo
from backend.schemas.simulacion import RenglonTabla, SimulacionRespuesta
from backend.services import finanzas
from backend.services.errores import ErrorDominio, ReglaIncumplida
from backend.services.productos import RUTA_CATALOGO, cargar_catalogo, obtener_producto

DIAS_ANIO = 360  # commercial calendar: 12 months of 30 days
DIAS_MES = 30
DIAS_QUINCENA = 15
_UNO_IVA = 1 + finanzas.IVA
_TASA_DEC = Decimal("0.00000001")

SEXO_TEXTO = {"H": "hombres", "M": "mujeres"}


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


def _dias(limite: Antiguedad) -> int:
    return limite.anios * DIAS_ANIO + limite.meses * DIAS_MES + limite.dias


def _antiguedad_de_dias(dias: int) -> Antiguedad:
    anios, resto = divmod(dias, DIAS_ANIO)
    meses, dias = divmod(resto, DIAS_MES)
    return Antiguedad(anios=anios, meses=meses, dias=dias)


def texto_antiguedad_corto(a: Antiguedad) -> str:
    """'28 años', '28 años y 6 meses', '29 años, 2 meses y 15 días' (zero parts left out)."""
    partes = [
        texto
        for n, uno, varios in ((a.anios, "año", "años"), (a.meses, "mes", "meses"), (a.dias, "día", "días"))
        if n
        for texto in [f"{n} {uno if n == 1 else varios}"]
    ]
    if not partes:
        return "0 días"
    return partes[0] if len(partes) == 1 else ", ".join(partes[:-1]) + " y " + partes[-1]


@lru_cache(maxsize=4096)
def plazo_maximo_por_limite(anios: Decimal, limite: Antiguedad) -> int:
    """Longest plazo with cotización + plazo strictly under `limite` (may be <= 0)."""
    holgura = (Decimal(_dias(limite)) - anios * DIAS_ANIO) / DIAS_QUINCENA
    return math.ceil(holgura) - 1


def _plazo_maximo(
    p: Producto, *, tipo: str, anios: Decimal | None, sexo: str | None, plazo: int, avisos: list[str]
) -> int:
    """The longest plazo this person may take; raises if `plazo` breaks a rule."""
    nombre = p.nombre.lower()
    if tipo == "pensionado":
        maximo = p.plazo.maximo_pensionado
        if plazo > maximo:
            raise ReglaIncumplida(f"Para pensionados el plazo máximo del {nombre} es de {maximo} quincenas.", "plazo_excedido")
        return maximo

    if p.plazo.maximo is not None:
        maximo = p.plazo.maximo
        if plazo > maximo:
            rango = (
                f"es de {maximo} quincenas"
                if p.plazo.minimo == maximo
                else f"va de {p.plazo.minimo} a {maximo} quincenas"
            )
            raise ReglaIncumplida(f"El plazo del {nombre} {rango}.", "plazo_excedido")
    else:
        niveles = p.plazo.maximo_por_antiguedad or []
        if anios is None:
            maximo = niveles[0].maximo or 0
            if plazo > maximo:
                siguiente = next((n for n in niveles if (n.maximo or 0) >= plazo), niveles[-1])
                umbral = siguiente.desde_anios if siguiente.desde_anios is not None else siguiente.mas_de_anios
                raise ReglaIncumplida(
                    f"Sin sus años de cotización podemos simular hasta {maximo} quincenas. "
                    f"Con {texto_anios(umbral or Decimal(0))} o más de cotización el plazo máximo es de "
                    f"{siguiente.maximo} quincenas; díganos cuántos años ha cotizado.",
                    "faltan_anios_cotizacion",
                )
            avisos.append(f"Sin sus años de cotización calculamos con el plazo máximo más corto, {maximo} quincenas.")
        else:
            maximo = _nivel(niveles, anios).maximo or 0
            if plazo > maximo:
                raise ReglaIncumplida(
                    f"Con {texto_anios(anios)} de cotización el plazo máximo es de {maximo} quincenas.",
                    "plazo_excedido",
                )

    limites = p.limite_cotizacion_mas_plazo
    if limites and anios is None:
        _avisar_limite_sin_anios(p, limites=limites, sexo=sexo, plazo=plazo, avisos=avisos)
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
            raise ReglaIncumplida(
                f"Con {texto_anios(anios)} de cotización, su cotización más el plazo debe ser menor a {partes}; {cierre}",
                "cotizacion_mas_plazo",
            )
        if any(plazo > m for m in candidatos.values()):
            raise ReglaIncumplida(
                f"Con {texto_anios(anios)} de cotización ese plazo depende de si usted es hombre o mujer; "
                "indíquenos su sexo como aparece en su CURP, H o M.",
                "falta_sexo",
            )
        maximo = min(maximo, *candidatos.values())
    return maximo


def _avisar_limite_sin_anios(
    p: Producto, *, limites: Mapping[Sexo, Antiguedad], sexo: str | None, plazo: int, avisos: list[str]
) -> None:
    """Without años de cotización the cotización + plazo rule cannot be checked.

    The answer still comes (años are optional in the request) but says, in an aviso,
    up to how many years of cotización this plazo is allowed; a plazo that nobody
    with the product's minimum cotización could take is refused.
    """
    candidatos = {s: lim for s, lim in limites.items() if sexo in (None, s)} or dict(limites)
    quincenas = "1 quincena" if plazo == 1 else f"{plazo} quincenas"
    # cotización + plazo < límite, in commercial days: cotización <= límite - plazo - 1 day.
    tope = {s: _dias(lim) - plazo * DIAS_QUINCENA - 1 for s, lim in candidatos.items()}
    minimo = p.antiguedad_minima_anios * DIAS_ANIO
    if all(t < minimo for t in tope.values()):
        partes = " o ".join(f"{texto_antiguedad(limites[s])} para {SEXO_TEXTO[s]}" for s in candidatos)
        raise ReglaIncumplida(
            f"Con {quincenas}, la cotización más el plazo pasaría de {partes} "
            f"aun con la cotización mínima de {texto_anios(p.antiguedad_minima_anios)}; elija un plazo menor.",
            "cotizacion_mas_plazo",
        )
    limite_txt = " o ".join(f"{texto_antiguedad(limites[s])} para {SEXO_TEXTO[s]}" for s in candidatos)
    if len(tope) == 1:
        ((_, t),) = tope.items()
        si_pasa = f"si usted tiene más de {texto_antiguedad_corto(_antiguedad_de_dias(t))} de cotización"
    else:
        si_pasa = "si usted tiene más de " + " o más de ".join(
            f"{texto_antiguedad_corto(_antiguedad_de_dias(t))} de cotización ({SEXO_TEXTO[s]})" for s, t in tope.items()
        )
    avisos.append(
        f"Supusimos que su cotización más el plazo queda debajo de {limite_txt}: con {quincenas}, "
        f"{si_pasa}, ese plazo no le corresponde; díganos sus años de cotización para confirmarlo."
    )


def plazo_maximo_permitido(
    *, producto: str, tipo: str, anios_cotizacion: Decimal, sexo: str | None, ruta: Path = RUTA_CATALOGO
) -> int:
    """The longest plazo the product's rules allow this person (0 when none does).

    The same checks as `simular` (tipo, antigüedad mínima, tiers, cotización +
    plazo), without the maths; the synthetic seed uses it to grant only loans a
    simulation would allow.
    """
    p = obtener_producto(clave=producto, ruta=ruta)
    anios = Decimal(anios_cotizacion)
    if tipo not in p.tipos or (tipo == "asegurado" and anios < p.antiguedad_minima_anios):
        return 0
    try:
        maximo = _plazo_maximo(p, tipo=tipo, anios=anios, sexo=sexo, plazo=p.plazo.minimo, avisos=[])
    except ErrorDominio:
        return 0
    return maximo if maximo >= p.plazo.minimo else 0


def totales_amortizacion(
    monto: Decimal, tasa_anual: Decimal, plazo: int, descuento: Decimal, *, con_iva: bool = True
) -> tuple[Decimal, Decimal, Decimal]:
    """(total pagado, intereses, IVA) of `finanzas.tabla_amortizacion` without building rows.

    Hand-written twin of that loop because the simulation answers ~1,000 requests/s
    and most of them do not ask for the table; tests check both agree to the cent.
    """
    i = tasa_anual / finanzas.QUINCENAS_POR_ANIO
    factor_iva = finanzas.IVA if con_iva else Decimal(0)
    inicial = monto.quantize(finanzas.CENT, rounding=ROUND_HALF_UP)
    rapido = _totales_en_centavos(inicial, i, plazo, descuento, factor_iva)
    if rapido is not None:
        return rapido
    return _totales_decimal(inicial, i, plazo, descuento, factor_iva)


def _totales_decimal(
    inicial: Decimal, i: Decimal, plazo: int, descuento: Decimal, factor_iva: Decimal
) -> tuple[Decimal, Decimal, Decimal]:
    """The rows' arithmetic in Decimal, exactly as finanzas.tabla_amortizacion does it."""
    cent, modo = finanzas.CENT, ROUND_HALF_UP
    saldo = inicial
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


def _centavos(valor: Decimal) -> int | None:
    """`valor` as a whole number of cents (exactly, whatever the context), or None
    when it is not finite or has fractions of a cent."""
    signo, digitos, exponente = valor.as_tuple()
    if not isinstance(exponente, int):
        return None
    n = int("".join(map(str, digitos)) or "0") * (-1 if signo else 1)
    if exponente >= -2:
        return n * 10 ** (exponente + 2)
    resto = 10 ** (-2 - exponente)
    return n // resto if n % resto == 0 else None


def _totales_en_centavos(
    inicial: Decimal, i: Decimal, plazo: int, descuento: Decimal, factor_iva: Decimal
) -> tuple[Decimal, Decimal, Decimal] | None:
    """`_totales_decimal` in integer cents: 2-3x faster, and provably the same cents.

    Amounts are whole cents, so `saldo * i` is exactly saldo·n / 10^k cents (i = n/10^k)
    and the IVA is exactly interés·iva/100 (iva in hundredths). The one inexact step
    of the Decimal loop is the context's rounding of `saldo * i` to `prec` digits
    before the rounding to cents; it can move the cent only when the exact product
    lies within one ulp of a half cent, and those rows are computed with Decimal
    itself. (They are not rare: 0.16/24 = 1/150, so every saldo of 75 cents mod 150
    earns exactly half a cent.) Returns None when an input is not in whole cents or
    the discount does not amortise the loan; the Decimal loop answers then.
    """
    signo, digitos, exponente = i.as_tuple()
    saldo0, pago, iva_c = _centavos(inicial), _centavos(descuento), _centavos(factor_iva)
    if signo or not isinstance(exponente, int) or exponente >= 0 or saldo0 is None or pago is None or iva_c is None:
        return None
    if saldo0 < 0 or iva_c < 0:
        return None
    n = int("".join(map(str, digitos)))  # i = n / 10**k exactly, k = -exponente
    escala = 10**-exponente  # product units per cent
    medio = escala // 2  # half a cent (k >= 1, so exact)
    # One ulp of the largest product (the first row's; the saldo only goes down).
    exceso = len(str(saldo0 * n)) - decimal.getcontext().prec
    ulp = 10**exceso if exceso > 0 else 0
    # Remainders in [dudoso_desde, dudoso_hasta] go to Decimal (none when products are exact).
    dudoso_desde, dudoso_hasta = (medio - ulp, medio + ulp) if ulp else (escala, -1)
    cent, modo = finanzas.CENT, ROUND_HALF_UP
    saldo = saldo0
    intereses = ivas = 0
    for k in range(1, plazo + 1):
        interes, resto = divmod(saldo * n, escala)
        if dudoso_desde <= resto <= dudoso_hasta:
            interes = int((Decimal(saldo).scaleb(-2) * i).quantize(cent, rounding=modo).scaleb(2))
        elif resto >= medio:
            interes += 1
        iva = (interes * iva_c + 50) // 100
        intereses += interes
        ivas += iva
        capital = pago - interes - iva
        if k == plazo or capital >= saldo:
            break
        if capital < 0:
            return None  # the discount does not cover the interest: not a loan we simulate
        saldo -= capital
    return (
        Decimal(saldo0 + intereses + ivas).scaleb(-2),
        Decimal(intereses).scaleb(-2),
        Decimal(ivas).scaleb(-2),
    )


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
            f"Para el {nombre} se necesita al menos {texto_anios(p.antiguedad_minima_anios)} de cotización; "
            f"usted tiene {texto_anios(anios)}.",
            "antiguedad_insuficiente",
        )
    if tipo == "asegurado" and anios is None:
        avisos.append(f"Para el {nombre} se necesita al menos {texto_anios(p.antiguedad_minima_anios)} de cotización.")
    plazo_maximo = _plazo_maximo(p, tipo=tipo, anios=anios, sexo=sexo, plazo=plazo, avisos=avisos)
    if plazo < p.plazo.minimo:
        raise ReglaIncumplida(f"El plazo mínimo del {nombre} es de {p.plazo.minimo} quincenas.", "plazo_insuficiente")

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
