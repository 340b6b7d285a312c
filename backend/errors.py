"""One JSON error shape for every failure: `{"detail": str, "codigo": str, ...}`.

`detail` is always a Spanish sentence a caller can hear; `codigo` is a stable
machine code; validation errors add `campos` (the offending fields).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

log = logging.getLogger("backend.errors")


class ErrorResponse(BaseModel):
    """The body of every error answer."""

    detail: str
    codigo: str
    campos: list[str] | None = None
    intentos_restantes: int | None = None
    bloqueado_hasta: str | None = None


class ErrorNegocio(Exception):
    """A business-rule failure that the caller should hear about."""

    def __init__(self, status_code: int, detail: str, codigo: str, **extra: Any) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.detail = detail
        self.codigo = codigo
        self.extra = extra


_DEFAULT_DETAIL = {
    400: "La solicitud no es válida.",
    401: "Necesita identificarse con su CURP y su NIP.",
    403: "No tiene permiso para esta operación.",
    404: "No encontramos lo que busca.",
    405: "Operación no permitida.",
    409: "La operación no se puede realizar en este momento.",
    422: "Los datos enviados no son válidos.",
    423: "El acceso está bloqueado temporalmente.",
    429: "Demasiadas solicitudes; intente en un momento.",
}

_DEFAULT_CODE = {
    400: "solicitud_invalida",
    401: "no_autenticado",
    403: "prohibido",
    404: "no_encontrado",
    405: "metodo_no_permitido",
    409: "conflicto",
    422: "datos_invalidos",
    423: "bloqueado",
    429: "demasiadas_solicitudes",
}

# Error responses every route may give; routers add these to their OpenAPI docs.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse, "description": _DEFAULT_DETAIL[code]}
    for code in (400, 401, 404, 409, 422, 423)
}


def _body(status: int, detail: str | None, codigo: str | None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "detail": detail or _DEFAULT_DETAIL.get(status, "Ocurrió un error."),
        "codigo": codigo or _DEFAULT_CODE.get(status, "error"),
    }
    body.update({k: v for k, v in extra.items() if v is not None})
    return body


def _campo(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "solicitud"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ErrorNegocio)
    async def _negocio(_: Request, exc: ErrorNegocio) -> JSONResponse:
        return JSONResponse(
            _body(exc.status_code, exc.detail, exc.codigo, **exc.extra),
            status_code=exc.status_code,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail: str | None = exc.detail if isinstance(exc.detail, str) else None
        # Starlette's own English texts ("Not Found") are replaced by Spanish ones.
        if detail in {"Not Found", "Method Not Allowed", "Unauthorized", "Forbidden"}:
            detail = None
        return JSONResponse(
            _body(exc.status_code, detail, None),
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

    app.add_middleware(RechazarNulos)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error: %s", type(exc).__name__)
        return JSONResponse(
            _body(500, "Tuvimos un problema interno; intente de nuevo en unos minutos.", "error_interno"),
            status_code=500,
        )


class RechazarNulos:
    """ASGI middleware: a NUL byte in the path or query string is never valid
    input (PostgreSQL cannot store it), so answer 422 before any route runs."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            raw = scope.get("query_string", b"") + scope.get("raw_path", b"") + scope.get("path", "").encode()
            if b"\x00" in raw or b"%00" in raw.lower():
                response = JSONResponse(
                    _body(422, "La dirección contiene caracteres no válidos.", "datos_invalidos"),
                    status_code=422,
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
