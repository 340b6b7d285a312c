"""Masking of personal data for logs: never log a CURP, NIP or balance in clear."""

from __future__ import annotations

import logging
import re

CURP_RE = re.compile(r"\b([A-Z]{4})(\d{6}[HM][A-Z]{5}[A-Z0-9])(\d)(\d)?\b")


def mascara_curp(curp: str | None) -> str:
    """`HEGG560427MVZRRL04` -> `HEGG************04`."""
    if not curp:
        return ""
    curp = curp.strip().upper()
    if len(curp) <= 6:
        return "*" * len(curp)
    return curp[:4] + "*" * (len(curp) - 6) + curp[-2:]


def enmascarar_texto(texto: str) -> str:
    """Mask every CURP-looking token inside free text."""
    return re.sub(r"\b[A-Z]{4}\d{6}[HM][A-Z]{5}[A-Z0-9]\d\b", lambda m: mascara_curp(m.group(0)), texto)


class FiltroPrivacidad(logging.Filter):
    """Logging filter that masks CURPs in every record's rendered message."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            mensaje = record.getMessage()
        except Exception:  # pragma: no cover - a broken format string is not ours to fix
            return True
        enmascarado = enmascarar_texto(mensaje)
        if enmascarado != mensaje:
            record.msg, record.args = enmascarado, None
        return True
