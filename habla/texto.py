"""Accents and words, as typed or transcribed."""

from __future__ import annotations

import re
import unicodedata


def sin_acentos(texto: str) -> str:
    """'cuánto' -> 'cuanto' (the ñ keeps its letter: 'n'); case is kept."""
    return "".join(c for c in unicodedata.normalize("NFKD", texto) if not unicodedata.combining(c))


def palabras(texto: str) -> str:
    """Lowercase ASCII words, punctuation as spaces: how a spoken or typed option is compared."""
    return re.sub(r"\s+", " ", re.sub(r"[^a-z0-9 ]+", " ", sin_acentos(texto).lower())).strip()
