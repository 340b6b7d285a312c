"""Text rules the bot's actions and channels share, each in one place: accents,
the shape of a CURP and how it is masked, CAPP's phone line and mail. Plain Python (no Rasa import), so any
process on the Rasa side can use it; the backend keeps its own copy
(backend/privacy.py), tied to this one by tests/test_una_regla.py. The phone line is spelled as in
tests/linea_capp.json, which ties the backend, the IVR and the texts to it."""

from __future__ import annotations

import re
import unicodedata
from typing import Optional

# CAPP's phone line and mail (seed 001; citas: seed 003).
NUMERO_CAPP = "55 4000 1000"
E164_CAPP = "+525540001000"
LINEA_CAPP = f"ISSSTETEL {NUMERO_CAPP}, opción 5"
LINEA_CITAS = f"Línea ASISSSTE {NUMERO_CAPP}, opción 5, submenú 1"
CORREO_CAPP = "capp@issste.gob.mx"

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
