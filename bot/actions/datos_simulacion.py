"""Everything a message says about a simulation, wherever it says it.

"si cobro 14 mil al mes, ¿cuánto me dan a 48 quincenas? ya estoy jubilado"
carries the sueldo, the plazo and the tipo; "es el primero, no es renovación"
a first loan; "no soy pensionado" an asegurado. `leer_datos` reads them all
from one message so a form starts prefilled from the message that opened it,
takes several values in one answer and recomputes a correction.

The NLU's entities (monto, plazo, tipo_derechohabiente, tipo_prestamo, anios)
are used when the text itself says nothing clearer. Numbers are told apart by
their unit ("quincenas", "meses", "años de cotización", "mil", "$") and the
categorical values by keywords with their negation ("no es renovación").
Hand-written: no library tags the units of Spanish loan vocabulary, and the
NLU alone would confuse "36" (plazo) with "36 años" (cotización).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, Dict, Iterable, List, Optional, Tuple

from bot.actions.formato import dinero
from bot.actions.lectura import leer_monto, numeros_en_cifras, texto_de
from bot.texto import sin_acentos

SUELDO_MINIMO = Decimal(1000)  # a monthly sueldo under this is a plazo or a digit, not pesos

# A negation reaches its keyword across a few function words, not across punctuation.
_NO = (r"\b(?:no|ni|tampoco)\s+"
       r"(?:(?:es|soy|sea|era|estoy|he|fue|me|lo|la|el|un|una|mi|ninguna?|tengo|sido)\s+){0,3}")

_PENSIONADO = r"(?:pensionad[oa]s?|jubilad[oa]s?|pension\b|retirad[oa])"
_ASEGURADO = (
    r"(?:asegurad[oa]s?|trabajador[a]?\s+(?:en\s+)?activ[oa]|en\s+activo|activ[oa]\b|sigo\s+trabajando|"
    r"todavia\s+trabajo|aun\s+trabajo|estoy\s+trabajando|trabajador[a]?\s+del\s+estado|"
    r"trabajo\s+(?:en|para)\s+(?:el\s+|la\s+|una\s+)?(?:gobierno|dependencia|secretaria|escuela|issste))"
)
_RENOVACION = (
    r"(?:renov\w*|segund[oa]|otra\s+vez|ya\s+(?:he\s+)?(?:tuve|tenido|tengo|pedi|saque)\b|"
    r"ya\s+(?:habia|he)\s+(?:pedido|sacado)|otro\s+(?:credito|prestamo)\s+antes)"
)
_PRIMERO = (
    r"(?:primer[oa]?\b|primera\s+vez|nuevo\b|nunca\b|es\s+el\s+1\b|\b1\s?(?:er|ro|ra|o|a)\b|"
    r"no\s+he\s+tenido|ninguno\s+antes)"
)

_UNIDAD_PLAZO = r"(?:quincenas?|qnas?|meses|mes|anos?)"
_COTIZACION = (r"(?:de\s+)?(?:cotiz\w*|trabaj\w*|servicio|antiguedad|laborando|cotizad\w*|"
               r"en\s+el\s+(?:issste|gobierno))")


def _normal(texto: str) -> str:
    return re.sub(r"\s+", " ", sin_acentos(texto.lower())).strip()


def _afirmado(texto: str, patron: str) -> Optional[bool]:
    """True when the text says the keyword, False when it says it negated, None when silent."""
    negado = re.search(_NO + patron, texto)
    if negado:
        resto = texto[:negado.start()] + " " + texto[negado.end():]
        return bool(re.search(patron, resto))
    return True if re.search(patron, texto) else None


def leer_tipo(texto: str) -> Optional[str]:
    """'asegurado' / 'pensionado' as said (or denied), or None."""
    t = _normal(texto)
    if re.fullmatch(r"(?:soy\s+)?(?:un\s+|una\s+)?(?:asegurad[oa]|activ[oa])", t):
        return "asegurado"
    pensionado = _afirmado(t, _PENSIONADO)
    asegurado = _afirmado(t, _ASEGURADO)
    if pensionado is True and asegurado is not True:
        return "pensionado"
    if asegurado is True and pensionado is not True:
        return "asegurado"
    if pensionado is False and asegurado is None:
        return "asegurado"  # "no soy pensionado": a worker
    if asegurado is False and pensionado is None:
        return "pensionado"  # "ya no trabajo", "no estoy en activo"
    return None


def leer_renovacion_dicha(texto: str) -> Optional[bool]:
    """True for a renovación, False for a first loan, as said (or denied), or None."""
    t = _normal(texto)
    renovacion = _afirmado(t, _RENOVACION)
    primero = _afirmado(t, _PRIMERO)
    if primero is True and renovacion is not True:
        return False
    if renovacion is True and primero is not True:
        return True
    if renovacion is False and primero is None:
        return False  # "no es renovación"
    if primero is False and renovacion is None:
        return True  # "no es el primero"
    return None


def _spans(patron: str, texto: str) -> List[Tuple[int, int, re.Match[str]]]:
    return [(m.start(), m.end(), m) for m in re.finditer(patron, texto)]


def _libre(inicio: int, fin: int, usados: Iterable[Tuple[int, int]]) -> bool:
    return all(fin <= a or inicio >= b for a, b in usados)


def _en_cifras(texto: str) -> str:
    """Lowercase, no accents, every number as digits ("catorce mil" -> "14000")."""
    t = re.sub(r"(?<=\d),(?=\d{3}\b)", "", _normal(texto))  # 15,500 -> 15500
    # "14 mil" / "15.5 mil" -> 14000 / 15500 before text2num reads "mil" as 1000.
    t = re.sub(r"(?<![a-z0-9.])(\d+(?:[.,]\d+)?)\s*mil\b",
               lambda m: f"{Decimal(m.group(1).replace(',', '.')) * 1000:f}".split(".")[0], t)
    t = numeros_en_cifras(t)
    # "20000 500" (veinte mil quinientos) -> 20500, unless the second number has its own unit.
    t = re.sub(
        r"(?<![a-z0-9.])(\d+000)\s+(?:y\s+)?(\d{1,3})(?![\d.])(?!\s*" + _UNIDAD_PLAZO + r"\b)",
        lambda m: str(int(m.group(1)) + int(m.group(2))),
        t,
    )
    return t


# An amount: "$12,690.80", "12690.80", "14000" (from "14 mil"), "500 pesos"; centavos after it.
_MONTO = (r"\$\s?\d+(?:\.\d{1,2})?(?![a-z0-9])|(?<![a-z0-9.])\d{4,}(?:\.\d{1,2})?(?![a-z0-9])"
          r"|(?<![a-z0-9.])\d+(?:\.\d{1,2})?\s*pesos")


def _montos(t: str, usados: List[Tuple[int, int]]) -> Iterable[Tuple[int, int, Decimal, str]]:
    """(start, end, amount, what follows) of each amount in `t` outside the spans used."""
    for a, b, m in _spans(_MONTO, t):
        if not _libre(a, b, usados):
            continue
        cola = t[b:b + 40]
        centavos = re.match(r"\s*(?:pesos?\s+)?con\s+(\d{1,2})\s*(?:centavos?)?", cola)
        monto = leer_monto(m.group(0) + (f" con {centavos.group(1)} centavos" if centavos else ""))
        if monto is not None:
            yield a, b, monto, cola


def monto_dicho(texto: Any, minimo: Decimal) -> Optional[Decimal]:
    """The first amount of at least `minimo` said in a sentence
    ("kiero pagar 2000 de mi préstamo")."""
    return next((m for _, _, m, _ in _montos(_en_cifras(texto_de(texto)), []) if m >= minimo), None)


def leer_numeros(texto: str) -> Dict[str, Any]:
    """sueldo (Decimal, monthly), plazo (quincenas) and anios (cotización) said with their units."""
    t = _en_cifras(texto)
    datos: Dict[str, Any] = {}
    usados: List[Tuple[int, int]] = []

    # Años de cotización: "12 años de cotización", "llevo 12 años", "cotizo desde hace 12 años".
    for a, b, m in _spans(
        r"(?:(?:tengo|llevo|cumplo|con|hace)\s+)?(\d{1,2})\s*anos?\s*"
        + _COTIZACION
        + r"|(?:llevo|cumplo)\s+(\d{1,2})\s*anos?\b"
        + r"|(?:cotiz\w*|antiguedad)\D{0,25}?(\d{1,2})\s*anos?",
        t,
    ):
        anios = int(next(g for g in m.groups() if g))
        if 1 <= anios <= 50:
            datos.setdefault("anios", anios)
        usados.append((a, b))

    # Plazo: "48 quincenas", "a 36", "18 meses" (36), "a 3 años" (72).
    for a, b, m in _spans(r"(?<![a-z0-9.])(\d{1,3})\s*" + _UNIDAD_PLAZO + r"\b", t):
        if not _libre(a, b, usados):
            continue
        n, unidad = int(m.group(1)), m.group(0)
        if re.search(r"\banos?\b", unidad):
            if not re.search(r"\b(?:a|en|plazo\s+de|por|de)\s+$", t[max(0, a - 12):a]):
                continue  # "56 años" of age or of service: not a plazo
            n *= 24
        elif re.search(r"\bmes(es)?\b", unidad):
            n *= 2
        datos.setdefault("plazo", n)
        usados.append((a, b))
    if "plazo" not in datos:
        suelto = re.search(r"\b(?:a|en|plazo\s+de)\s+(\d{1,2})\s*(?:$|[,.?!]|\by\b)", t)
        if (
            suelto
            and _libre(suelto.start(), suelto.end(), usados)
            and 1 <= int(suelto.group(1)) <= 96
        ):
            datos["plazo"] = int(suelto.group(1))
            usados.append((suelto.start(), suelto.end()))

    # Sueldo: "14 mil", "$12,690.80", "12690.80", "quince mil pesos con 50 centavos".
    for a, b, monto, cola in _montos(t, usados):
        if monto < SUELDO_MINIMO:
            continue
        if re.match(
            r"\s*(?:pesos\s+)?(?:a\s+la|por|cada)\s+quincena\b|\s*(?:pesos\s+)?quincenal", cola
        ):
            monto *= 2  # the backend takes the monthly sueldo base
        datos.setdefault("sueldo", monto)
        usados.append((a, b))
    return datos


def _de_entidades(entidades: Iterable[Dict[str, Any]]) -> Dict[str, Any]:
    datos: Dict[str, Any] = {}
    for e in entidades or []:
        nombre, valor = e.get("entity"), e.get("value")
        if nombre == "tipo_derechohabiente" and valor in ("asegurado", "pensionado"):
            datos.setdefault("tipo", valor)
        elif nombre == "tipo_prestamo" and valor in ("primero", "renovacion"):
            datos.setdefault("renovacion", valor == "renovacion")
        elif nombre == "anios":
            n = re.search(r"\d+", numeros_en_cifras(_normal(texto_de(valor))))
            if n and 1 <= int(n.group(0)) <= 50:
                datos.setdefault("anios", int(n.group(0)))
        elif nombre in ("monto", "plazo"):
            datos.setdefault(f"_{nombre}", valor)
    return datos


def leer_datos(texto: Any, entidades: Iterable[Dict[str, Any]] = ()) -> Dict[str, Any]:
    """Every simulation value the message says: sueldo (Decimal), plazo (int),
    tipo ('asegurado'/'pensionado'), renovacion (bool), anios (int)."""
    texto = texto_de(texto)
    if not texto or texto.startswith("/"):
        texto = ""
    datos = leer_numeros(texto)
    tipo = leer_tipo(texto)
    if tipo:
        datos["tipo"] = tipo
    renovacion = leer_renovacion_dicha(texto)
    if renovacion is not None:
        datos["renovacion"] = renovacion
    de_nlu = _de_entidades(entidades)
    for clave in ("tipo", "renovacion", "anios"):
        if clave not in datos and clave in de_nlu:
            datos[clave] = de_nlu[clave]
    if "sueldo" not in datos and "_monto" in de_nlu:
        monto = leer_monto(de_nlu["_monto"])
        if monto is not None and monto >= SUELDO_MINIMO:
            datos["sueldo"] = monto
    if "plazo" not in datos and "_plazo" in de_nlu:
        plazo = leer_numeros(f"{texto_de(de_nlu['_plazo'])} quincenas").get("plazo")
        if plazo:
            datos["plazo"] = plazo
    return datos


def datos_del_mensaje(tracker: Any) -> Dict[str, Any]:
    """leer_datos over the tracker's latest user message."""
    mensaje = tracker.latest_message or {}
    return leer_datos(mensaje.get("text"), mensaje.get("entities") or [])


def leer_renovacion(valor: Any) -> Optional[bool]:
    """The answer to "¿primer préstamo o renovación?": 1 / 2 (marked or tapped),
    a bool already read, or said. True for a renovación, None when unclear."""
    if isinstance(valor, bool):
        return valor
    texto = _normal(texto_de(valor)).strip(" .")
    if texto in ("2", "dos"):
        return True
    if texto in ("1", "uno"):
        return False
    return leer_renovacion_dicha(texto)


def leer_tipo_respuesta(valor: Any) -> Optional[str]:
    """The answer to "¿en activo o pensionado?": 1 / 2 (marked or tapped) or said."""
    texto = _normal(texto_de(valor)).strip(" .")
    if texto in ("1", "uno"):
        return "asegurado"
    if texto in ("2", "dos"):
        return "pensionado"
    return leer_tipo(texto)


_DATO_A_SLOT = {"sueldo": "sueldo", "plazo": "plazo", "tipo": "tipo_derechohabiente",
                "renovacion": "renovacion", "anios": "anios_cotizacion"}


def slots_dichos(tracker: Any) -> Dict[str, Any]:
    """The simulation slots the latest message says, whatever the question was."""
    return {
        _DATO_A_SLOT[k]: (str(v) if k == "sueldo" else v)
        for k, v in datos_del_mensaje(tracker).items()
    }


def resumen(
    *,
    renovacion: Optional[bool],
    tipo: Optional[str],
    plazo: Any,
    sueldo: Any,
    sexo: Optional[str] = None,
) -> str:
    """The values a result depends on, in one short line: "primer préstamo,
    pensionada, 36 quincenas, sueldo mensual de $12,690.80"."""
    partes = []
    if renovacion is not None:
        partes.append("renovación" if renovacion else "primer préstamo")
    if tipo in ("asegurado", "pensionado"):
        partes.append(f"{tipo[:-1]}a" if sexo == "M" else tipo)  # asegurada / pensionada
    if plazo:
        partes.append(f"{plazo} quincenas")
    if sueldo:
        partes.append(f"sueldo mensual de {dinero(sueldo)}")
    return ", ".join(partes)
