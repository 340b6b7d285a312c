"""Rasa side of the phone line.

The ivr service (FastAPI, :8001) turns each caller turn into a POST to
`/webhooks/ivr/webhook` with the CallSid as `sender`. We run the message through
Rasa with an output channel named "ivr" (so `channel: ivr` response variants are
chosen) and answer with the bot messages plus what the ivr needs to decide how
to gather the next input: the tracker's `requested_slot` and `active_loop`, the
last buttons (the ivr reads them as "marque 1 para ...") and any `accion`
(transferir / colgar) found in custom payloads.

Extra routes on the same blueprint:
  POST /webhooks/ivr/interpretar  {"message"} -> the NLU parse, tracker untouched
                                  (lets the menu jump to the leaf the caller named)
  POST /webhooks/ivr/repetir      {"sender"}  -> the last answer again ("9" repeats)

No state in this process: the last answer (its buttons, for "marque 2", and
its text, for "9") is read back from the conversation's tracker, the bot
messages after the last user message, so any Rasa replica can take any turn.

Channel webhooks are not covered by Rasa's `--auth-token`, and the sender is
the CallSid: whoever reached :5005 could drive a caller's conversation and skip
Twilio's signature check (done by the ivr service). So these three routes need
`Authorization: Bearer <RASA_TOKEN>` (constant-time compare). No RASA_TOKEN in
the environment -> everything is refused (403, fail closed, warned once);
no/odd header -> 401; wrong token -> 403. Answers are JSON in Spanish.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.autorizacion import VARIABLE_TOKEN, rechazo_de_autorizacion
from bot.channels.ultimo_turno import mensajes_del_ultimo_turno
from bot.texto import sin_acentos
from habla.opciones import posicion_de_opcion

logger = logging.getLogger(__name__)

_aviso_sin_token_dado = False


def _avisar_sin_token() -> None:
    global _aviso_sin_token_dado
    if not _aviso_sin_token_dado:
        _aviso_sin_token_dado = True
        logger.warning(
            "%s no está definido: el canal ivr rechazará todas las solicitudes (403).",
            VARIABLE_TOKEN,
        )


def _cuerpo(request: Request) -> dict[str, Any]:
    """The JSON object posted; anything else (a list, a number) reads as empty."""
    return request.json if isinstance(request.json, dict) else {}


class IVROutput(CollectingOutputChannel):
    """Collects bot messages; named "ivr" so Rasa picks the voice response variants."""

    @classmethod
    def name(cls) -> str:
        return "ivr"


def _minusculas_sin_acentos(texto: str) -> str:
    return sin_acentos(texto.lower())


class IVRInput(InputChannel):
    """Input channel for the ivr service. Not exposed to Twilio directly: the ivr
    service validates Twilio's signature and is the only caller of this webhook."""

    @classmethod
    def name(cls) -> str:
        return "ivr"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> IVRInput:
        return cls(token=os.environ.get(VARIABLE_TOKEN))

    def __init__(self, token: str | None = None) -> None:
        self.token = token or None
        if not self.token:
            _avisar_sin_token()

    # ----------------------------------------------------------------- state
    @staticmethod
    async def _tracker(request: Request, sender: str) -> Any:
        return await request.app.ctx.agent.tracker_store.retrieve(sender)

    def ultima(self, tracker: Any) -> dict[str, Any] | None:
        """The answer of the conversation's last turn, from its tracker."""
        if tracker is None:
            return None
        mensajes = mensajes_del_ultimo_turno(tracker)
        if not mensajes:
            return None
        return self._resumen(mensajes, tracker)

    @staticmethod
    def mapear_boton(anterior: dict[str, Any] | None, texto: str) -> str:
        """Turn a key ("2"), a spoken number or ordinal, or a spoken button title
        into that button's payload."""
        botones = (anterior or {}).get("botones") or []
        if not botones or texto.lstrip().startswith("/"):
            return texto  # an intent the ivr chose ("/cancelar_cita{...}") is never a button
        limpio = texto.strip()
        # "2", "dos", "la segunda", "la última": read as on WhatsApp and in the phone menus.
        posicion = posicion_de_opcion(limpio, len(botones))
        if posicion is not None:
            return botones[posicion - 1]["payload"]
        dicho = _minusculas_sin_acentos(limpio)
        nombrados = []
        for boton in botones:
            titulo = _minusculas_sin_acentos(boton.get("title", ""))
            if titulo and dicho == titulo:
                return boton["payload"]
            dentro = re.search(rf"\b{re.escape(titulo)}\b", dicho) if titulo else None
            # "no es renovación" names a button to refuse it: the words go to the bot,
            # whose forms read negations; so do sentences naming more than one.
            if dentro and not re.search(r"\bno\s+(?:\w+\s+){0,2}$", dicho[:dentro.start()]):
                nombrados.append(boton["payload"])
        return nombrados[0] if len(nombrados) == 1 else texto

    # ----------------------------------------------------------------- output
    @staticmethod
    def _resumen(mensajes: list[dict[str, Any]], tracker: Any) -> dict[str, Any]:
        textos: list[str] = []
        botones: list[dict[str, str]] = []
        accion: str | None = None
        for m in mensajes:
            if m.get("text"):
                textos.append(m["text"])
            if m.get("buttons"):
                botones = [
                    {"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
                    for b in m["buttons"]
                ]
            custom = m.get("custom")
            if isinstance(custom, dict):
                if custom.get("accion"):
                    accion = str(custom["accion"])
                if custom.get("text"):
                    textos.append(str(custom["text"]))
        requested_slot = active_loop = None
        intent = None
        if tracker is not None:
            requested_slot = tracker.get_slot("requested_slot")
            active_loop = tracker.active_loop_name
            intent = (tracker.latest_message.intent or {}).get("name")
        return {
            "mensajes": textos,
            "botones": botones,
            "accion": accion,
            "requested_slot": requested_slot,
            "active_loop": active_loop,
            "intent": intent,
        }

    # ----------------------------------------------------------------- routes
    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        ivr_webhook = Blueprint("ivr_webhook", __name__)

        # Blueprint middleware runs for this blueprint's routes only. Every
        # route but the liveness one (which says nothing about any call) is
        # protected, so a route added later is closed by default.
        @ivr_webhook.middleware("request")
        async def autorizar(request: Request) -> HTTPResponse | None:
            if request.method == "GET" and (request.name or "").endswith(".health"):
                return None
            return rechazo_de_autorizacion(request, self.token, canal="ivr")

        @ivr_webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @ivr_webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            cuerpo = _cuerpo(request)
            sender = cuerpo.get("sender")
            texto = cuerpo.get("message")
            if not sender or not isinstance(texto, str) or not texto.strip():
                return response.json(
                    {"detail": "Faltan 'sender' o 'message'."}, status=400
                )
            if not texto.lstrip().startswith("/"):
                texto = self.mapear_boton(self.ultima(await self._tracker(request, sender)), texto)
            metadata = cuerpo.get("metadata") if isinstance(cuerpo.get("metadata"), dict) else {}
            collector = IVROutput()
            try:
                await on_new_message(
                    UserMessage(
                        texto,
                        collector,
                        sender,
                        input_channel=self.name(),
                        metadata=metadata,
                    )
                )
            except Exception:  # the ivr turns a 500 into an apology for the caller
                logger.exception("Error procesando un turno del IVR")
                return response.json({"detail": "Error interno del asistente."}, status=500)
            tracker = await self._tracker(request, sender)
            return response.json(self._resumen(collector.messages, tracker))

        @ivr_webhook.route("/interpretar", methods=["POST"])
        async def interpretar(request: Request) -> HTTPResponse:
            cuerpo = _cuerpo(request)
            texto = cuerpo.get("message")
            if not isinstance(texto, str) or not texto.strip():
                return response.json({"detail": "Falta 'message'."}, status=400)
            parse = await request.app.ctx.agent.parse_message(texto)
            intent = parse.get("intent") or {}
            return response.json(
                {
                    "intent": intent.get("name"),
                    "confidence": float(intent.get("confidence") or 0.0),
                    "entities": [
                        {"entity": e.get("entity"), "value": e.get("value")}
                        for e in parse.get("entities", [])
                    ],
                }
            )

        @ivr_webhook.route("/repetir", methods=["POST"])
        async def repetir(request: Request) -> HTTPResponse:
            cuerpo = _cuerpo(request)
            sender = str(cuerpo.get("sender", ""))
            anterior = self.ultima(await self._tracker(request, sender)) if sender else None
            if anterior is None:
                return response.json({"detail": "Sin respuesta previa."}, status=404)
            return response.json(anterior)

        return ivr_webhook
