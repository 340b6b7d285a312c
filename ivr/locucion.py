"""What the caller hears: bot text -> speakable Spanish (es-MX).

Amounts are read as Mexicans say them ("once mil trescientos veinte pesos con
siete centavos"), dates in words ("treinta de enero de dos mil veinticuatro"),
claves letter by letter with pauses, and nothing that makes no sense aloud
(URLs, emoji, markdown, tokens). Numbers in words come from num2words; the
apocope of "uno" before a noun ("un peso", "veintiún pesos") is not something
num2words does outside its currency mode, so it is fixed here.

`para_voz()` returns *segments*: the TwiML renderer joins them with short
`<break>` pauses, which is how a clave gets spelled slowly.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from num2words import num2words

from habla.curp import CURP_RE

MESES = [
    "enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
    "septiembre", "octubre", "noviembre", "diciembre",
]
# How a letter is read when spelling a clave to a caller; B and V sound the
# same in Spanish, so they carry the usual "de burro / de vaca".
LETRAS_HABLADAS = {
    "A": "a", "B": "be de burro", "C": "ce", "D": "de", "E": "e", "F": "efe",
    "G": "ge", "H": "hache", "I": "i", "J": "jota", "K": "ka", "L": "ele", "M": "eme",
    "N": "ene", "Ñ": "eñe", "O": "o", "P": "pe", "Q": "cu", "R": "erre", "S": "ese",
    "T": "te", "U": "u", "V": "ve de vaca", "W": "doble u", "X": "equis",
    "Y": "i griega", "Z": "zeta",
}


def numero(n: int) -> str:
    n = int(n)
    if abs(n) >= 10**15:  # no amount or date is this long: an identifier, read digit by digit
        return ("menos " if n < 0 else "") + " ".join(
            num2words(int(d), lang="es") for d in str(abs(n))
        )
    return num2words(n, lang="es")


def _apocope(palabras: str) -> str:
    """'uno' before a masculine noun: 'veintiuno' -> 'veintiún', 'uno' -> 'un'."""
    palabras = re.sub(r"veintiuno$", "veintiún", palabras)
    return re.sub(r"\buno$", "un", palabras)


def dinero(valor: Decimal | float | int | str) -> str:
    """11320.07 -> 'once mil trescientos veinte pesos con siete centavos'."""
    cantidad = Decimal(str(valor)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    negativo = cantidad < 0
    cantidad = abs(cantidad)
    pesos = int(cantidad)
    centavos = int((cantidad - pesos) * 100)
    texto = _apocope(numero(pesos))
    if re.search(r"(millón|millones)$", texto):
        texto += " de"  # "un millón de pesos"
    texto += " peso" if pesos == 1 else " pesos"
    if centavos:
        texto += (
            " con " + _apocope(numero(centavos)) + (" centavo" if centavos == 1 else " centavos")
        )
    return ("menos " if negativo else "") + texto


def fecha(valor: date) -> str:
    """2024-01-30 -> 'treinta de enero de dos mil veinticuatro' (1 -> 'primero')."""
    dia = "primero" if valor.day == 1 else numero(valor.day)
    return f"{dia} de {MESES[valor.month - 1]} de {numero(valor.year)}"


def hora(h: int, m: int) -> str:
    """13:30 -> 'trece horas con treinta minutos' (24-hour clock, as on the hoja de cita)."""
    # "hora" is feminine: "una hora", "veintiuna horas"
    texto = "una hora" if h == 1 else re.sub(r"uno$", "una", numero(h)) + " horas"
    if m:
        texto += f" con {_apocope(numero(m))} minuto" + ("" if m == 1 else "s")
    return texto


def deletrear(clave: str) -> list[str]:
    """'CC3QZ8' -> ['ce', 'ce', 'tres', 'cu', 'zeta', 'ocho'] (one segment per character)."""
    salida = []
    for c in clave.upper():
        if c.isdigit():
            salida.append(numero(int(c)))
        elif c in LETRAS_HABLADAS:
            salida.append(LETRAS_HABLADAS[c])
    return salida


def _digitos_sueltos(grupo: str) -> str:
    return " ".join(numero(int(d)) for d in grupo if d.isdigit())


# --- cleaning ---------------------------------------------------------------

_URL = re.compile(
    r"(https?://\S+|www\.\S+|\b(?:[\w-]+\.)+(?:gob\.mx|com|mx|org|net)(?:/\S*)?)", re.I
)
_MD_LINK = re.compile(r"\[([^\]]+)\]\(([^)]+)\)")
_JWT = re.compile(r"\beyJ[\w-]+\.[\w-]+\.[\w-]*")
_EMAIL = re.compile(r"\b([\w.+-]+)@([\w-]+(?:\.[\w-]+)+)\b")


def _sin_emoji(texto: str) -> str:
    return "".join(
        c for c in texto
        if unicodedata.category(c) not in {"So", "Sk", "Cs", "Co", "Cn"}
        and not 0xFE00 <= ord(c) <= 0xFE0F and ord(c) != 0x200D
    )


def limpiar(texto: str) -> str:
    """Drop markdown, URLs, tokens and emoji; keep the words."""
    texto = _MD_LINK.sub(r"\1", texto)
    texto = _JWT.sub("", texto)
    texto = _EMAIL.sub(
        lambda m: (
            m.group(1).replace(".", " punto ") + " arroba " + m.group(2).replace(".", " punto ")
        ),
        texto,
    )
    texto = _URL.sub("", texto)
    texto = re.sub(r"```.*?```", "", texto, flags=re.S)
    texto = re.sub(r"[`*_#>|~]+", " ", texto)
    texto = re.sub(r"(?m)^\s*[-•]\s+", "", texto)
    # one line per idea in chat; aloud, each line is a sentence
    texto = re.sub(r"(?<![.,;:!?¿¡])\s*\n+\s*", ". ", texto.strip())
    texto = re.sub(r"\s*\n+\s*", " ", texto)
    texto = _sin_emoji(texto)
    texto = re.sub(r"\(\s*\)", "", texto)
    texto = re.sub(r"[ \t]+", " ", texto)
    texto = re.sub(r"\s+([,.;:])", r"\1", texto)
    return texto.strip()


# --- numbers, dates and claves inside free text ------------------------------

_DINERO = re.compile(r"\$\s?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?(?:\s*(?:MXN|M\.N\.|pesos))?")
_FECHA_DMY = re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b")
_FECHA_ISO = re.compile(
    r"\b(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::\d{2}(?:\.\d+)?)?(?:[+-]\d{2}:\d{2}|Z)?)?"
)
# "1 de diciembre de 2026" as the backend writes dates: the day in words, "primero" for 1.
_FECHA_LARGA = re.compile(
    r"\b([0-3]?\d)\s+de\s+(" + "|".join(MESES) + r")(?:\s+de(?:l)?\s+(\d{4}))?\b", re.I
)
_HORA = re.compile(r"\b([01]?\d|2[0-3]):([0-5]\d)(?::\d{2})?\s*(?:hrs\.?|horas|h\b)?", re.I)
_PORCIENTO = re.compile(r"(\d+(?:\.\d+)?)\s?%")
_TELEFONO = re.compile(r"\b\d{2,4}(?:[ -]\d{2,4}){2,}\b")
_CLAVE = re.compile(r"\b(?=[A-Z0-9]*\d)(?=[A-Z0-9]*[A-Z])[A-Z0-9]{6}\b")
# A token presented as a clave: right after "clave" / "clave de (su) cita" /
# "cita" (optionally "es", "número", ":"), whatever its mix of letters and
# digits; the backend's claves are random A–Z/0–9, so "KQWXZB" and "123456"
# happen. Also "C C 3 Q Z 8" / "C-C-3-Q-Z-8", already split by the bot.
_CLAVE_PRESENTADA = re.compile(
    r"(?i:\b(?:clave(?:\s+de(?:\s+(?:su|la|mi))?\s+cita)?|cita)\b(?:\s+(?:es|n[uú]mero|no\.))?[\s:,«\"'“(]*)"
    r"(?P<clave>\b[A-Z0-9]{6}\b|\b[A-Z0-9](?:[ -][A-Z0-9]){5}\b)"
)
_DECIMAL = re.compile(r"\b(\d+)\.(\d+)\b")
_ENTERO = re.compile(r"\b\d{1,3}(?:,\d{3})+\b|\b\d+\b")

PAUSA = "\u2016"
SIGLAS = {"ISSSTE", "ISSSTETEL", "ASISSSTE", "FOVISSSTE"}  # segment separator inside the pipeline


def _fecha_o_texto(d: int, m: int, a: int, original: str) -> str:
    try:
        return fecha(date(a, m, d))
    except ValueError:
        return original


def _fecha_iso(m: re.Match[str]) -> str:
    dicho = _fecha_o_texto(int(m.group(3)), int(m.group(2)), int(m.group(1)), m.group(0))
    if m.group(4) is not None:
        dicho += ", a las " + hora(int(m.group(4)), int(m.group(5)))
    return dicho


def _fecha_larga(m: re.Match[str]) -> str:
    dia, mes = int(m.group(1)), MESES.index(m.group(2).lower()) + 1
    if not 1 <= dia <= 31:
        return m.group(0)
    if m.group(3) is None:
        return ("primero" if dia == 1 else numero(dia)) + f" de {m.group(2)}"
    return _fecha_o_texto(dia, mes, int(m.group(3)), m.group(0))


# "1 quincena" is "una quincena", "1 préstamo" is "un préstamo" (and 21: "veintiuna",
# "veintiún"): num2words says "uno", which agrees with no noun.
_FEMENINOS = r"(?:quincenas?|citas?|horas?|semanas?|ventanillas?|oficinas?)"
_MASCULINOS = r"(?:préstamos?|movimientos?|días?|años?|mes|meses|minutos?|intentos?|créditos?)"


def _concordar_uno(texto: str) -> str:
    texto = re.sub(
        r"\b(veinti)?uno(?=\s+" + _FEMENINOS + r"\b)", lambda m: (m.group(1) or "") + "una", texto
    )
    texto = re.sub(r"\bveintiuno(?=\s+" + _MASCULINOS + r"\b)", "veintiún", texto)
    return re.sub(r"\buno(?=\s+" + _MASCULINOS + r"\b)", "un", texto)


def para_voz(texto: str) -> list[str]:
    """Bot text -> speakable segments (joined with short pauses when spoken)."""
    if not texto:
        return []
    texto = limpiar(texto)
    texto = _deletrear_claves_presentadas(texto)
    texto = _DINERO.sub(
        lambda m: dinero(m.group(1).replace(",", "") + "." + (m.group(2) or "0").ljust(2, "0")),
        texto,
    )
    texto = _FECHA_DMY.sub(
        lambda m: _fecha_o_texto(int(m.group(1)), int(m.group(2)), int(m.group(3)), m.group(0)),
        texto,
    )
    texto = _FECHA_ISO.sub(_fecha_iso, texto)
    texto = _FECHA_LARGA.sub(_fecha_larga, texto)
    texto = re.sub(
        r"\b([01]?\d|2[0-3]):([0-5]\d)\s*(?:hrs\.?|horas)?\s*-\s*([01]?\d|2[0-3]):([0-5]\d)\s*(?:hrs\.?|horas)?",
        lambda m: (
            f"{hora(int(m.group(1)), int(m.group(2)))} a {hora(int(m.group(3)), int(m.group(4)))}"
        ),
        texto,
    )
    texto = _HORA.sub(lambda m: hora(int(m.group(1)), int(m.group(2))), texto)
    texto = _PORCIENTO.sub(lambda m: _decimal(m.group(1)) + " por ciento", texto)
    texto = CURP_RE.sub(lambda m: PAUSA + PAUSA.join(deletrear(m.group(0))) + PAUSA, texto)
    texto = _CLAVE.sub(lambda m: PAUSA + PAUSA.join(deletrear(m.group(0))) + PAUSA, texto)
    texto = _TELEFONO.sub(
        lambda m: PAUSA.join(_digitos_sueltos(g) for g in re.split(r"[ -]", m.group(0))), texto
    )
    texto = _DECIMAL.sub(lambda m: _decimal(m.group(0)), texto)
    texto = _ENTERO.sub(lambda m: numero(int(m.group(0).replace(",", ""))), texto)
    texto = _concordar_uno(texto)
    # "CANCELADA" is a word, not an acronym to spell: speak long all-caps words as words
    texto = re.sub(
        r"\b[A-ZÁÉÍÓÚÑ]{5,}\b",
        lambda m: m.group(0) if m.group(0) in SIGLAS else m.group(0).lower(),
        texto,
    )
    # A segment keeps the stop (or ? !) that ends its sentence, so the voice
    # does not run two sentences together; commas and colons at the edges go.
    segmentos = [re.sub(r"\s+", " ", s).strip(" ,;:") for s in texto.split(PAUSA)]
    segmentos = [s.lstrip(". ") for s in segmentos]
    return [s for s in segmentos if s and re.search(r"\w", s)]


def _con_pausas(clave: str) -> str:
    return PAUSA + PAUSA.join(deletrear(re.sub(r"[ -]", "", clave))) + PAUSA


def _deletrear_claves_presentadas(texto: str) -> str:
    """Spell every clave presented as such, and its other mentions in the same
    message ("Su clave es KQWXZB. Le repito: KQWXZB."), before numbers and
    all-caps words are turned into words. After "clave" anything of the shape
    is spelled; after a bare "cita", an acronym ("ISSSTE") stays a word."""

    def es_clave(m: re.Match[str]) -> bool:
        contexto = m.group(0)[: m.start("clave") - m.start()]
        return "clave" in contexto.lower() or m.group("clave") not in SIGLAS

    claves = {
        re.sub(r"[ -]", "", m.group("clave"))
        for m in _CLAVE_PRESENTADA.finditer(texto)
        if es_clave(m)
    }
    if not claves:
        return texto

    def presentada(m: re.Match[str]) -> str:
        if not es_clave(m):
            return m.group(0)
        return m.group(0)[: m.start("clave") - m.start()] + _con_pausas(m.group("clave"))

    texto = _CLAVE_PRESENTADA.sub(presentada, texto)
    otras = re.compile(
        r"\b(?:" + "|".join(sorted(map(re.escape, claves), key=len, reverse=True)) + r")\b"
    )
    return otras.sub(lambda m: _con_pausas(m.group(0)), texto)


def _decimal(valor: str) -> str:
    try:
        d = Decimal(valor)
    except InvalidOperation:
        return valor
    if d == d.to_integral_value():
        return numero(int(d))
    entero, _, frac = valor.partition(".")
    decimales = _digitos_sueltos(frac) if frac.startswith("0") else numero(int(frac))
    return f"{numero(int(entero))} punto {decimales}"


def texto_plano(segmentos: list[str]) -> str:
    """Segments joined for logs and the terminal simulator."""
    return ", ".join(segmentos)
