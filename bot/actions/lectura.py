"""Reading what the person typed, tapped or said: codes, amounts, whole
numbers, plazos and dates, with spoken numbers turned into digits first."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Dict, Optional
from zoneinfo import ZoneInfo

import dateparser
from text_to_num import alpha2digit

from bot.texto import sin_acentos
from habla.cifras import para_text2num


def texto_de(valor: Any) -> str:
    """A slot candidate as text (entities may arrive as lists)."""
    if isinstance(valor, list):
        valor = valor[0] if valor else ""
    return "" if valor is None else str(valor).strip()


def normalizar_codigo(valor: Any) -> str:
    """CURP / clave as typed or transcribed: uppercase, no spaces or dashes."""
    return re.sub(r"[\s\-\.]", "", texto_de(valor)).upper()


def solo_digitos(valor: Any) -> str:
    return re.sub(r"\D", "", texto_de(valor))


def numeros_en_cifras(texto: str) -> str:
    """Spoken numbers as digits ("veintisiete" -> "27", "dos" -> "2", "primero" -> "1")."""
    texto = re.sub(r"\bprimer[oa]?\b", "1", texto)
    texto = alpha2digit(para_text2num(texto), "es", threshold=0)  # "veintidos" as "veintidós"
    # Ordinal marks text2num or the user leave behind: "1º", "1°", "1ro", "1o".
    return re.sub(r"\b(\d{1,2})(?:º|°|ro|er|o)(?=\s|$)", r"\1", texto)


def _cantidad(texto: str) -> Optional[Decimal]:
    """An amount of pesos written or said without centavos -> Decimal, or None."""
    texto = re.sub(r"\$|\bpesos?\b|\bmxn\b|\bm\.?n\.?\b", " ", texto)
    texto = re.sub(r"(?<=\d),(?=\d{3}\b)", "", texto)  # 15,500 -> 15500
    miles = re.search(r"(\d+(?:[.,]\d+)?)\s*mil\b(.*)", texto)
    if miles:
        # "15 mil", "15.5 mil", "20 mil quinientos": text2num reads words only,
        # so digits followed by "mil" would come out as "15 1000".
        try:
            base = Decimal(miles.group(1).replace(",", ".")) * 1000
        except InvalidOperation:
            return None
        resto = re.match(r"\s*(?:y\s+)?(\d+)\b", numeros_en_cifras(miles.group(2)))
        if resto and int(resto.group(1)) < 1000:
            base += int(resto.group(1))
        return base
    numero = re.search(r"\d+(?:\.\d{1,2})?", numeros_en_cifras(texto))
    if not numero:
        return None
    try:
        return Decimal(numero.group(0))
    except InvalidOperation:
        return None


def leer_monto(valor: Any) -> Optional[Decimal]:
    """'15500', '$15,500.00', '15 mil', 'quince mil pesos', 'once mil trescientos
    veinte pesos con siete centavos' -> Decimal with cents, or None."""
    texto = sin_acentos(texto_de(valor).lower()).strip()
    if not texto:
        return None
    if not re.search(r"\d", alpha2digit(para_text2num(texto), "es", threshold=2)):
        return None  # "con una persona": a lone article is no amount
    centavos = Decimal(0)
    # "... con siete centavos" / "... pesos con ochenta": text2num alone would turn
    # "centavos" into "1/100" and drop the cents, so the two parts are read apart.
    partes = re.match(
        r"(.*?)\s*\b(?:con|y)\s+([a-z0-9 ]+?)\s*(?:centavos?|ctvs?\.?|cts\.?)?\s*$", texto
    )
    if partes and ("centavo" in texto or re.search(r"\bpesos?\s+con\b", texto)):
        cent = re.fullmatch(r"\s*(\d{1,2})\s*", numeros_en_cifras(partes.group(2)))
        if not cent:
            return None
        centavos = Decimal(int(cent.group(1))) / 100
        texto = partes.group(1)
        pesos = _cantidad(texto) if texto.strip() else Decimal(0)
    else:
        pesos = _cantidad(texto)
    if pesos is None:
        return None
    monto = (pesos + centavos).quantize(Decimal("0.01"))
    return monto if monto > 0 else None


def leer_entero(valor: Any) -> Optional[int]:
    """'36', 'treinta y seis quincenas', 'dos años' -> the first whole number, or None."""
    numero = re.search(r"\d+", numeros_en_cifras(sin_acentos(texto_de(valor).lower())))
    return int(numero.group(0)) if numero else None


def leer_plazo(valor: Any) -> Optional[int]:
    """A plazo in quincenas: '36', 'treinta y seis quincenas', 'dos años' (48), '18 meses' (36)."""
    texto = sin_acentos(texto_de(valor).lower())
    numero = leer_entero(texto)
    if numero is None:
        return None
    if re.search(r"\banos?\b", texto):
        return numero * 24
    if re.search(r"\bmes(es)?\b", texto):
        return numero * 2
    return numero


# ------------------------------------------------------------------- dates
ZONA = ZoneInfo("America/Mexico_City")
_RELATIVOS = {"hoy": 0, "manana": 1, "pasado manana": 2}
# Words around a date that dateparser does not skip ("el jueves", "para el
# próximo martes", "el día 15 por favor"); a weekday alone already means the next one.
_RELLENO = re.compile(
    r"\b(?:el|la|los|para|por favor|porfa|xfa|dia|este|esta|proximo|proxima|siguiente|que viene|"
    r"que entra|mero|de preferencia|si se puede|puede ser|mejor|quiero|quisiera|cita)\b"
)
_DIAS = ("lunes", "martes", "miercoles", "jueves", "viernes", "sabado", "domingo")
_DIA_DE_LA_SEMANA = re.compile(r"\b(?:" + "|".join(_DIAS) + r")\b")


def hoy_mx() -> date:
    """Today in Mexico City (citas and the 36 h rule are on that clock)."""
    return datetime.now(ZONA).date()


def leer_fecha(valor: Any, *, hacia: str = "futuro", hoy: Optional[date] = None) -> Optional[date]:
    """A date as typed, tapped or said -> date, or None.

    `hacia="futuro"` (citas): 'jueves', 'el próximo martes', 'martes 18',
    'primero de junio', '15/03', 'mañana'. `hacia="pasado"` (birth dates): the
    year is required and two-digit years are in the past ('27 de abril del 56').
    dateparser reads the dates; text2num turns spoken numbers into digits.
    """
    texto = sin_acentos(texto_de(valor).lower()).strip(" .¿?¡!,")
    if not texto:
        return None
    hoy = hoy or hoy_mx()
    pasado = hacia == "pasado"
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", texto):
        try:
            fecha = date.fromisoformat(texto)
        except ValueError:
            return None
        return None if pasado and fecha > hoy else fecha
    if re.fullmatch(r"\d{8}", texto):
        # Keypad: DDMMAAAA (the IVR asks for eight digits).
        try:
            return date(int(texto[4:]), int(texto[2:4]), int(texto[:2]))
        except ValueError:
            return None
    if not pasado and texto in _RELATIVOS:
        return hoy + timedelta(days=_RELATIVOS[texto])
    texto = numeros_en_cifras(texto)
    texto = re.sub(r"\s+", " ", _RELLENO.sub(" ", texto)).strip(" ,")
    if re.search(r"\d", texto):
        # "martes 18", "viernes 20 de junio": the day number is the precise part.
        sin_dia = _DIA_DE_LA_SEMANA.sub(" ", texto).strip(" ,")
        texto = sin_dia or texto
    ajustes: Dict[str, Any] = {
        "PREFER_DATES_FROM": "past" if pasado else "future",
        "RELATIVE_BASE": datetime.combine(hoy, datetime.min.time()).replace(hour=12),
        "DATE_ORDER": "DMY",
        "RETURN_AS_TIMEZONE_AWARE": False,
    }
    if pasado:
        ajustes["REQUIRE_PARTS"] = ["day", "month", "year"]
    elif not any(d in texto for d in _DIAS) and not re.search(
        r"\bsemanas?\b|\bmanana\b|\bhoy\b", texto
    ):
        ajustes["REQUIRE_PARTS"] = ["day"]  # "junio" alone is not a day
    try:
        leida = dateparser.parse(texto, languages=["es"], settings=ajustes)
    except (ValueError, OverflowError):
        return None
    if leida is None:
        return None
    fecha = leida.date()
    if pasado and fecha > hoy:
        return None
    return fecha
