"""Spelled speech: claves de cita, CURPs and NIPs said character by character.

Twilio's es-MX recogniser gives us "ce ce tres cu zeta ocho", "be de burro" or
"hache e ge ge cincuenta y seis cero cuatro". Spanish letter names and the
"be de burro" style of spelling have no library, so they are a table here;
runs of number words go through text2num (`ivr/numeros.py`); CURP check
digits use python-stdnum.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from stdnum.mx import curp as std_curp

from ivr.numeros import ACENTUADOS, DECENAS, DIGITOS, es_palabra_numero, numeros_a_digitos
from ivr.palabras import Token, tokens

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
# Words people put around what they spell; ignored when spelling.
RELLENO = {
    "mi", "su", "la", "el", "es", "son", "clave", "curp", "cita", "de", "del", "y",
    "letra", "letras", "numero", "numeros", "digito", "con", "nip", "este", "esta",
    "pues", "bueno", "eh", "mmm", "ah", "seria", "dice",
}
# Spanish function words that are also letter names: "la clave de mi cita es ..."
# starts with "de", which is not the first character of the clave.
_FUNCIONALES = {"de", "a", "e", "o"}
# Words that announce a code in free speech ("cancelar la cita ce ce tres...").
_CONTEXTO_CLAVE = {"clave", "cita", "citas"}
# Letters a listener (or a recogniser) confuses; "X de <palabra>" may correct within a group.
_HOMOFONOS = [set("BV"), set("CSZKQX"), set("GJH"), set("IY"), set("MN"), set("DT"), set("PT")]


@dataclass(frozen=True)
class _Pieza:
    """Consecutive tokens that spell something: `chars` are the characters
    spelled, "" for filler ("mi clave es"), None for a plain word ("quiero")."""

    ini: int  # token indexes [ini, fin)
    fin: int
    chars: str | None


@dataclass(frozen=True)
class _Hallazgo:
    valor: str
    ini: int  # character offsets of what was spelled
    fin: int


def _suenan_igual(dicha: str, inicial: str) -> bool:
    return dicha == inicial or any(dicha in g and inicial in g for g in _HOMOFONOS)


def _x_de_palabra(palabras: list[Token], i: int, letra: str) -> str | None:
    """'be de burro': the initial of the word after 'de', if it can correct `letra`."""
    if i + 2 >= len(palabras) or palabras[i + 1].norma != "de":
        return None
    palabra = palabras[i + 2].norma
    if (
        len(palabra) >= 3
        and palabra not in NOMBRES_LETRAS
        and palabra not in {a for a, _ in NOMBRES_COMPUESTOS}  # "de doble u" is D, W
        and palabra.isalpha()
        and not es_palabra_numero(palabra)
        and _suenan_igual(letra, palabra[0].upper())
    ):
        return palabra[0].upper()
    return None


def _fin_de_numero(palabras: list[Token], i: int) -> int:
    """End of the run of number words starting at `i` ("cincuenta y seis cero cuatro")."""
    n = len(palabras)
    j = i
    while j < n and (
        es_palabra_numero(palabras[j].norma)
        or (palabras[j].norma == "y" and j + 1 < n and es_palabra_numero(palabras[j + 1].norma))
    ):
        # "treinta uno" (no "y") is two digits said apart, not 31
        if j > i and palabras[j].norma in DIGITOS and palabras[j - 1].norma in DECENAS:
            break
        j += 1
    return j


def _piezas(palabras: list[Token]) -> list[_Pieza]:
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
            inicial = _x_de_palabra(palabras, i, NOMBRES_LETRAS[p])
            if inicial:
                piezas.append(_Pieza(i, i + 3, inicial))
                i += 3
            else:
                piezas.append(_Pieza(i, i + 1, NOMBRES_LETRAS[p]))
                i += 1
            continue
        if es_palabra_numero(p):
            # Runs of number words go through text2num, which keeps "cuatro ocho"
            # as 4 8 and "cincuenta y seis cero cuatro" as 56 04.
            j = _fin_de_numero(palabras, i)
            grupo = " ".join(ACENTUADOS.get(w.norma, w.norma) for w in palabras[i:j])
            piezas.append(_Pieza(i, j, re.sub(r"\D", "", numeros_a_digitos(grupo))))
            i = j
            continue
        if p in RELLENO:
            piezas.append(_Pieza(i, i + 1, ""))
        elif crudo.isdigit():
            piezas.append(_Pieza(i, i + 1, crudo))
        elif (
            any(ch.isdigit() for ch in crudo)
            or (crudo.isupper() and crudo.isalpha())
            or len(crudo) == 1
        ):
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
    return "".join(p.chars or "" for p in _piezas(tokens(texto)))


def deletreo(texto: str) -> str | None:
    """The characters, only if the whole utterance is spelling (or filler such
    as 'mi clave es'); None as soon as it has a plain word: 'no me acuerdo',
    'espere un momento' and 'quiero un asesor' are words, not a clave or a NIP."""
    piezas = _piezas(tokens(texto))
    if any(p.chars is None for p in piezas):
        return None
    return "".join(p.chars or "" for p in piezas) or None


def _buscar(
    texto: str, valida: Callable[[str], bool], *, contexto: set[str] | None = None
) -> list[_Hallazgo]:
    """Spelled values in `texto` that pass `valida`, in order of appearance.

    A run is a stretch of spelled pieces and filler between plain words. A value
    may start at the run's first character or after filler, and end likewise;
    a function word next to filler is a connector, not a letter ("la clave de
    mi cita es ce ce tres..." is not "D..."). The longest valid values win,
    without overlapping. With `contexto`, a value counts only if one of those
    words comes before it in its run."""
    palabras = tokens(texto)
    corridas: list[list[_Pieza]] = [[]]
    for pieza in _piezas(palabras):
        if pieza.chars is None:
            corridas.append([])
        else:
            corridas[-1].append(pieza)
    hallazgos: list[_Hallazgo] = []
    for corrida in corridas:
        for a, b, valor in _en_corrida(corrida, palabras, valida, contexto):
            inicio, fin = palabras[corrida[a].ini].ini, palabras[corrida[b].fin - 1].fin
            hallazgos.append(_Hallazgo(valor, inicio, fin))
    return hallazgos


def _en_corrida(
    corrida: list[_Pieza],
    palabras: list[Token],
    valida: Callable[[str], bool],
    contexto: set[str] | None,
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
        if k == llenas[-1]
        or relleno[k + 1]
        or (k + 2 <= ultimo and funcional[k + 1] and relleno[k + 2])
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


def clave_cita(texto: str) -> str | None:
    """A 6-character cita clave (A–Z, 0–9) spelled in `texto` (the last one), or None."""
    hallazgos = _buscar(texto, _es_clave)
    return hallazgos[-1].valor if hallazgos else None


def curp(texto: str) -> str | None:
    """An 18-character CURP whose check digit is right, or None."""
    hallazgos = _buscar(texto, _es_curp)
    return hallazgos[-1].valor if hallazgos else None


def nip(texto: str) -> str | None:
    """Four digits said or typed together ('mi nip es cuarenta y ocho veintiuno'), or None."""
    if re.fullmatch(r"[\d\s.,-]+", texto or ""):
        valor = re.sub(r"\D", "", texto)
        return valor if len(valor) == 4 else None
    hallazgos = _buscar(texto, lambda v: re.fullmatch(r"\d{4}", v) is not None)
    return hallazgos[-1].valor if hallazgos else None


def compactar(texto: str) -> str:
    """A clave or CURP spelled inside free speech, written compactly so the
    bot's NLU sees the entity ('cancelar la cita ce ce tres cu zeta ocho' ->
    'cancelar la cita CC3QZ8'); the other words stay as said."""
    hallazgos = _buscar(texto, _es_curp) + _buscar(texto, _es_clave, contexto=_CONTEXTO_CLAVE)
    # Replace from the end so earlier offsets stay valid; a CURP wins over a clave inside it.
    usados: list[_Hallazgo] = []
    for h in sorted(hallazgos, key=lambda h: (h.fin - h.ini), reverse=True):
        if all(h.fin <= u.ini or h.ini >= u.fin for u in usados):
            usados.append(h)
    for h in sorted(usados, key=lambda h: h.ini, reverse=True):
        texto = texto[: h.ini] + h.valor + texto[h.fin :]
    return texto
