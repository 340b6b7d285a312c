"""Rasa's REST channel behind a bearer token.

Rasa's built-in `rest` channel trusts whoever reaches :5005: any client could
post as any sender id, e.g. `whatsapp:+52...` (WhatsApp conversations are keyed
by phone number) and continue someone's identified conversation without
Twilio's signature. This subclass keeps the URL (`/webhooks/rest/webhook`, the
channel is still named "rest"), the request and answer format and the
`?stream=true` option of Rasa's own channel, and in front of them requires

    Authorization: Bearer <RASA_TOKEN>

compared in constant time. Without RASA_TOKEN in the environment every request
is refused (fail closed). A missing token answers 401, a wrong one 403, a body
that is not `{"sender": "...", "message": "..."}` 400; always JSON, in Spanish.

credentials.yml:
    bot.channels.rest.RestProtegidoInput:
      {}
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.autorizacion import VARIABLE_TOKEN, json_es, rechazo_de_autorizacion

logger = logging.getLogger(__name__)

# Longest sender id / message accepted; Rasa itself has no limit.
MAX_REMITENTE = 128
MAX_MENSAJE = 5000


def error_de_cuerpo(request: Request) -> str | None:
    """A Spanish reason when the body is not what Rasa's REST channel reads."""
    try:
        cuerpo = json.loads(request.body or b"")
    except (ValueError, UnicodeDecodeError):
        return "El cuerpo debe ser JSON: {\"sender\": \"...\", \"message\": \"...\"}."
    if not isinstance(cuerpo, dict):
        return "El cuerpo debe ser un objeto JSON con «sender» y «message»."
    remitente, mensaje = cuerpo.get("sender"), cuerpo.get("message")
    if not isinstance(remitente, str) or not remitente.strip():
        return "Falta «sender» (el identificador de la conversación)."
    if len(remitente) > MAX_REMITENTE:
        return f"«sender» es demasiado largo (máximo {MAX_REMITENTE} caracteres)."
    if not isinstance(mensaje, str):
        return "Falta «message» (el texto del usuario)."
    if len(mensaje) > MAX_MENSAJE:
        return f"«message» es demasiado largo (máximo {MAX_MENSAJE} caracteres)."
    metadata = cuerpo.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        return "«metadata» debe ser un objeto JSON."
    return None


class RestProtegidoInput(RestInput):
    """Rasa's REST channel (name "rest") that only answers callers with RASA_TOKEN."""

    @classmethod
    def name(cls) -> str:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> RestProtegidoInput:
        credentials = credentials or {}
        return cls(token=credentials.get("token") or os.environ.get(VARIABLE_TOKEN))

    def __init__(self, token: str | None = None) -> None:
        self.token = token or None
        if not self.token:
            logger.warning(
                "%s no está definido: el canal REST rechazará todo (403).", VARIABLE_TOKEN
            )

    def get_metadata(self, request: Request) -> Any:
        """The body's `metadata` (Rasa's REST channel drops it): trusted
        callers may give a turn its idempotency key and deadline, as the IVR
        does (`{"idempotencia": ..., "vence": epoch}`)."""
        try:
            metadata = json.loads(request.body or b"").get("metadata")
        except (ValueError, AttributeError):
            return None
        return metadata if isinstance(metadata, dict) else None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = super().blueprint(on_new_message)

        # Blueprint middleware only runs for this blueprint's routes.
        @webhook.middleware("request")
        async def autorizar(request: Request) -> HTTPResponse | None:
            rechazo = rechazo_de_autorizacion(request, self.token, canal="REST")
            if rechazo is not None:
                logger.warning("Solicitud al canal REST rechazada (%s).", rechazo.status)
                return rechazo
            if request.method == "POST":
                motivo = error_de_cuerpo(request)
                if motivo:
                    return json_es({"detail": motivo}, 400)
            return None

        return webhook
