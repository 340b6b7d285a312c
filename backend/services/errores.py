"""Domain errors: what went wrong, in business terms, with no HTTP in them.

Every error carries `detail` (a Spanish sentence the caller can hear), `codigo`
(a stable machine code) and `datos`, extra fields for the caller (`campos`,
`bloqueado_hasta`, `clave_cita_vigente`...). A wait the caller should respect
goes in `reintentar_en` (seconds). backend/errors.py maps each class to its
HTTP status, in one place.
"""

from __future__ import annotations

from typing import Any


class ErrorDominio(Exception):
    """A business-rule failure that the caller should hear about."""

    def __init__(
        self, detail: str, codigo: str, *, reintentar_en: int | None = None, **datos: Any
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.codigo = codigo
        self.reintentar_en = reintentar_en
        self.datos = datos


class NoAutenticado(ErrorDominio):
    """The caller did not identify themselves, or not correctly."""


class Prohibido(ErrorDominio):
    """The caller is known (or the link is read) but may not do this."""


class NoEncontrado(ErrorDominio):
    """What was asked for does not exist (for this caller)."""


class Conflicto(ErrorDominio):
    """The request is fine but the state of things does not allow it now."""


class Caducado(ErrorDominio):
    """It existed but is gone for good (an expired link)."""


class ReglaIncumplida(ErrorDominio):
    """A value breaks a rule (a simulation limit, a date out of range, a bad header)."""


class Bloqueado(ErrorDominio):
    """Locked after too many failed attempts, until `bloqueado_hasta`."""


class DemasiadosIntentos(ErrorDominio):
    """Throttled: come back after `reintentar_en` seconds."""


class NoDisponible(ErrorDominio):
    """Could not be done right now for a reason of ours; nothing was changed."""
