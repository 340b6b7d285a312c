"""Identity tokens: short-lived JWTs issued after CURP + NIP, required by every
personal endpoint. The subject is the derechohabiente's id; the CURP is bound
into the token so a token answers only for its own CURP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from backend.db import get_session
from backend.models import Derechohabiente
from backend.services.errores import ErrorDominio, NoAutenticado
from backend.settings import BackendSettings

ALGORITHM = "HS256"
_bearer = HTTPBearer(auto_error=False)


def settings_of(request: Request) -> BackendSettings:
    return request.app.state.settings  # type: ignore[no-any-return]


def emitir_token(
    dh: Derechohabiente, settings: BackendSettings, *, ahora: datetime | None = None
) -> tuple[str, datetime]:
    ahora = ahora or datetime.now(UTC)
    expira = ahora + timedelta(minutes=settings.token_ttl_minutes)
    payload = {"sub": str(dh.id), "curp": dh.curp, "iat": ahora, "exp": expira, "typ": "identidad"}
    return jwt.encode(payload, settings.token_secret, algorithm=ALGORITHM), expira


def _no_autenticado(detail: str) -> ErrorDominio:
    return NoAutenticado(detail, "no_autenticado")


def derechohabiente_actual(
    request: Request,
    credenciales: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    session: Annotated[Session, Depends(get_session)],
) -> Derechohabiente:
    """Dependency: the verified derechohabiente behind the bearer token."""
    if credenciales is None or credenciales.scheme.lower() != "bearer":
        raise _no_autenticado("Necesita identificarse con su CURP y su NIP.")
    settings = settings_of(request)
    try:
        payload = jwt.decode(
            credenciales.credentials, settings.token_secret, algorithms=[ALGORITHM]
        )
    except jwt.ExpiredSignatureError as exc:
        raise _no_autenticado(
            "Su sesión expiró; identifíquese de nuevo con su CURP y su NIP."
        ) from exc
    except jwt.PyJWTError as exc:
        raise _no_autenticado("No pudimos validar su identidad; identifíquese de nuevo.") from exc
    if payload.get("typ") != "identidad":
        raise _no_autenticado("No pudimos validar su identidad; identifíquese de nuevo.")
    try:
        dh_id = int(payload["sub"])
    except (KeyError, TypeError, ValueError) as exc:
        raise _no_autenticado("No pudimos validar su identidad; identifíquese de nuevo.") from exc
    dh = session.get(Derechohabiente, dh_id)
    if dh is None or dh.curp != payload.get("curp"):
        raise _no_autenticado("No pudimos validar su identidad; identifíquese de nuevo.")
    return dh

