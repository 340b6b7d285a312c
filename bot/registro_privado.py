"""Personal data never reaches a log line of Rasa or of the action server,
whatever the level (Rasa at DEBUG logs every user message and slot).

Installed once per process (channels/__init__.py for Rasa,
actions/__init__.py for the action server) as a log record factory, so it
covers every logger and handler, including those configured later: each
record's message is formatted once and masked: CURPs (HEGG************04),
any group of exactly four digits standing alone (a NIP looks like that; so
does a year, which a log can spare), identity tokens (JWT) and sealed values.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from bot.texto import enmascarar_curps

_CUATRO_DIGITOS = re.compile(r"(?<![0-9A-Za-z$])(?<!\d[/.,:-])\d{4}(?![0-9A-Za-z])(?![/.,:-]\d)")
_JWT = re.compile(r"\beyJ[\w-]{5,}\.[\w-]{5,}\.[\w-]{5,}")
_SELLADO = re.compile(r"sellado:v1:[\w=-]+")


def sin_tokens(texto: str) -> str:
    """Identity tokens and signed-link tokens (JWT) out of a text."""
    return _JWT.sub("<token>", texto)


def enmascarar_registro(texto: str) -> str:
    texto = enmascarar_curps(texto)
    texto = _JWT.sub("<token>", texto)
    texto = _SELLADO.sub("sellado:v1:<...>", texto)
    return _CUATRO_DIGITOS.sub("****", texto)


def instalar() -> None:
    anterior = logging.getLogRecordFactory()
    if getattr(anterior, "capp_privado", False):
        return

    def fabrica(*args: Any, **kwargs: Any) -> logging.LogRecord:
        registro = anterior(*args, **kwargs)
        try:
            mensaje = registro.getMessage()
        except Exception:  # a broken format string is the logging module's to report
            return registro
        limpio = enmascarar_registro(mensaje)
        if limpio != mensaje:
            registro.msg, registro.args = limpio, ()
        return registro

    fabrica.capp_privado = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(fabrica)
