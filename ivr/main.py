"""Twilio Voice webhooks for ISSSTETEL opción 5 (CAPP). Run: uvicorn ivr.main:app --port 8001.

Twilio's Voice URL is POST /ivr/voice; every later step follows the `action`
URLs in the TwiML. Every Twilio endpoint checks X-Twilio-Signature (403 if
missing, wrong, or if TWILIO_AUTH_TOKEN is unset). Calls to Rasa's `ivr`
channel carry `Authorization: Bearer <RASA_TOKEN>`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse

from backend.limite_cuerpo import LimiteCuerpo
from ivr import respaldo
from ivr.firma import FormularioTwilio
from ivr.llamada import Llamada
from ivr.motor import Motor, cargar_menu
from ivr.rasa import ClienteRasa
from ivr.registro import Registro
from ivr.settings import IVRSettings, get_settings

logger = logging.getLogger("ivr")
XML = "application/xml"


def _llamada(request: Request) -> Llamada:
    return request.app.state.llamada


LlamadaDep = Annotated[Llamada, Depends(_llamada)]


def crear_app(settings: IVRSettings | None = None, *, rasa: ClienteRasa | None = None) -> FastAPI:
    """App factory; the module-level `app` uses the environment's settings."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        s = settings or get_settings()
        cliente = rasa or ClienteRasa(s.rasa_url, timeout=s.ivr_rasa_timeout, token=s.rasa_token)
        # Rendered once: serving the fallback needs nothing that may be failing then.
        app.state.respaldo = respaldo.documento(s)
        app.state.llamada = Llamada(
            settings=s,
            motor=Motor(cargar_menu(), reintentos=s.ivr_reintentos, max_turnos=s.ivr_max_turnos),
            rasa=cliente,
            registro=Registro(s.ivr_registro_path),
        )
        if not s.twilio_auth_token:
            logger.error("TWILIO_AUTH_TOKEN vacío: el IVR rechazará todas las llamadas (403).")
        if not s.rasa_token:
            logger.error(
                "RASA_TOKEN vacío: Rasa rechazará al IVR y las personas oirán una disculpa."
            )
        try:
            yield
        finally:
            await cliente.aclose()

    app = FastAPI(
        title="CAPP IVR (ISSSTETEL opción 5)",
        description="Webhooks de Twilio Voice: menú por teclado y voz, puente a Rasa.",
        lifespan=lifespan,
    )
    if settings is not None:
        app.dependency_overrides[get_settings] = lambda: settings
    # Outermost: a body over IVR_MAX_CUERPO_BYTES gets 413 before the Twilio
    # signature check reads the form (memory stays bounded whatever is sent).
    app.add_middleware(
        LimiteCuerpo, limite=lambda: (settings or get_settings()).ivr_max_cuerpo_bytes
    )

    def twiml(respuesta: object) -> Response:
        return Response(content=str(respuesta), media_type=XML)

    def documento_de_respaldo(request: Request) -> Response:
        return Response(
            content=getattr(request.app.state, "respaldo", respaldo.MINIMO), media_type=XML
        )

    @app.get("/health", tags=["salud"])
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/ivr/voice", tags=["twilio"], response_class=Response)
    async def voice(form: FormularioTwilio, ll: LlamadaDep) -> Response:
        return twiml(ll.entrada(form))

    @app.post("/ivr/menu", tags=["twilio"], response_class=Response)
    async def menu(request: Request, form: FormularioTwilio, ll: LlamadaDep) -> Response:
        return twiml(await ll.menu(dict(request.query_params), form))

    @app.post("/ivr/conversacion", tags=["twilio"], response_class=Response)
    async def conversacion(request: Request, form: FormularioTwilio, ll: LlamadaDep) -> Response:
        return twiml(await ll.conversacion(dict(request.query_params), form))

    @app.post("/ivr/asesor/fin", tags=["twilio"], response_class=Response)
    async def asesor_fin(form: FormularioTwilio, ll: LlamadaDep) -> Response:
        return twiml(ll.fin_asesor(form))

    @app.post("/ivr/asesor/espera", tags=["twilio"], response_class=Response)
    async def asesor_espera(form: FormularioTwilio, ll: LlamadaDep) -> Response:
        return twiml(ll.espera(form))

    @app.post("/ivr/fallback", tags=["twilio"], response_class=Response)
    async def fallback(request: Request, form: FormularioTwilio) -> Response:
        # No Rasa, no database, no Llamada: the bytes rendered at start-up. The
        # log line is best effort (Registro never raises).
        if hasattr(request.app.state, "llamada"):
            request.app.state.llamada.registro.escribir(
                form.get("CallSid", ""), "fin_ivr", motivo="respaldo", error=form.get("ErrorCode")
            )
        return documento_de_respaldo(request)

    @app.post("/ivr/estado", tags=["twilio"], status_code=204, response_class=Response)
    async def estado(form: FormularioTwilio, ll: LlamadaDep) -> Response:
        ll.estado_twilio(form)
        return Response(status_code=204)

    @app.exception_handler(Exception)
    async def sin_silencio(request: Request, exc: Exception) -> Response:
        # An unexpected error must not leave the caller in silence: static TwiML.
        logger.exception("Error inesperado en %s", request.url.path)
        if request.url.path.startswith("/ivr/"):
            return documento_de_respaldo(request)
        return JSONResponse({"detail": "Error interno."}, status_code=500)

    return app


app = crear_app()
