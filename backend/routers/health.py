"""Liveness and readiness: `GET /health` answers 200 only when the database answers.

A load balancer reads the status code; people read the body. When the database
is down the answer is 503 with the health fields plus the usual error fields
(`detail`, `codigo`), so it is also a regular error body.
"""

from __future__ import annotations

import logging
from typing import Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from backend.deps import SessionDep
from backend.errors import ERRORES_COMUNES, REINTENTAR_EN_SEGUNDOS, ErrorResponse, respuestas_error

log = logging.getLogger("backend.health")

router = APIRouter(tags=["salud"])

MENSAJE_SIN_BD = "El servicio no está disponible: no hay conexión con la base de datos."


class Health(BaseModel):
    status: Literal["ok"]
    database: Literal["ok"]


class HealthNoDisponible(ErrorResponse):
    status: Literal["no_disponible"]
    database: Literal["no disponible"]


@router.get(
    "/health",
    response_model=Health,
    summary="Estado del servicio y de su base de datos",
    responses={
        503: {"model": HealthNoDisponible, "description": "La base de datos no responde"},
        **respuestas_error(*ERRORES_COMUNES),
    },
)
def health(session: SessionDep) -> Health | JSONResponse:
    try:
        session.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        log.error("health: database unavailable (%s)", type(exc).__name__)
        cuerpo = HealthNoDisponible(
            status="no_disponible",
            database="no disponible",
            detail=MENSAJE_SIN_BD,
            codigo="servicio_no_disponible",
        )
        return JSONResponse(
            cuerpo.model_dump(exclude_none=True),
            status_code=503,
            headers={"Retry-After": str(REINTENTAR_EN_SEGUNDOS)},
        )
    return Health(status="ok", database="ok")
