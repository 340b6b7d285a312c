"""Spoken input -> the normalised values the bot accepts.

Twilio's es-MX speech recogniser gives us text like "ce ce tres cu zeta ocho",
"be de burro", "cuarenta y ocho veintiuno" or "veintisiete de abril de mil
novecientos cincuenta y seis". Numbers in words go through text2num
(`alpha2digit`); Spanish letter names and the "be de burro" style of spelling
have no library, so they are a table here. CURP check digits use python-stdnum.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from decimal import Decimal

from stdnum.mx import curp as std_curp
from text_to_num import alpha2digit

# Spanish letter names as Mexicans say them, plus what the recogniser tends to
# write for them ("se" for "ce", "seta" for "zeta"). No library covers this.
NOMBRES_LETRAS: dict[str, str] = {
    "a": "A", "be": "B", "ve": "V", "uve": "V", "ce": "C", "se": "C", "de": "D",
    "e": "E", "efe": "F", "ge": "G", "je": "G", "hache": "H", "ache": "H", "i": "I",
    "jota": "J", "ka": "K", "ca": "K", "ele": "L", "eme": "M", "ene": "N", "eñe": "Ñ",
    "o": "O", "pe": "P", "cu": "Q", "ku": "Q", "erre": "R", "ere": "R", "ese": "S",
    "te": "T", "u": "U", "equis": "X", "ye": "Y", "zeta": "Z", "seta": "Z",
    "ceta": "Z", "zeda": "Z",
}
# Two-word names and the "tall/short" way of telling B from V.
NOMBRES_COMPUESTOS: dict[tuple[str, str], str] = {
    ("doble", "u"): "W", ("doble", "ve"): "W", ("doble", "uve"): "W",
    ("i", "griega"): "Y", ("i", "latina"): "I",
    ("be", "grande"): "B", ("be", "larga"): "B", ("be", "alta"): "B",
    ("ve", "chica"): "V", ("ve", "corta"): "V", ("ve", "baja"): "V",
    ("ve", "pequena"): "V", ("ve", "chiquita"): "V",
}
DIGITOS: dict[str, str] = {
    "cero": "0", "uno": "1", "una": "1", "un": "1", "dos": "2", "tres": "3",
    "cuatro": "4", "cinco": "5", "seis": "6", "siete": "7", "ocho": "8", "nueve": "9",
}
# Words people put around what they spell; ignored when spelling.
RELLENO = {
    "mi", "su", "la", "el", "es", "son", "clave", "curp", "cita", "de", "del", "y",
    "letra", "letras", "numero", "numeros", "digito", "con", "nip", "este", "esta",
    "pues", "bueno", "eh", "mmm", "ah", "seria", "dice",
}
MESES: dict[str, int] = {
    "enero": 1, "febrero": 2, "marzo": 3, "abril": 4, "mayo": 5, "junio": 6,
    "julio": 7, "agosto": 8, "septiembre": 9, "setiembre": 9, "octubre": 10,
    "noviembre": 11, "diciembre": 12,
}


def sin_acentos(texto: str) -> str:
    """Lower-case and drop accents but keep ñ."""
    texto = texto.lower().replace("ñ", "\0")
    texto = unicodedata.normalize("NFD", texto)
    texto = "".join(c for c in texto if unicodedata.category(c) != "Mn")
    return texto.replace("\0", "ñ")


def numeros_a_digitos(texto: str) -> str:
    """'quince mil quinientos' -> '15500' (text2num, every number, even 'uno')."""
    if not texto:
        return ""
    texto = re.sub(r"\bprimero\b", "uno", texto, flags=re.IGNORECASE)
    texto = re.sub(
        r"\b(veintidos|veintitres|veintiseis|dieciseis|veintiun|veintiún)\b",
        lambda m: _ACENTUADOS[m.group(1).lower()],
        texto,
        flags=re.IGNORECASE,
    )
    return alpha2digit(texto, "es", threshold=0)


def _tokens(texto: str) -> list[tuple[str, str]]:
    """(original, normalised) word pairs; punctuation splits words."""
    crudos = re.findall(r"[\wñÑ]+", texto)
    return [(c, sin_acentos(c)) for c in crudos]


def caracteres(texto: str) -> str:
    """Spelled speech -> the characters spelled, upper-case.

    'ce ce tres cu zeta ocho' -> 'CC3QZ8'; 'be de burro, ve de vaca' -> 'BV';
    'hache e ge ge cincuenta y seis cero cuatro veintisiete' -> 'HEGG560427'.
    """
    if not texto:
        return ""
    # Runs of number words go through text2num, which keeps "cuatro ocho" as 4 8
    # and "cincuenta y seis cero cuatro" as 56 04.
    palabras = _tokens(texto)
    salida: list[str] = []
    i = 0
    n = len(palabras)
    while i < n:
        crudo, p = palabras[i]
        siguiente = palabras[i + 1][1] if i + 1 < n else ""
        if (p, siguiente) in NOMBRES_COMPUESTOS:
            salida.append(NOMBRES_COMPUESTOS[(p, siguiente)])
            i += 2
            continue
        if p in NOMBRES_LETRAS and p not in DIGITOS:
            letra = NOMBRES_LETRAS[p]
            # "be de burro": the word after "de" decides (b and v sound the same).
            if siguiente == "de" and i + 2 < n:
                palabra = palabras[i + 2][1]
                if (
                    len(palabra) >= 3
                    and palabra not in NOMBRES_LETRAS
                    and palabra not in {a for a, _ in NOMBRES_COMPUESTOS}  # "de doble u" is D, W
                    and palabra.isalpha()
                    and not _es_numero(palabra)
                    and _suenan_igual(letra, palabra[0].upper())
                ):
                    salida.append(palabra[0].upper())
                    i += 3
                    continue
            salida.append(letra)
            i += 1
            continue
        if _es_numero(p):
            # a run of number words ("cincuenta y seis") -> its digits
            j = i
            while j < n and (
                _es_numero(palabras[j][1])
                or (palabras[j][1] == "y" and j + 1 < n and _es_numero(palabras[j + 1][1]))
            ):
                # "treinta uno" (no "y") is two digits said apart, not 31
                if j > i and palabras[j][1] in DIGITOS and palabras[j - 1][1] in _DECENAS:
                    break
                j += 1
            grupo = " ".join(_ACENTUADOS.get(w, w) for _, w in palabras[i:j])
            convertido = numeros_a_digitos(grupo)
            salida.append(re.sub(r"\D", "", convertido))
            i = j
            continue
        if p in RELLENO:
            pass
        elif crudo.isdigit():
            salida.append(crudo)
        elif any(ch.isdigit() for ch in crudo) or (crudo.isupper() and crudo.isalpha()) or len(crudo) == 1:
            # the recogniser already wrote it as characters: "CC3QZ8", "HEGG", "Q"
            salida.append(crudo.upper())
        # anything else is filler ("mi clave es ...")
        i += 1
    return "".join(salida)


_NUMEROS_PALABRA = {
    "diez", "once", "doce", "trece", "catorce", "quince", "dieciseis", "diecisiete",
    "dieciocho", "diecinueve", "veinte", "veintiuno", "veintiun", "veintidos", "veintitres",
    "veinticuatro", "veinticinco", "veintiseis", "veintisiete", "veintiocho",
    "veintinueve", "treinta", "cuarenta", "cincuenta", "sesenta", "setenta", "ochenta",
    "noventa", "cien", "ciento", "doscientos", "trescientos", "cuatrocientos",
    "quinientos", "seiscientos", "setecientos", "ochocientos", "novecientos", "mil",
    "dieci", "veinti",
}


# text2num wants the written accents; recognisers sometimes drop them.
_ACENTUADOS = {
    "veintidos": "veintidós", "veintitres": "veintitrés", "veintiseis": "veintiséis",
    "dieciseis": "dieciséis", "veintiun": "veintiuno", "veintiún": "veintiuno", "un": "uno",
}
_DECENAS = {"diez", "veinte", "treinta", "cuarenta", "cincuenta", "sesenta", "setenta", "ochenta", "noventa"}


def _es_numero(palabra: str) -> bool:
    return palabra in _NUMEROS_PALABRA or palabra in DIGITOS


# Letters a listener (or a recogniser) confuses; "X de <palabra>" may correct within a group.
_HOMOFONOS = [set("BV"), set("CSZKQX"), set("GJH"), set("IY"), set("MN"), set("DT"), set("PT")]


def _suenan_igual(dicha: str, inicial: str) -> bool:
    return dicha == inicial or any(dicha in g and inicial in g for g in _HOMOFONOS)


def clave_cita(texto: str) -> str | None:
    """A 6-character cita clave (A–Z, 0–9) or None."""
    valor = caracteres(texto)
    return valor if re.fullmatch(r"[A-Z0-9]{6}", valor) else None


def curp(texto: str) -> str | None:
    """An 18-character CURP whose check digit is right, or None."""
    valor = caracteres(texto)
    if len(valor) != 18:
        return None
    return valor if std_curp.is_valid(valor) else None


def digitos(texto: str) -> str:
    """Only the digits said or typed: 'cuatro ocho dos uno' / 'cuarenta y ocho veintiuno' -> '4821'."""
    if re.fullmatch(r"[\d\s.,-]+", texto or ""):
        return re.sub(r"\D", "", texto)
    return re.sub(r"\D", "", caracteres(texto))


def nip(texto: str) -> str | None:
    valor = digitos(texto)
    return valor if re.fullmatch(r"\d{4}", valor) else None


def fecha(texto: str) -> date | None:
    """'veintisiete de abril de mil novecientos cincuenta y seis', '27/04/1956',
    '27 04 1956' or the keypad's '27041956' -> a date (day first, as in Mexico)."""
    if not texto:
        return None
    limpio = sin_acentos(numeros_a_digitos(texto))
    limpio = re.sub(r"(\d+)\s*º", r"\1", limpio)
    m = re.search(r"\b(\d{1,2})\s+(?:de\s+)?([a-z]+)\s+(?:de\s+|del\s+)?(\d{4})\b", limpio)
    if m and m.group(2) in MESES:
        partes = (int(m.group(1)), MESES[m.group(2)], int(m.group(3)))
    else:
        m = re.search(r"\b(\d{1,2})[\s/.-]+(\d{1,2})[\s/.-]+(\d{4})\b", limpio)
        if m:
            partes = (int(m.group(1)), int(m.group(2)), int(m.group(3)))
        else:
            solo = re.sub(r"\D", "", limpio)
            if len(solo) != 8:
                return None
            partes = (int(solo[:2]), int(solo[2:4]), int(solo[4:]))
    dia, mes, anio = partes
    try:
        return date(anio, mes, dia)
    except ValueError:
        return None


def monto(texto: str) -> Decimal | None:
    """'quince mil quinientos' -> 15500; 'once mil trescientos veinte pesos con
    siete centavos' -> 11320.07; '$15,500.50' -> 15500.50."""
    if not texto:
        return None
    limpio = texto.lower()
    centavos = Decimal(0)
    m = re.search(r"\bcon\s+(.+?)\s+centavos?\b", limpio)
    if m:
        c = re.sub(r"\D", "", numeros_a_digitos(m.group(1)))
        if c:
            centavos = Decimal(int(c)) / 100
        limpio = limpio[: m.start()]
    limpio = re.sub(r"\b(pesos?|mxn|moneda nacional|m\.?n\.?)\b", " ", limpio)
    limpio = numeros_a_digitos(limpio)
    m = re.search(r"\$?\s*(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?", limpio)
    if not m:
        return None
    entero = Decimal(m.group(1).replace(",", ""))
    if m.group(2):
        entero += Decimal(m.group(2).ljust(2, "0")) / 100
    return (entero + centavos).quantize(Decimal("0.01"))


def para_slot(slot: str | None, texto: str, *, teclado: bool = False) -> str:
    """What the bot should receive for the slot it is asking for.

    Falls back to the text itself (numbers as digits) when the value cannot be
    normalised: the bot's validator then asks again in its own words.
    """
    texto = (texto or "").strip()
    if not texto:
        return ""
    if slot == "curp":
        return curp(texto) or caracteres(texto) or texto
    if slot == "clave_cita":
        return clave_cita(texto) or caracteres(texto) or texto
    if slot == "nip":
        return nip(texto) or digitos(texto) or texto
    if slot == "fecha_nacimiento":
        if teclado:
            return re.sub(r"\D", "", texto)
        dia = fecha(texto)
        return dia.strftime("%d/%m/%Y") if dia else texto
    if slot in {"monto", "sueldo"}:
        if teclado:
            return re.sub(r"\D", "", texto)
        cantidad = monto(texto)
        if cantidad is None:
            return texto
        return str(int(cantidad)) if cantidad == cantidad.to_integral_value() else str(cantidad)
    if slot == "plazo":
        return digitos(texto) or texto
    return numeros_a_digitos(texto)
