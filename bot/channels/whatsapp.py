"""WhatsApp through Twilio Messaging: a Rasa input channel that answers in TwiML.

Why not Rasa's built-in `twilio` channel: it checks no signature, turns every
`¡` into `@`, prints buttons with their payloads, ignores media and replies
with an outbound REST call. This one:

* checks `X-Twilio-Signature` (whatsapp_firma.py); no token, no
  PUBLIC_BASE_URL or a bad signature -> 403;
* answers in the webhook response itself (whatsapp_twiml.py), buttons as
  numbered options; "2", "dos", "segunda" or a title map back to the payload
  (opciones.py) of the buttons the person sees, read from the tracker;
* reads at most `max_cuerpo` bytes of a request (whatsapp_peticion.py) and
  answers an image, audio, location or empty message politely;
* never echoes a CURP or a NIP in full (privacidad.py; a bare 4-digit answer
  is a NIP when the form is asking for the NIP);
* answers within Twilio's 15-second webhook limit: if Rasa takes longer than
  `espera_maxima` (11 s), the webhook answers an apology while the turn goes
  on (shielded, never cancelled halfway); its answer is then sent outbound
  when a Twilio REST client is configured (TWILIO_ACCOUNT_SID), or else
  delivered with the reply to the person's next message (whatsapp_tardio.py).

No conversation state lives in this process. Each accepted message is
registered, with a lease its replica keeps renewing, in the tracker store's
database (almacenes/bandeja_whatsapp.py), and so are late replies not yet
delivered; another replica finishes the turns of one that died
(whatsapp_tardio.py). What the channel says itself is in whatsapp_salida.py.

The conversation id is Twilio's `From` address (`whatsapp:+521...`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import uuid
from typing import Any, Dict, Optional, Set

from rasa.core.channels.channel import InputChannel
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from twilio.twiml.messaging_response import MessagingResponse

from bot.almacenes.bandeja_whatsapp import BandejaWhatsApp
from bot.channels.opciones import resolver_opcion
from bot.channels.privacidad import nips_en
from bot.channels.ultimo_turno import botones_del_ultimo_turno
from bot.channels.whatsapp_envio import Enviador, EnviadorTwilio
from bot.channels.whatsapp_firma import firma_valida, formulario
from bot.channels.whatsapp_peticion import leer_cuerpo_limitado, tipo_de_medio
from bot.channels.whatsapp_salida import CANAL, MENSAJES, WhatsAppOutput
from bot.channels.whatsapp_tardio import Manejador, TurnosWhatsApp
from bot.channels.whatsapp_twiml import construir_piezas, twiml_de

logger = logging.getLogger(__name__)

# Twilio waits 15 s for the webhook's answer; ours goes out before that.
ESPERA_MAXIMA = 11.0
# A turn's lease: renewed every third of it while the turn runs; a replica
# that stops renewing for this long is taken as dead.
PLAZO_TURNO = 9.0
# How often each replica looks for turns left by a dead one.
CADA_RESCATE = 2.0
# Twilio's form for one message is a few KB (WHATSAPP_MAX_CUERPO_BYTES).
MAX_CUERPO = 16 * 1024

def _error(detail: str, status: int) -> HTTPResponse:
    return response.json(
        {"detail": detail}, status=status, dumps=lambda o: json.dumps(o, ensure_ascii=False)
    )


def _twiml(respuesta: MessagingResponse) -> HTTPResponse:
    return response.text(str(respuesta), content_type="text/xml; charset=utf-8")


def _respuesta_simple(texto: str) -> HTTPResponse:
    twiml = MessagingResponse()
    twiml.message(texto)
    return _twiml(twiml)


class WhatsAppInput(TurnosWhatsApp, InputChannel):
    """Twilio WhatsApp webhook: POST /webhooks/whatsapp/webhook."""

    @classmethod
    def name(cls) -> str:
        return CANAL

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> InputChannel:
        credentials = credentials or {}
        return cls(
            auth_token=credentials.get("auth_token") or os.environ.get("TWILIO_AUTH_TOKEN"),
            public_base_url=credentials.get("public_base_url") or os.environ.get("PUBLIC_BASE_URL"),
            enviador=EnviadorTwilio.desde_entorno(credentials),
            espera_maxima=float(
                credentials.get("espera_maxima")
                or os.environ.get("WHATSAPP_ESPERA_MAXIMA")
                or ESPERA_MAXIMA
            ),
            plazo_turno=float(os.environ.get("WHATSAPP_PLAZO_TURNO") or PLAZO_TURNO),
            max_cuerpo=int(os.environ.get("WHATSAPP_MAX_CUERPO_BYTES") or MAX_CUERPO),
        )

    def __init__(
        self,
        auth_token: Optional[str],
        public_base_url: Optional[str],
        *,
        enviador: Optional[Enviador] = None,
        espera_maxima: float = ESPERA_MAXIMA,
        bandeja: Optional[BandejaWhatsApp] = None,
        plazo_turno: float = PLAZO_TURNO,
        cada_rescate: float = CADA_RESCATE,
        max_cuerpo: int = MAX_CUERPO,
    ) -> None:
        self.max_cuerpo = max_cuerpo
        self.auth_token = auth_token or None
        self.public_base_url = (public_base_url or "").strip().rstrip("/")
        self.enviador = enviador
        self.espera_maxima = espera_maxima
        self.plazo_turno = plazo_turno
        self.cada_rescate = cada_rescate
        self._bandeja = bandeja
        self._en_curso: Set[asyncio.Future[Any]] = set()
        self._rescate: Optional[asyncio.Future[Any]] = None
        if not self.auth_token:
            logger.warning(
                "TWILIO_AUTH_TOKEN no está definido: el canal whatsapp rechazará todo (403)."
            )
        if not self.public_base_url:
            logger.warning(
                "PUBLIC_BASE_URL no está definido: el canal whatsapp rechazará todo (403)."
            )

    # -- webhook ---------------------------------------------------------------

    def blueprint(self, on_new_message: Manejador) -> Blueprint:
        whatsapp_webhook = Blueprint("whatsapp_webhook", __name__)

        @whatsapp_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        # stream=True: the body is read here, at most `max_cuerpo` bytes,
        # before anything (the signature check included) looks at it.
        @whatsapp_webhook.route("/webhook", methods=["POST"], stream=True)
        async def message(request: Request) -> HTTPResponse:
            if not await leer_cuerpo_limitado(request, self.max_cuerpo):
                logger.warning(
                    "Webhook de WhatsApp rechazado: cuerpo de más de %s bytes.", self.max_cuerpo
                )
                return _error(
                    f"La solicitud es demasiado grande (máximo {self.max_cuerpo} bytes).", 413
                )
            if not firma_valida(self.auth_token, self.public_base_url, request):
                logger.warning("Webhook de WhatsApp rechazado: firma de Twilio ausente o inválida.")
                return _error("Firma de Twilio ausente o inválida.", 403)
            return await self.atender(request, on_new_message)

        @whatsapp_webhook.listener("after_server_start")
        async def rescatar(app: Any, _: Any) -> None:
            self._rescate = asyncio.ensure_future(self._rescatar_siempre(app, on_new_message))

        @whatsapp_webhook.listener("before_server_stop")
        async def detener(app: Any, _: Any) -> None:
            if self._rescate is not None:
                self._rescate.cancel()

        return whatsapp_webhook

    async def atender(self, request: Request, on_new_message: Manejador) -> HTTPResponse:
        parametros = formulario(request)
        remitente = parametros.get("From")
        if not remitente:
            return _error("Falta el remitente (From).", 400)
        texto = (parametros.get("ButtonPayload") or parametros.get("Body") or "").strip()
        medio = tipo_de_medio(request)
        if not texto:
            # Nothing Rasa could read: answer here, keep the options on screen.
            return _respuesta_simple(MENSAJES[medio or "vacio"])

        tracker = await self._tracker(request.app, remitente)
        pide_nip = tracker is not None and tracker.get_slot("requested_slot") == "nip"
        nips = nips_en(texto, pide_nip)
        texto = resolver_opcion(texto, botones_del_ultimo_turno(tracker)) or texto
        message_sid = parametros.get("MessageSid") or f"SM-local-{uuid.uuid4().hex}"
        numero_capp = parametros.get("To")
        # What another replica needs to finish the turn; a NIP is not kept
        # (replayed, it would be asked again rather than stored).
        datos = {
            "texto": "****" if nips else texto,
            "to": numero_capp,
            "metadata": self.get_metadata(request),
        }
        if not await asyncio.to_thread(
            self.bandeja.registrar, message_sid, remitente, datos, self.plazo_turno
        ):
            logger.info(
                "Mensaje de WhatsApp repetido por Twilio (%s): ya se está atendiendo.", message_sid
            )
            return _twiml(MessagingResponse())

        salida = WhatsAppOutput()
        turno = self._correr(
            on_new_message, texto, salida, remitente, message_sid, self.get_metadata(request)
        )
        try:
            # shield: when the wait ends (or Twilio hangs up), the turn goes on,
            # so the tracker is never left half-updated.
            await asyncio.wait_for(asyncio.shield(turno), timeout=self.espera_maxima)
        except asyncio.TimeoutError:  # noqa: UP041 (not the builtin on Python 3.10)
            logger.warning(
                "Un turno de WhatsApp tardó más de %.1f s: se respondió una disculpa; "
                "la respuesta irá después.",
                self.espera_maxima,
            )
            self._entregar_al_terminar(turno, salida, remitente, numero_capp, message_sid, nips)
            return _respuesta_simple(MENSAJES["demora_saliente" if self.enviador else "demora"])
        except asyncio.CancelledError:
            self._entregar_al_terminar(turno, salida, remitente, numero_capp, message_sid, nips)
            raise
        except Exception:  # the person must get an answer, never a 500
            logger.exception("Error al procesar un mensaje de WhatsApp")
            await asyncio.to_thread(self.bandeja.terminar, message_sid)
            return _respuesta_simple(MENSAJES["error"])

        await asyncio.to_thread(self.bandeja.terminar, message_sid)
        pendientes = await asyncio.to_thread(self.bandeja.tomar_pendientes, remitente)
        mensajes = ([{"text": MENSAJES["anterior"]}, *pendientes] if pendientes else []) + list(
            salida.messages
        )
        if medio:
            mensajes.insert(0, {"text": MENSAJES[medio].split(" ¿")[0]})
        if not salida.messages:
            mensajes.append({"text": MENSAJES["sin_respuesta"]})
        return _twiml(twiml_de(construir_piezas(mensajes, nips)))

    def get_metadata(self, request: Request) -> Optional[Dict[str, Any]]:
        # Twilio's MessageSid keys the turn: a turn replayed by another replica
        # (or a message Twilio posts twice) never books or cancels twice.
        sid = formulario(request).get("MessageSid")
        return {"canal": "whatsapp", **({"idempotencia": f"wa-{sid}"} if sid else {})}

    def get_output_channel(self) -> WhatsAppOutput:
        # Replies travel in the webhook's TwiML, so there is no push channel;
        # a collector keeps Rasa's external-event API from crashing.
        return WhatsAppOutput()


