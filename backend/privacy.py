"""Masking of personal data for logs: never log a CURP, NIP or balance in clear.

Two layers, both installed on every handler by `instalar_privacidad()`:

- `FiltroPrivacidad` (a handler filter) masks the record itself: its message,
  each of its arguments (keeping their shape, so uvicorn's access formatter,
  which unpacks `record.args`, still works) and the exception text.
- `FormateadorPrivado` wraps the handler's formatter and masks the final line,
  whatever the formatter added (tracebacks, stack info, access-log fields).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Any

# Re-exported: the backend's modules import the CURP mask from here.
from habla.curp import enmascarar_curps
from habla.curp import mascara_curp as mascara_curp

# A NIP next to its name: nip=4821, "nip": "4821", 'nip': 4821, NIP 4821.
NIP_RE = re.compile(r"""(\bnip\b["']?\s*(?:[:=]\s*)?["']?\s*)\d{4}\b""", re.IGNORECASE)
# A balance next to its name: saldo=1234.56, "saldo_deudor_total": 12,345.67, saldo $1,234.
SALDO_RE = re.compile(
    r"""(\bsaldo\w*["']?\s*(?:[:=]\s*)?["']?\s*\$?\s*)-?\d[\d,]*(?:\.\d+)?""", re.IGNORECASE
)

# The token of a signed file link (/api/v1/archivos/<JWT>): whoever reads it from a
# log could download the PDF until it expires.
ENLACE_RE = re.compile(r"(/api/v1/archivos/)[A-Za-z0-9_\-.~%]+")


def enmascarar_texto(texto: str) -> str:
    """Mask every signed-link token, CURP-looking token, NIP field and balance field
    inside free text."""
    if not texto:
        return texto
    texto = ENLACE_RE.sub(lambda m: m.group(1) + "****", texto)
    texto = enmascarar_curps(texto)
    texto = NIP_RE.sub(lambda m: m.group(1) + "****", texto)
    return SALDO_RE.sub(lambda m: m.group(1) + "***", texto)


def _enmascarar_valor(valor: Any) -> Any:
    """A log argument with personal data masked; untouched when it has none (so
    `%d` and friends keep working on numbers)."""
    if isinstance(valor, str):
        return enmascarar_texto(valor)
    if isinstance(valor, int | float) or valor is None:
        return valor
    try:
        texto = str(valor)
    except Exception:  # pragma: no cover - an object that cannot be printed is left alone
        return valor
    enmascarado = enmascarar_texto(texto)
    return valor if enmascarado == texto else enmascarado


# Loggers whose formatter reads `record.args` field by field (uvicorn's access
# formatter unpacks them): their args keep their shape, the formatter layer masks.
_ARGS_CON_FORMA = ("uvicorn.access",)


class FiltroPrivacidad(logging.Filter):
    """Handler filter: masks the record's message, arguments and exception text."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = enmascarar_texto(record.msg)
        elif record.msg is not None:
            record.msg = _enmascarar_valor(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_enmascarar_valor(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: _enmascarar_valor(v) for k, v in record.args.items()}
        if record.args and not record.name.startswith(_ARGS_CON_FORMA):
            # Some data shows only once message and arguments meet ("nip %s", "4821"
            # or a dict's repr): then the record keeps the masked rendered message.
            try:
                mensaje = record.getMessage()
            except Exception:  # noqa: BLE001 - a broken format string is logging's to report
                mensaje = None
            if mensaje is not None:
                enmascarado = enmascarar_texto(mensaje)
                if enmascarado != mensaje:
                    record.msg, record.args = enmascarado, None
        if record.exc_info and not record.exc_text:
            # Formatter.format reuses exc_text when set, so the traceback is masked once here.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = enmascarar_texto(record.exc_text)
        if record.stack_info:
            record.stack_info = enmascarar_texto(record.stack_info)
        return True


class FormateadorPrivado(logging.Formatter):
    """Wraps a handler's formatter and masks what it produces."""

    def __init__(self, interno: logging.Formatter | None = None) -> None:
        super().__init__()
        self.interno = interno or logging.Formatter()

    def format(self, record: logging.LogRecord) -> str:
        return enmascarar_texto(self.interno.format(record))


def proteger_handler(handler: logging.Handler) -> None:
    """Install both layers on one handler (idempotent)."""
    if not any(isinstance(f, FiltroPrivacidad) for f in handler.filters):
        handler.addFilter(FiltroPrivacidad())
    if not isinstance(handler.formatter, FormateadorPrivado):
        handler.setFormatter(FormateadorPrivado(handler.formatter))


def _handlers_configurados() -> Iterable[logging.Handler]:
    """Every handler of every logger configured so far (root, uvicorn, uvicorn.error,
    uvicorn.access, ...) plus logging's fallback handler for unconfigured loggers."""
    loggers: list[logging.Logger] = [logging.getLogger()]
    loggers += [
        lg for lg in logging.Logger.manager.loggerDict.values() if isinstance(lg, logging.Logger)
    ]
    # uvicorn configures these before it imports the app; named here so they exist.
    loggers += [logging.getLogger(n) for n in ("uvicorn", "uvicorn.error", "uvicorn.access")]
    vistos: set[int] = set()
    for logger in loggers:
        for handler in logger.handlers:
            if id(handler) not in vistos:
                vistos.add(id(handler))
                yield handler
    if logging.lastResort is not None and id(logging.lastResort) not in vistos:
        yield logging.lastResort


def instalar_privacidad(handlers: Iterable[logging.Handler] | None = None) -> None:
    """Mask personal data on the given handlers, or on every configured one."""
    for handler in list(handlers if handlers is not None else _handlers_configurados()):
        proteger_handler(handler)
