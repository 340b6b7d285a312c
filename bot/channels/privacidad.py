"""What the channels never echo in full: CURPs and NIPs typed by the person.

A CURP-shaped token is always masked (`HEGG************04`). A NIP is only
known as such from the conversation's state: a message that is just four
digits is a NIP when the form is asking for the NIP (the tracker's
`requested_slot`), never because of how the bot's question was worded;
"nip 1234" is always one. A NIP is masked as a whole token and never inside
a date, an amount or a longer number.
"""

from __future__ import annotations

import re
from typing import List

from bot.texto import enmascarar_curps

NIP_SOLO_RE = re.compile(r"^\s*(\d{4})\s*$")
NIP_DICHO_RE = re.compile(r"\bnip\D{0,12}(\d{4})(?!\d)", re.IGNORECASE)
# A 4-digit group glued into a date, time, amount or longer number is not a NIP.
_ANTES = r"(?<![0-9A-Za-z$])(?<!\d[/.,:-])"
_DESPUES = r"(?![0-9A-Za-z])(?![/.,:-]\d)"


def nips_en(texto: str, pide_nip: bool = False) -> List[str]:
    """4-digit NIPs in this message: "mi nip es 1234" always, a bare "1234"
    only when the form is waiting for the NIP."""
    encontrados = [m.group(1) for m in NIP_DICHO_RE.finditer(texto)]
    solo = NIP_SOLO_RE.match(texto)
    if solo and pide_nip:
        encontrados.append(solo.group(1))
    return encontrados


def enmascarar(texto: str, nips: List[str]) -> str:
    """Mask every CURP-shaped token, and each NIP given where it stands alone."""
    texto = enmascarar_curps(texto)
    for nip in nips:
        texto = re.sub(_ANTES + re.escape(nip) + _DESPUES, "****", texto)
    return texto
