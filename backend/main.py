"""FastAPI application: `backend.main:app`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from backend.db import make_engine, make_sessionmaker
from backend.errors import install_error_handlers
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
from backend.settings import BackendSettings, get_settings
from backend.tiempos import ServerTiming


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

    app = FastAPI(
        title="CAPP asistente — backend",
        version="0.1.0",
        description="Datos y reglas del Centro de Atención de Préstamos Personales del ISSSTE.",
        lifespan=lifespan,
    )
    app.state.settings = settings or get_settings()
    install_error_handlers(app)
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
    app.add_middleware(ServerTiming)
    return app


app = create_app()
