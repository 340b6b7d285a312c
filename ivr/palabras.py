"""Words of an utterance: accent folding and tokens with their offsets."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass


def sin_acentos(texto: str) -> str:
    """Lower-case and drop accents but keep ñ."""
    texto = texto.lower().replace("ñ", "\0")
    texto = unicodedata.normalize("NFD", texto)
    texto = "".join(c for c in texto if unicodedata.category(c) != "Mn")
    return texto.replace("\0", "ñ")


@dataclass(frozen=True)
class Token:
    crudo: str
    norma: str  # lower-case, no accents
    ini: int  # character offsets in the original text
    fin: int


def tokens(texto: str) -> list[Token]:
    """Words with their offsets; punctuation splits words."""
    return [
        Token(m.group(0), sin_acentos(m.group(0)), m.start(), m.end())
        for m in re.finditer(r"[\wñÑ]+", texto or "")
    ]
