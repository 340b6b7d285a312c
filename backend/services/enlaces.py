"""Signed, expiring links to generated files (hoja de cita, FOPI, estado de cuenta).

Twilio fetches WhatsApp media without credentials, so a file is reachable at
`GET /api/v1/archivos/{firma}` where `firma` is a JWT (HS256, PyJWT) carrying
the kind of file, its id and an expiry. The secret is the backend's
`token_secret`; `typ="enlace"` keeps identity tokens and links apart.

Any service can serve files this way:

    @registrar_archivo("fopi")
    def _fopi(session, id_: str) -> Archivo: ...

and hand out `url_firmada(settings, kind="fopi", id_=folio, ttl=...)`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import NotRequired, TypedDict, Unpack

import jwt
from sqlalchemy.orm import Session

from backend.services.errores import Caducado, Prohibido
from backend.settings import BackendSettings

ALGORITMO = "HS256"
TIPO = "enlace"
TTL_PREDETERMINADO = timedelta(hours=24)


@dataclass(frozen=True)
class Archivo:
    contenido: bytes
    nombre: str
    media_type: str = "application/pdf"


# (session, id, now): the file as of `now` (the request's clock).
Generador = Callable[[Session, str, datetime], Archivo]
_GENERADORES: dict[str, Generador] = {}


class Firma(TypedDict):
    """What `sign` signs: the file's kind and id, how long the link lives, from when."""

    kind: str
    id_: str
    ttl: NotRequired[timedelta]
    ahora: NotRequired[datetime | None]


@dataclass(frozen=True)
class EnlaceVerificado:
    kind: str
    id: str
    expira_en: datetime


def registrar_archivo(kind: str) -> Callable[[Generador], Generador]:
    """Decorator: `kind` files are produced by the decorated function."""

    def decorar(funcion: Generador) -> Generador:
        _GENERADORES[kind] = funcion
        return funcion

    return decorar


def generador(kind: str) -> Generador | None:
    return _GENERADORES.get(kind)


def sign(
    settings: BackendSettings,
    *,
    kind: str,
    id_: str,
    ttl: timedelta = TTL_PREDETERMINADO,
    ahora: datetime | None = None,
) -> tuple[str, datetime]:
    """A URL-safe signed token for one file; returns (token, expiry)."""
    ahora = ahora or datetime.now(UTC)
    expira = ahora + ttl
    payload = {"typ": TIPO, "k": kind, "id": str(id_), "exp": int(expira.timestamp())}
    return jwt.encode(payload, settings.token_secret, algorithm=ALGORITMO), expira.replace(
        microsecond=0
    )


def verify(
    settings: BackendSettings, token: str, *, ahora: datetime | None = None
) -> EnlaceVerificado:
    """Check a link token: 403 when forged or malformed, 410 when expired."""
    ahora = ahora or datetime.now(UTC)
    try:
        # Expiry is checked below against the injectable clock, not the wall clock.
        payload = jwt.decode(token, settings.token_secret, algorithms=[ALGORITMO],
                             options={"verify_exp": False, "require": ["exp"]})
        kind, id_, exp = payload["k"], payload["id"], int(payload["exp"])
    except (jwt.PyJWTError, KeyError, TypeError, ValueError) as exc:
        raise Prohibido("El enlace no es válido. Solicite uno nuevo.", "enlace_invalido") from exc
    if payload.get("typ") != TIPO:
        raise Prohibido("El enlace no es válido. Solicite uno nuevo.", "enlace_invalido")
    expira = datetime.fromtimestamp(exp, UTC)
    if ahora >= expira:
        raise Caducado(
            "El enlace ya expiró. Solicite de nuevo su documento y se le enviará un enlace nuevo.",
            "enlace_expirado",
        )
    return EnlaceVerificado(kind=str(kind), id=str(id_), expira_en=expira)


def url_firmada(settings: BackendSettings, **firma: Unpack[Firma]) -> tuple[str, datetime]:
    """The public URL (on `backend_public_url`) of a signed file link, and its expiry;
    `sign`'s arguments."""
    token, expira = sign(settings, **firma)
    return f"{settings.backend_public_url.rstrip('/')}/api/v1/archivos/{token}", expira
