"""Spoken numbers and amounts: 'cuarenta y ocho veintiuno', 'quince mil pesos'.

Numbers in words go through text2num (`alpha2digit`); the tables here only
say which words are numbers, so the spelling scanner (`ivr/claves.py`) can
group them.
"""

from __future__ import annotations

import re
from decimal import Decimal

from text_to_num import alpha2digit

from habla.cifras import ACENTUADOS as ACENTOS_DE_TEXT2NUM
from habla.cifras import miles_en_cifras, para_text2num
from ivr.palabras import tokens

DIGITOS: dict[str, str] = {
    "cero": "0", "uno": "1", "una": "1", "un": "1", "dos": "2", "tres": "3",
    "cuatro": "4", "cinco": "5", "seis": "6", "siete": "7", "ocho": "8", "nueve": "9",
}
NUMEROS_PALABRA = {
    "diez", "once", "doce", "trece", "catorce", "quince", "dieciseis", "diecisiete",
    "dieciocho", "diecinueve", "veinte", "veintiuno", "veintiun", "veintidos", "veintitres",
    "veinticuatro", "veinticinco", "veintiseis", "veintisiete", "veintiocho",
    "veintinueve", "treinta", "cuarenta", "cincuenta", "sesenta", "setenta", "ochenta",
    "noventa", "cien", "ciento", "doscientos", "trescientos", "cuatrocientos",
    "quinientos", "seiscientos", "setecientos", "ochocientos", "novecientos", "mil",
    "dieci", "veinti",
}
# claves.py also reads a lone "un" as one; the rest is habla's list (text2num's accents).
ACENTUADOS = {**ACENTOS_DE_TEXT2NUM, "un": "uno"}
DECENAS = {
    "diez", "veinte", "treinta", "cuarenta", "cincuenta", "sesenta", "setenta", "ochenta",
    "noventa",
}
_MILLONES = {"millon", "millones", "y", "punto"}
_ACOMPANAN_NUMERO = {
    "pesos", "peso", "centavos", "centavo", "con", "quincenas", "quincena", "anos", "ano",
    "años", "año", "la", "el", "opcion", "numero", "de",
}
RELLENO_OPCION = re.compile(r"\b(la|el|opci[oó]n|n[uú]mero)\b", re.IGNORECASE)


def es_palabra_numero(palabra: str) -> bool:
    """A number word, accents already folded: 'cuarenta', 'dos', 'veinti'."""
    return palabra in NUMEROS_PALABRA or palabra in DIGITOS


def numeros_a_digitos(texto: str, umbral: int = 0) -> str:
    """'quince mil quinientos' -> '15500' (text2num). `umbral=0` converts every
    number, even 'uno'; `umbral=2` leaves a lone 'un'/'una'/'uno' as a word, so
    'espere un momento' stays as said."""
    if not texto:
        return ""
    texto = re.sub(r"\bprimero\b", "uno", texto, flags=re.IGNORECASE)
    return alpha2digit(para_text2num(texto), "es", threshold=umbral)


def es_numero(texto: str) -> bool:
    """The whole utterance is a number, maybe with its unit: 'veinticuatro',
    'la opción dos', 'quince mil pesos', 'ocho años'. 'Con una persona' is not."""
    palabras = [t.norma for t in tokens(texto)]
    numeros = [p for p in palabras if p.isdigit() or es_palabra_numero(p) or p in _MILLONES]
    if not numeros or palabras[0] == "y":
        return False
    return all(
        p.isdigit() or es_palabra_numero(p) or p in _MILLONES or p in _ACOMPANAN_NUMERO
        for p in palabras
    )


def numerico(texto: str) -> str:
    """A numeric answer: numbers as digits; a lone 'un'/'una' in a sentence stays a word."""
    return numeros_a_digitos(texto, umbral=0 if es_numero(texto) else 2)


def monto(texto: str) -> Decimal | None:
    """'quince mil quinientos' -> 15500; 'once mil trescientos veinte pesos con
    siete centavos' -> 11320.07; '$15,500.50' -> 15500.50. 'Con una persona' is
    no amount: a lone article counts only when the utterance is a number."""
    if not texto:
        return None
    if not es_numero(texto) and not re.search(r"\d", numeros_a_digitos(texto, umbral=2)):
        return None
    limpio = texto.lower()
    centavos = Decimal(0)
    # "... con siete centavos", or "... pesos con cincuenta" (the centavos unsaid).
    m = re.search(r"\bcon\s+(.+?)\s+centavos?\b", limpio) or re.search(
        r"\bpesos?\s+con\s+(.+)$", limpio
    )
    if m:
        c = re.sub(r"\D", "", numeros_a_digitos(m.group(1)))
        if c:
            centavos = Decimal(int(c)) / 100
        limpio = limpio[: m.start()]
    limpio = re.sub(r"\b(pesos?|mxn|moneda nacional|m\.?n\.?)\b", " ", limpio)
    limpio = numeros_a_digitos(miles_en_cifras(limpio))  # "15 mil" is 15000, not 15
    m = re.search(r"\$?\s*(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?", limpio)
    if not m:
        return None
    entero = Decimal(m.group(1).replace(",", ""))
    if m.group(2):
        entero += Decimal(m.group(2).ljust(2, "0")) / 100
    cantidad = (entero + centavos).quantize(Decimal("0.01"))
    return cantidad if cantidad > 0 else None  # "cero pesos" is no amount
