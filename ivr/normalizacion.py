"""Spoken input -> the normalised values the bot accepts.

Twilio's es-MX speech recogniser gives us text like "ce ce tres cu zeta ocho",
"be de burro", "cuarenta y ocho veintiuno" or "veintisiete de abril de mil
novecientos cincuenta y seis". Numbers in words go through text2num
(`alpha2digit`); Spanish letter names and the "be de burro" style of spelling
have no library, so they are a table here. CURP check digits use python-stdnum.

Free speech stays free speech: only what is plausibly the value a prompt asks
for (or an utterance that is a number) is rewritten; "no me acuerdo de la
clave" or "quiero hablar con una persona" reach the bot as said.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
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


def numeros_a_digitos(texto: str, umbral: int = 0) -> str:
    """'quince mil quinientos' -> '15500' (text2num). `umbral=0` converts every
    number, even 'uno'; `umbral=2` leaves a lone 'un'/'una'/'uno' as a word, so
    'espere un momento' stays as said."""
    if not texto:
        return ""
    texto = re.sub(r"\bprimero\b", "uno", texto, flags=re.IGNORECASE)
    texto = re.sub(
        r"\b(veintidos|veintitres|veintiseis|dieciseis|veintiun|veintiún)\b",
        lambda m: _ACENTUADOS[m.group(1).lower()],
        texto,
        flags=re.IGNORECASE,
    )
    return alpha2digit(texto, "es", threshold=umbral)


@dataclass(frozen=True)
class _Token:
    crudo: str
    norma: str  # lower-case, no accents
    ini: int  # character offsets in the original text
    fin: int


@dataclass(frozen=True)
class _Pieza:
    """Consecutive tokens that spell something: `chars` are the characters
    spelled, "" for filler ("mi clave es"), None for a plain word ("quiero")."""

    ini: int  # token indexes [ini, fin)
    fin: int
    chars: str | None


def _tokens(texto: str) -> list[_Token]:
    """Words with their offsets; punctuation splits words."""
    return [_Token(m.group(0), sin_acentos(m.group(0)), m.start(), m.end()) for m in re.finditer(r"[\wñÑ]+", texto)]


def _piezas(palabras: list[_Token]) -> list[_Pieza]:
    """The one scanner for spelled speech (letter names, 'be de burro', numbers
    in words, characters the recogniser already wrote), word by word."""
    piezas: list[_Pieza] = []
    i = 0
    n = len(palabras)
    while i < n:
        crudo, p = palabras[i].crudo, palabras[i].norma
        siguiente = palabras[i + 1].norma if i + 1 < n else ""
        if (p, siguiente) in NOMBRES_COMPUESTOS:
            piezas.append(_Pieza(i, i + 2, NOMBRES_COMPUESTOS[(p, siguiente)]))
            i += 2
            continue
        if p in NOMBRES_LETRAS and p not in DIGITOS:
            letra = NOMBRES_LETRAS[p]
            # "be de burro": the word after "de" decides (b and v sound the same).
            if siguiente == "de" and i + 2 < n:
                palabra = palabras[i + 2].norma
                if (
                    len(palabra) >= 3
                    and palabra not in NOMBRES_LETRAS
                    and palabra not in {a for a, _ in NOMBRES_COMPUESTOS}  # "de doble u" is D, W
                    and palabra.isalpha()
                    and not _es_numero(palabra)
                    and _suenan_igual(letra, palabra[0].upper())
                ):
                    piezas.append(_Pieza(i, i + 3, palabra[0].upper()))
                    i += 3
                    continue
            piezas.append(_Pieza(i, i + 1, letra))
            i += 1
            continue
        if _es_numero(p):
            # Runs of number words go through text2num, which keeps "cuatro ocho"
            # as 4 8 and "cincuenta y seis cero cuatro" as 56 04.
            j = i
            while j < n and (
                _es_numero(palabras[j].norma)
                or (palabras[j].norma == "y" and j + 1 < n and _es_numero(palabras[j + 1].norma))
            ):
                # "treinta uno" (no "y") is two digits said apart, not 31
                if j > i and palabras[j].norma in DIGITOS and palabras[j - 1].norma in _DECENAS:
                    break
                j += 1
            grupo = " ".join(_ACENTUADOS.get(w.norma, w.norma) for w in palabras[i:j])
            piezas.append(_Pieza(i, j, re.sub(r"\D", "", numeros_a_digitos(grupo))))
            i = j
            continue
        if p in RELLENO:
            piezas.append(_Pieza(i, i + 1, ""))
        elif crudo.isdigit():
            piezas.append(_Pieza(i, i + 1, crudo))
        elif any(ch.isdigit() for ch in crudo) or (crudo.isupper() and crudo.isalpha()) or len(crudo) == 1:
            # the recogniser already wrote it as characters: "CC3QZ8", "HEGG", "Q"
            piezas.append(_Pieza(i, i + 1, crudo.upper()))
        else:
            piezas.append(_Pieza(i, i + 1, None))
        i += 1
    return piezas


def caracteres(texto: str) -> str:
    """Spelled speech -> the characters spelled, upper-case (other words are skipped).

    'ce ce tres cu zeta ocho' -> 'CC3QZ8'; 'be de burro, ve de vaca' -> 'BV';
    'hache e ge ge cincuenta y seis cero cuatro veintisiete' -> 'HEGG560427'.
    """
    return "".join(p.chars or "" for p in _piezas(_tokens(texto or "")))


def deletreo(texto: str) -> str | None:
    """The characters, only if the whole utterance is spelling (or filler such
    as 'mi clave es'); None as soon as it has a plain word: 'no me acuerdo',
    'espere un momento' and 'quiero un asesor' are words, not a clave or a NIP."""
    piezas = _piezas(_tokens(texto or ""))
    if any(p.chars is None for p in piezas):
        return None
    return "".join(p.chars or "" for p in piezas) or None


# Spanish function words that are also letter names: "la clave de mi cita es ..."
# starts with "de", which is not the first character of the clave.
_FUNCIONALES = {"de", "a", "e", "o"}
# Words that announce a code in free speech ("cancelar la cita ce ce tres...").
_CONTEXTO_CLAVE = {"clave", "cita", "citas"}
_CONTEXTO_CURP = {"curp"}


@dataclass(frozen=True)
class _Hallazgo:
    valor: str
    ini: int  # character offsets of what was spelled
    fin: int


def _buscar(texto: str, valida: Callable[[str], bool], *, contexto: set[str] | None = None) -> list[_Hallazgo]:
    """Spelled values in `texto` that pass `valida`, in order of appearance.

    A run is a stretch of spelled pieces and filler between plain words. A value
    may start at the run's first character or after filler, and end likewise;
    a function word next to filler is a connector, not a letter ("la clave de
    mi cita es ce ce tres..." is not "D..."). The longest valid values win,
    without overlapping. With `contexto`, a value counts only if one of those
    words comes before it in its run."""
    palabras = _tokens(texto or "")
    corridas: list[list[_Pieza]] = [[]]
    for pieza in _piezas(palabras):
        if pieza.chars is None:
            corridas.append([])
        else:
            corridas[-1].append(pieza)
    hallazgos: list[_Hallazgo] = []
    for corrida in corridas:
        for a, b, valor in _en_corrida(corrida, palabras, valida, contexto):
            hallazgos.append(_Hallazgo(valor, palabras[corrida[a].ini].ini, palabras[corrida[b].fin - 1].fin))
    return hallazgos


def _en_corrida(
    corrida: list[_Pieza], palabras: list[_Token], valida: Callable[[str], bool], contexto: set[str] | None
) -> list[tuple[int, int, str]]:
    """(first piece, last piece, value) of the valid values in one run."""
    llenas = [k for k, p in enumerate(corrida) if p.chars]
    if not llenas:
        return []
    relleno = [p.chars == "" for p in corrida]
    funcional = [p.fin - p.ini == 1 and palabras[p.ini].norma in _FUNCIONALES for p in corrida]
    ultimo = len(corrida) - 1
    inicios = [
        k for k in llenas
        if k == llenas[0] or relleno[k - 1] or (k >= 2 and funcional[k - 1] and relleno[k - 2])
    ]
    fines = [
        k for k in llenas
        if k == llenas[-1] or relleno[k + 1] or (k + 2 <= ultimo and funcional[k + 1] and relleno[k + 2])
    ]
    validos: list[tuple[int, int, str]] = []
    for a in inicios:
        if contexto is not None and not any(
            palabras[t].norma in contexto for p in corrida[:a] for t in range(p.ini, p.fin)
        ):
            continue
        for b in fines:
            if b >= a:
                valor = "".join(p.chars or "" for p in corrida[a : b + 1])
                if valida(valor):
                    validos.append((a, b, valor))
    elegidos: list[tuple[int, int, str]] = []
    for a, b, valor in sorted(validos, key=lambda v: (len(v[2]), v[1]), reverse=True):
        if all(b < a2 or a > b2 for a2, b2, _ in elegidos):
            elegidos.append((a, b, valor))
    return sorted(elegidos)


def _es_clave(valor: str) -> bool:
    return re.fullmatch(r"[A-Z0-9]{6}", valor) is not None


def _es_curp(valor: str) -> bool:
    return len(valor) == 18 and std_curp.is_valid(valor)


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
    """A 6-character cita clave (A–Z, 0–9) spelled in `texto` (the last one), or None."""
    hallazgos = _buscar(texto, _es_clave)
    return hallazgos[-1].valor if hallazgos else None


def curp(texto: str) -> str | None:
    """An 18-character CURP whose check digit is right, or None."""
    hallazgos = _buscar(texto, _es_curp)
    return hallazgos[-1].valor if hallazgos else None


def digitos(texto: str) -> str:
    """Only the digits said or typed: 'cuatro ocho dos uno' / 'cuarenta y ocho veintiuno' -> '4821'."""
    if re.fullmatch(r"[\d\s.,-]+", texto or ""):
        return re.sub(r"\D", "", texto)
    return re.sub(r"\D", "", caracteres(texto))


def nip(texto: str) -> str | None:
    """Four digits said or typed together ('mi nip es cuarenta y ocho veintiuno'), or None."""
    if re.fullmatch(r"[\d\s.,-]+", texto or ""):
        valor = re.sub(r"\D", "", texto)
        return valor if len(valor) == 4 else None
    hallazgos = _buscar(texto, lambda v: re.fullmatch(r"\d{4}", v) is not None)
    return hallazgos[-1].valor if hallazgos else None


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


def es_numero(texto: str) -> bool:
    """The whole utterance is a number, maybe with its unit: 'veinticuatro',
    'la opción dos', 'quince mil pesos', 'ocho años'. 'Con una persona' is not."""
    palabras = [t.norma for t in _tokens(texto or "")]
    numeros = [p for p in palabras if p.isdigit() or _es_numero(p) or p in _MILLONES]
    if not numeros or palabras[0] == "y":
        return False
    return all(p.isdigit() or _es_numero(p) or p in _MILLONES or p in _ACOMPANAN_NUMERO for p in palabras)


_MILLONES = {"millon", "millones", "y", "punto"}
_ACOMPANAN_NUMERO = {
    "pesos", "peso", "centavos", "centavo", "con", "quincenas", "quincena", "anos", "ano", "años", "año",
    "la", "el", "opcion", "numero", "de",
}
_RELLENO_OPCION = re.compile(r"\b(la|el|opci[oó]n|n[uú]mero)\b", re.IGNORECASE)


def _numerico(texto: str) -> str:
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


def entidades(texto: str) -> dict[str, str]:
    """Codes spelled inside free speech, as the bot's entities: a clave right
    after 'cita'/'clave' ('quiero cancelar la cita ce ce tres cu zeta ocho'),
    a CURP anywhere (its check digit makes a chance match negligible)."""
    encontradas: dict[str, str] = {}
    curps = _buscar(texto, _es_curp)
    if curps:
        encontradas["curp"] = curps[-1].valor
    claves = [h for h in _buscar(texto, _es_clave, contexto=_CONTEXTO_CLAVE) if not _es_curp(h.valor)]
    if claves:
        encontradas["clave_cita"] = claves[-1].valor
    return encontradas


def texto_libre(texto: str) -> str:
    """Free speech for the bot: the caller's own words. Only an utterance that
    is a number becomes digits ('la opción dos' -> '2'), and a clave or CURP
    spelled inside it is written compactly so the bot's NLU sees the entity
    ('cancelar la cita ce ce tres cu zeta ocho' -> 'cancelar la cita CC3QZ8')."""
    texto = (texto or "").strip()
    if not texto:
        return ""
    if es_numero(texto):
        return re.sub(r"\s+", " ", numeros_a_digitos(_RELLENO_OPCION.sub(" ", texto))).strip()
    hallazgos = _buscar(texto, _es_curp) + _buscar(texto, _es_clave, contexto=_CONTEXTO_CLAVE)
    # Replace from the end so earlier offsets stay valid; a CURP wins over a clave inside it.
    usados: list[_Hallazgo] = []
    for h in sorted(hallazgos, key=lambda h: (h.fin - h.ini), reverse=True):
        if all(h.fin <= u.ini or h.ini >= u.fin for u in usados):
            usados.append(h)
    for h in sorted(usados, key=lambda h: h.ini, reverse=True):
        texto = texto[: h.ini] + h.valor + texto[h.fin :]
    return texto


SLOTS_NUMERICOS = {"monto", "sueldo", "plazo", "anios_cotizacion"}


def para_slot(slot: str | None, texto: str, *, teclado: bool = False) -> str:
    """What the bot should receive for the slot it is asking for.

    Only a plausible value becomes the normalised value: a clave / CURP / NIP /
    date / amount that parses, or an utterance that is nothing but spelling
    (the bot's validator then says what is wrong with it: 'tiene seis
    caracteres'). Anything else is free speech and reaches the bot as the
    caller's words ('no me acuerdo de la clave', 'quiero hablar con un
    asesor', a question), so the bot can understand it. Keys are sent as digits.
    """
    texto = (texto or "").strip()
    if not texto:
        return ""
    if teclado:
        return re.sub(r"\D", "", texto) or texto
    if slot == "curp":
        return curp(texto) or deletreo(texto) or texto_libre(texto)
    if slot == "clave_cita":
        return clave_cita(texto) or deletreo(texto) or texto_libre(texto)
    if slot == "nip":
        valor = nip(texto) or deletreo(texto)
        return valor if valor and valor.isdigit() else texto_libre(texto)
    if slot == "fecha_nacimiento":
        dia = fecha(texto)
        return dia.strftime("%d/%m/%Y") if dia else texto_libre(texto)
    if slot in {"monto", "sueldo"}:
        cantidad = monto(texto)
        if cantidad is None:
            return texto_libre(texto)
        return str(int(cantidad)) if cantidad == cantidad.to_integral_value() else str(cantidad)
    if slot in SLOTS_NUMERICOS:
        return _numerico(texto)
    return texto_libre(texto)
