"""Text rules the bot's actions and channels share, each in one place: the
shape of a CURP and how it is masked, CAPP's phone line and mail, and (from
habla/, shared with the IVR) accents and words. Plain Python (no Rasa import),
so any process on the Rasa side can use it; the backend keeps its own CURP
mask (backend/privacy.py), tied to this one by tests/test_una_regla.py. The
phone line is spelled as in tests/linea_capp.json, which ties the backend, the
IVR and the texts to it."""

from __future__ import annotations

import re
from typing import Optional

# Re-exported: the bot's modules import them from here.
from habla.texto import palabras as palabras
from habla.texto import sin_acentos as sin_acentos

# CAPP's phone line and mail (seed 001; citas: seed 003).
NUMERO_CAPP = "55 4000 1000"
E164_CAPP = "+525540001000"
LINEA_CAPP = f"ISSSTETEL {NUMERO_CAPP}, opción 5"
LINEA_CITAS = f"Línea ASISSSTE {NUMERO_CAPP}, opción 5, submenú 1"
CORREO_CAPP = "capp@issste.gob.mx"

# CURP shape (4 letters, birth date, sex H/M/X, state, consonants, homoclave, digit),
# in any case, not glued to other letters or digits.
CURP_RE = re.compile(
    r"(?<![A-Za-z0-9])[A-Za-z]{4}\d{6}[HMXhmx][A-Za-z]{5}[A-Za-z0-9]\d(?![A-Za-z0-9])"
)


def mascara_curp(curp: Optional[str]) -> str:
    """`HEGG560427MVZRRL04` -> `HEGG************04` (the backend masks it the same way)."""
    if not curp:
        return ""
    curp = curp.strip().upper()
    if len(curp) <= 6:
        return "*" * len(curp)
    return curp[:4] + "*" * (len(curp) - 6) + curp[-2:]
