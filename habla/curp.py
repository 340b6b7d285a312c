"""The shape of a CURP and how it is masked: one home for the backend, the bot
and the IVR (tests/mascara_curp_casos.json is run against it from both Python
environments)."""

from __future__ import annotations

import re

# 4 letters, birth date, sex H/M/X (RENAPO's non-binary marker since 2023), state,
# consonants, homoclave, digit; in any case ("hegg560427mvzrrl04" is still a CURP),
# not glued to other letters or digits.
CURP_RE = re.compile(
    r"(?<![A-Za-z0-9])[A-Za-z]{4}\d{6}[HMXhmx][A-Za-z]{5}[A-Za-z0-9]\d(?![A-Za-z0-9])"
)


def mascara_curp(curp: str | None) -> str:
    """`HEGG560427MVZRRL04` -> `HEGG************04`."""
    if not curp:
        return ""
    curp = curp.strip().upper()
    if len(curp) <= 6:
        return "*" * len(curp)
    return curp[:4] + "*" * (len(curp) - 6) + curp[-2:]


def enmascarar_curps(texto: str) -> str:
    """Every CURP-shaped token of a free text, masked."""
    return CURP_RE.sub(lambda m: mascara_curp(m.group(0)), texto)
