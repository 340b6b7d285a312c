"""FastAPI dependencies shared by every router: the database session, the
identified derechohabiente, the settings, and the clock (`Ahora`, `Hoy`).

Tests move time with `app.dependency_overrides[reloj] = lambda: instante`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from backend.db import get_session
from backend.errors import ErrorResponse
from backend.models import Derechohabiente
from backend.security import derechohabiente_actual, settings_of
from backend.services.disponibilidad import local
from backend.services.secretos import exigir_secreto

__all__ = [
    "Ahora",
    "DerechohabienteActual",
    "DerechohabienteOpcional",
    "Hoy",
    "SessionDep",
    "fecha_hoy",
    "reloj",
    "secreto_compartido",
    "settings_of",
]


async def reloj() -> datetime:
    """The current instant (UTC). Async so FastAPI does not spend a threadpool
    hop on it."""
    return datetime.now(UTC)


Ahora = Annotated[datetime, Depends(reloj)]


def fecha_hoy(ahora: Ahora) -> date:
    """Today in the derechohabientes' time zone (follows `reloj`)."""
    return local(ahora).date()


Hoy = Annotated[date, Depends(fecha_hoy)]

SessionDep = Annotated[Session, Depends(get_session)]
DerechohabienteActual = Annotated[Derechohabiente, Depends(derechohabiente_actual)]

_bearer_opcional = HTTPBearer(auto_error=False)


def derechohabiente_opcional(
    request: Request,
    session: SessionDep,
    credenciales: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer_opcional)],
) -> Derechohabiente | None:
    """The token's derechohabiente when a token is sent (an invalid one is still a 401)."""
    if credenciales is None:
        return None
    return derechohabiente_actual(request, credenciales, session)


DerechohabienteOpcional = Annotated[Derechohabiente | None, Depends(derechohabiente_opcional)]


def secreto_compartido(*, encabezado: str, ajuste: str, descripcion: str, quien: str,
                       servicio: str) -> dict[str, Any]:
    """The route arguments of a machine-to-machine endpoint: header `encabezado` must carry
    the secret configured in the setting `ajuste` (see services/secretos.py), else 401/403."""

    def verificar(request: Request, secreto: str | None = Header(default=None, alias=encabezado,
                                                                 description=descripcion)) -> None:
        exigir_secreto(
            recibido=secreto,
            esperado=getattr(settings_of(request), ajuste),
            encabezado=encabezado,
            quien=quien,
            servicio=servicio,
        )

    return {
        "dependencies": [Depends(verificar)],
        "responses": {
            403: {
                "model": ErrorResponse,
                "description": "Clave compartida inválida o no configurada",
            }
        },
    }
