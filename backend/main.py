"""FastAPI application: `backend.main:app`."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from backend.db import make_engine, make_sessionmaker
from backend.errors import install_error_handlers, respuesta_413
from backend.limite_cuerpo import LimiteCuerpo
from backend.privacy import instalar_privacidad
from backend.routers import (
    archivos,
    chat,
    citas,
    health,
    identidad,
    oficinas,
    pagos,
    prestamos,
    productos,
    regularizacion,
    simulaciones,
)
from backend.services import nip_hash
from backend.settings import BackendSettings, get_settings, lista_cors
from backend.tiempos import ServerTiming

log = logging.getLogger("backend")


_avisos: set[str] = set()  # start-up warnings already given in this process


def create_app(settings: BackendSettings | None = None) -> FastAPI:
    """Build the app. The engine is created in the lifespan, never at import."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owns_engine = not hasattr(app.state, "sessionmaker")
        if owns_engine:
            engine = make_engine(app.state.settings.database_url)
            app.state.engine = engine
            app.state.sessionmaker = make_sessionmaker(engine)
        try:
            yield
        finally:
            if owns_engine:
                app.state.engine.dispose()
                del app.state.sessionmaker

    # uvicorn has configured its loggers by the time it imports the app: mask CURPs,
    # NIPs and balances on every handler there is (root, uvicorn, uvicorn.access, ...).
    instalar_privacidad()

    settings = settings or get_settings()
    desarrollo = settings.entorno == "desarrollo"
    app = FastAPI(
        title="CAPP asistente — backend",
        version="0.1.0",
        description="Datos y reglas del Centro de Atención de Préstamos Personales del ISSSTE.",
        lifespan=lifespan,
        # The API's map is for developers: outside development it is not served.
        docs_url="/docs" if desarrollo else None,
        redoc_url="/redoc" if desarrollo else None,
        openapi_url="/openapi.json" if desarrollo else None,
    )
    app.state.settings = settings
    if nip_hash.pimientas(settings).es_desarrollo and not _avisos:
        _avisos.add("pepper")
        log.error("NIP_PEPPER vacío: los NIP se guardan con la pimienta pública de desarrollo; "
                  "configure una en producción (make env la genera en .env).")
    install_error_handlers(app)
    # Browsers may call the API only from the configured public origin(s).
    app.add_middleware(
        CORSMiddleware,
        allow_origins=lista_cors(settings),
        allow_credentials=False,
        allow_methods=["GET", "POST"],
        allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "X-Turno-Vence"],
    )
    # Server-Timing: app;dur=<ms> on every answer (backend/tiempos.py).
    app.add_middleware(ServerTiming)
    # Outermost: an oversized body is refused before anything reads it.
    app.add_middleware(LimiteCuerpo, limite=settings.max_cuerpo_bytes, respuesta=respuesta_413)
    # FastAPI tries the included routers in order, walking every route of each one,
    # so the hottest route (simulations, ~1,000 requests/s) goes first; no two
    # routers share a path, so the order changes nothing else.
    for module in (
        simulaciones,
        health,
        identidad,
        prestamos,
        productos,
        oficinas,
        citas,
        pagos,
        regularizacion,
        chat,
        archivos,
    ):
        app.include_router(module.router)
    return app


app = create_app()
