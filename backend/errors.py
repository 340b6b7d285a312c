"""One JSON error shape for every failure: `{"detail": str, "codigo": str, ...}`.

`detail` is always a Spanish sentence a caller can hear; `codigo` is a stable
machine code; validation errors add `campos` (the offending fields).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DataError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from backend.limite_cuerpo import DETALLE_413
from backend.services.errores import (
    Bloqueado,
    Caducado,
    Conflicto,
    DemasiadosIntentos,
    ErrorDominio,
    NoAutenticado,
    NoDisponible,
    NoEncontrado,
    Prohibido,
    ReglaIncumplida,
)

log = logging.getLogger("backend.errors")


class ErrorResponse(BaseModel):
    """The body of every error answer."""

    detail: str
    codigo: str
    campos: list[str] | None = None
    bloqueado_hasta: str | None = None


_DEFAULT_DETAIL = {
    400: "No pudimos leer la solicitud; envíe un JSON válido en UTF-8.",
    401: "Necesita identificarse con su CURP y su NIP.",
    403: "No tiene permiso para esta operación.",
    404: "No encontramos lo que busca.",
    405: "Operación no permitida.",
    409: "La operación no se puede realizar en este momento.",
    410: "El recurso ya no está disponible.",
    413: DETALLE_413,
    422: "Los datos enviados no son válidos.",
    423: "El acceso está bloqueado temporalmente.",
    429: "Demasiadas solicitudes; intente en un momento.",
    500: "Tuvimos un problema interno; intente de nuevo en unos minutos.",
    503: "El servicio no está disponible por el momento; intente de nuevo en unos minutos.",
}

_DEFAULT_CODE = {
    400: "solicitud_invalida",
    401: "no_autenticado",
    403: "prohibido",
    404: "no_encontrado",
    405: "metodo_no_permitido",
    409: "conflicto",
    410: "ya_no_disponible",
    413: "solicitud_demasiado_grande",
    422: "datos_invalidos",
    423: "bloqueado",
    429: "demasiadas_solicitudes",
    500: "error_interno",
    503: "servicio_no_disponible",
}

# Seconds a client should wait before retrying when the database is unreachable.
REINTENTAR_EN_SEGUNDOS = 30


def respuestas_error(*codigos: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for these error statuses, all with the ErrorResponse body,
    so schemathesis checks every error body against the one shape."""
    return {
        codigo: {"model": ErrorResponse, "description": _DEFAULT_DETAIL[codigo]}
        for codigo in codigos
    }


# What any route can answer: 422 (validation, or a NUL byte in the address, see
# RechazarNulos) and 500 (the catch-all handler below). 405 is not an answer of a
# declared operation but of an undeclared method on its path, so it is not listed.
ERRORES_COMUNES = (422, 500)
# Routes that read the JSON body can also answer 400 (a body that is not UTF-8/JSON)
# and 413 (a body over MAX_CUERPO_BYTES, see backend/limite_cuerpo.py).
ERRORES_CUERPO = (400, 413)
# Routes that use the database can answer 503 when it is unreachable.
ERRORES_BD = (503,)

# The default for routers of personal, database-backed resources (401 without a
# valid token, 404/409 from their rules). Routes add what is particular to them
# (403 and 410 for signed links, 403 for bank notifications, 423 for the lockout).
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = respuestas_error(
    *ERRORES_CUERPO, 401, 404, 409, *ERRORES_COMUNES, *ERRORES_BD
)


def _body(status: int, detail: str | None, codigo: str | None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "detail": detail or _DEFAULT_DETAIL.get(status, "Ocurrió un error."),
        "codigo": codigo or _DEFAULT_CODE.get(status, "error"),
    }
    body.update({k: v for k, v in extra.items() if v is not None})
    return body


# The one place where a domain error becomes an HTTP status.
ESTADO_HTTP: dict[type[ErrorDominio], int] = {
    NoAutenticado: 401,
    Prohibido: 403,
    NoEncontrado: 404,
    Conflicto: 409,
    Caducado: 410,
    ReglaIncumplida: 422,
    Bloqueado: 423,
    DemasiadosIntentos: 429,
    NoDisponible: 503,
}


def estado_http(error: ErrorDominio) -> int:
    """The HTTP status of a domain error (its nearest mapped class; 500 if none)."""
    for clase in type(error).__mro__:
        if clase in ESTADO_HTTP:
            return ESTADO_HTTP[clase]
    return 500


def cuerpo_error(error: ErrorDominio) -> dict[str, Any]:
    """The JSON body a domain error is answered with."""
    return _body(estado_http(error), error.detail, error.codigo, **error.datos)


def respuesta_error(error: ErrorDominio) -> JSONResponse:
    """The whole HTTP answer to a domain error (Retry-After when it says when to retry)."""
    headers = None if error.reintentar_en is None else {"Retry-After": str(error.reintentar_en)}
    return JSONResponse(cuerpo_error(error), status_code=estado_http(error), headers=headers)


def respuesta_413(limite: int) -> tuple[bytes, bytes]:
    """The body and content type LimiteCuerpo answers a body over `limite` with."""
    cuerpo = _body(413, f"{DETALLE_413} El máximo es de {limite:,} bytes.", None)
    return json.dumps(cuerpo, ensure_ascii=False).encode(), b"application/json"


def _campo(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "solicitud"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ErrorDominio)
    async def _dominio(_: Request, exc: ErrorDominio) -> JSONResponse:
        return respuesta_error(exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        # Only the framework raises HTTPException here (our code raises ErrorDominio),
        # and its texts are English ("Not Found", "There was an error parsing the
        # body"), so the Spanish text of the status is used instead.
        return JSONResponse(
            _body(exc.status_code, None, None),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        campos = sorted({_campo(e.get("loc", ())) for e in exc.errors()})
        # A custom validator may carry a Spanish message of its own ("CURP inválida ...").
        mensajes = [
            str(e.get("ctx", {}).get("error"))
            for e in exc.errors()
            if e.get("type") == "value_error" and e.get("ctx", {}).get("error")
        ]
        if mensajes:
            detail = " ".join(dict.fromkeys(mensajes))
        else:
            detail = "Revise los datos: " + ", ".join(campos) + "."
        return JSONResponse(_body(422, detail, "datos_invalidos", campos=campos), status_code=422)

    @app.exception_handler(DataError)
    async def _data(_: Request, exc: DataError) -> JSONResponse:
        # The database refused a value (e.g. a NUL byte or an out-of-range number).
        log.warning("database refused a value: %s", type(exc.orig).__name__)
        return JSONResponse(
            _body(422, "Los datos enviados contienen valores no válidos.", "datos_invalidos"),
            status_code=422,
        )

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    @app.exception_handler(SQLAlchemyTimeoutError)
    async def _bd_no_disponible(_: Request, exc: Exception) -> JSONResponse:
        # The database is down, unreachable, locked or out of pool connections: the
        # request was fine, so tell the caller to come back (503, not 500).
        log.error("database unavailable: %s", type(exc).__name__)
        return JSONResponse(
            _body(503, None, None),
            status_code=503,
            headers={"Retry-After": str(REINTENTAR_EN_SEGUNDOS)},
        )

    app.add_middleware(RechazarNulos)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        # The traceback goes to the log (masked by backend.privacy), never to the caller.
        log.exception("unexpected error: %s", type(exc).__name__)
        return JSONResponse(_body(500, None, None), status_code=500)


class RechazarNulos:
    """ASGI middleware: a NUL byte in the path or query string is never valid
    input (PostgreSQL cannot store it), so answer 422 before any route runs."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            raw = (
                scope.get("query_string", b"")
                + scope.get("raw_path", b"")
                + scope.get("path", "").encode()
            )
            if b"\x00" in raw or b"%00" in raw.lower():
                response = JSONResponse(
                    _body(422, "La dirección contiene caracteres no válidos.", "datos_invalidos"),
                    status_code=422,
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
