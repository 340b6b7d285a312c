"""The catalogue's rules for a person: which plazo they may take (tiers by
seniority, pensioners' maximum, cotización + plazo under a limit) and the
Spanish sentences that say why not. No maths of the loan here (see
backend/services/amortizacion.py) and no database.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from backend.services.errores import ErrorDominio, ReglaIncumplida
from backend.services.productos import (
    RUTA_CATALOGO,
    Antiguedad,
    Nivel,
    Producto,
    Sexo,
    obtener_producto,
)

DIAS_ANIO = 360  # commercial calendar: 12 months of 30 days
DIAS_MES = 30
DIAS_QUINCENA = 15

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


def nivel_de(niveles: Sequence[Nivel], anios: Decimal) -> Nivel:
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
        for n, uno, varios in (
            (a.anios, "año", "años"),
            (a.meses, "mes", "meses"),
            (a.dias, "día", "días"),
        )
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


def plazo_maximo_de(
    p: Producto,
    *,
    tipo: str,
    anios: Decimal | None,
    sexo: str | None,
    plazo: int,
    avisos: list[str],
) -> int:
    """The longest plazo this person may take; raises if `plazo` breaks a rule."""
    nombre = p.nombre.lower()
    if tipo == "pensionado":
        maximo = p.plazo.maximo_pensionado
        if plazo > maximo:
            raise ReglaIncumplida(
                f"Para pensionados el plazo máximo del {nombre} es de {maximo} quincenas.",
                "plazo_excedido",
            )
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
        niveles = p.plazo.maximo_por_antiguedad or ()
        if anios is None:
            maximo = niveles[0].maximo or 0
            if plazo > maximo:
                siguiente = next((n for n in niveles if (n.maximo or 0) >= plazo), niveles[-1])
                umbral = (
                    siguiente.desde_anios
                    if siguiente.desde_anios is not None
                    else siguiente.mas_de_anios
                )
                raise ReglaIncumplida(
                    f"Sin sus años de cotización podemos simular hasta {maximo} quincenas. Con "
                    f"{texto_anios(umbral or Decimal(0))} o más de cotización el plazo máximo es "
                    f"de {siguiente.maximo} quincenas; díganos cuántos años ha cotizado.",
                    "faltan_anios_cotizacion",
                )
            avisos.append(
                f"Sin sus años de cotización calculamos con el plazo máximo más corto, {maximo} "
                "quincenas."
            )
        else:
            maximo = nivel_de(niveles, anios).maximo or 0
            if plazo > maximo:
                raise ReglaIncumplida(
                    f"Con {texto_anios(anios)} de cotización el plazo máximo es de {maximo} "
                    "quincenas.",
                    "plazo_excedido",
                )

    limites = p.limite_cotizacion_mas_plazo
    if limites and anios is None:
        _avisar_limite_sin_anios(p, limites=limites, sexo=sexo, plazo=plazo, avisos=avisos)
    if limites and anios is not None:
        por_sexo = {s: plazo_maximo_por_limite(anios, lim) for s, lim in limites.items()}
        candidatos = {sexo: por_sexo[sexo]} if sexo in por_sexo else por_sexo
        if all(plazo > m for m in candidatos.values()):
            partes = " o ".join(
                f"{texto_antiguedad(limites[s])} para {SEXO_TEXTO[s]}" for s in candidatos
            )
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
                f"Con {texto_anios(anios)} de cotización, su cotización más el plazo debe ser "
                f"menor a {partes}; {cierre}",
                "cotizacion_mas_plazo",
            )
        if any(plazo > m for m in candidatos.values()):
            raise ReglaIncumplida(
                f"Con {texto_anios(anios)} de cotización ese plazo depende de si usted es hombre o "
                "mujer; indíquenos su sexo como aparece en su CURP, H o M.",
                "falta_sexo",
            )
        maximo = min(maximo, *candidatos.values())
    return maximo


def _avisar_limite_sin_anios(
    p: Producto,
    *,
    limites: Mapping[Sexo, Antiguedad],
    sexo: str | None,
    plazo: int,
    avisos: list[str],
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
        partes = " o ".join(
            f"{texto_antiguedad(limites[s])} para {SEXO_TEXTO[s]}" for s in candidatos
        )
        raise ReglaIncumplida(
            f"Con {quincenas}, la cotización más el plazo pasaría de {partes} aun con la "
            f"cotización mínima de {texto_anios(p.antiguedad_minima_anios)}; elija un plazo menor.",
            "cotizacion_mas_plazo",
        )
    limite_txt = " o ".join(
        f"{texto_antiguedad(limites[s])} para {SEXO_TEXTO[s]}" for s in candidatos
    )
    if len(tope) == 1:
        ((_, t),) = tope.items()
        si_pasa = (
            f"si usted tiene más de {texto_antiguedad_corto(_antiguedad_de_dias(t))} de cotización"
        )
    else:
        si_pasa = "si usted tiene más de " + " o más de ".join(
            f"{texto_antiguedad_corto(_antiguedad_de_dias(t))} de cotización ({SEXO_TEXTO[s]})"
            for s, t in tope.items()
        )
    avisos.append(
        f"Supusimos que su cotización más el plazo queda debajo de {limite_txt}: con {quincenas}, "
        f"{si_pasa}, ese plazo no le corresponde; díganos sus años de cotización para confirmarlo."
    )


def plazo_maximo_permitido(
    *,
    producto: str,
    tipo: str,
    anios_cotizacion: Decimal,
    sexo: str | None,
    ruta: Path = RUTA_CATALOGO,
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
        maximo = plazo_maximo_de(
            p, tipo=tipo, anios=anios, sexo=sexo, plazo=p.plazo.minimo, avisos=[]
        )
    except ErrorDominio:
        return 0
    return maximo if maximo >= p.plazo.minimo else 0
