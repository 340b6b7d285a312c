"""Text rules the bot's actions and channels share, each in one place: accents,
the shape of a CURP and how it is masked. Plain Python (no Rasa import), so any
process on the Rasa side can use it; the backend keeps its own copy
(backend/privacy.py), tied to this one by tests/test_una_regla.py."""

from __future__ import annotations

import re
import unicodedata
from typing import Optional

# CURP shape (4 letters, birth date, sex H/M/X, state, consonants, homoclave, digit),
# in any case, not glued to other letters or digits.
CURP_RE = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{4}\d{6}[HMXhmx][A-Za-z]{5}[A-Za-z0-9]\d(?![A-Za-z0-9])")


def sin_acentos(texto: str) -> str:
    """'cuánto' -> 'cuanto' (the ñ keeps its letter: 'n')."""
    return "".join(c for c in unicodedata.normalize("NFKD", texto) if not unicodedata.combining(c))


def palabras(texto: str) -> str:
    """Lowercase ASCII words, punctuation as spaces: how a spoken or typed option is compared."""
    return re.sub(r"\s+", " ", re.sub(r"[^a-z0-9 ]+", " ", sin_acentos(texto).lower())).strip()


def mascara_curp(curp: Optional[str]) -> str:
    """`HEGG560427MVZRRL04` -> `HEGG************04` (the backend masks it the same way)."""
    if not curp:
        return ""
    curp = curp.strip().upper()
    if len(curp) <= 6:
        return "*" * len(curp)
    return curp[:4] + "*" * (len(curp) - 6) + curp[-2:]
