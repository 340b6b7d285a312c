"""WhatsApp through Twilio Messaging: a Rasa input channel that answers in TwiML.

Why not Rasa's built-in `twilio` channel: it checks no signature, turns every
`¡` into `@`, prints buttons with their payloads, ignores media and replies
with an outbound REST call. This one:

* checks `X-Twilio-Signature` (whatsapp_firma.py); no token, no
  PUBLIC_BASE_URL or a bad signature -> 403;
* answers in the webhook response itself (whatsapp_twiml.py), buttons as
  numbered options; "2", "dos", "segunda" or a title map back to the payload
  (opciones.py) of the buttons the person sees, read from the tracker;
* answers an image, audio, location or empty message politely;
* never echoes a CURP or a NIP in full (privacidad.py; a bare 4-digit answer
  is a NIP when the form is asking for the NIP);
* answers within Twilio's 15-second webhook limit: if Rasa takes longer than
  `espera_maxima` (11 s), the webhook answers an apology while the turn goes
  on (shielded, never cancelled halfway); its answer is then sent outbound
  when a Twilio REST client is configured (TWILIO_ACCOUNT_SID), or else
  delivered with the reply to the person's next message.

No conversation state lives in this process. Each accepted message is
registered, with a lease its replica keeps renewing, in the tracker store's
database (almacenes/bandeja_whatsapp.py), and so are late replies not yet
delivered. If the replica running a turn dies, another replica claims the
turn when its lease runs out, finishes it (or, when the dead replica had
already saved it, reads its answer back from the tracker, found by Twilio's
MessageSid) and delivers the answer once.

The conversation id is Twilio's `From` address (`whatsapp:+521...`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, Dict, List, Optional, Set

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from rasa.shared.core.events import BotUttered, UserUttered
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from twilio.twiml.messaging_response import MessagingResponse

from bot import almacenes
from bot.almacenes.bandeja_whatsapp import BandejaWhatsApp
from bot.channels.opciones import resolver_opcion
from bot.channels.privacidad import nips_en
from bot.channels.ultimo_turno import botones_del_ultimo_turno, como_mensaje
from bot.channels.whatsapp_envio import Enviador, EnviadorTwilio
from bot.channels.whatsapp_firma import firma_valida, formulario
from bot.channels.whatsapp_twiml import Pieza, construir_piezas, twiml_de

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

SUGERENCIA = "Por ejemplo: «saldo», «simular préstamo» o «agendar cita»."
MENSAJES = {
    "imagen": "Recibí su imagen, pero por este medio solo puedo leer texto. ¿Me escribe su consulta? " + SUGERENCIA,
    "audio": "Recibí su nota de voz, pero por ahora no puedo escuchar audios. ¿Me escribe su consulta? " + SUGERENCIA,
    "video": "Recibí su video, pero por este medio solo puedo leer texto. ¿Me escribe su consulta? " + SUGERENCIA,
    "archivo": "Recibí su archivo, pero por este medio solo puedo leer texto. ¿Me escribe su consulta? " + SUGERENCIA,
    "ubicacion": "Gracias por compartir su ubicación; no la necesito para atenderle. ¿Me escribe su consulta? " + SUGERENCIA,
    "vacio": "No recibí texto en su mensaje. ¿Me escribe su consulta? " + SUGERENCIA,
    "error": "Lo siento, tuve un problema para atenderle. Intente de nuevo en unos minutos o llame a ISSSTETEL 55 4000 1000, opción 5.",
    "sin_respuesta": "Disculpe, no tengo una respuesta para eso. ¿Me lo puede decir de otra forma? " + SUGERENCIA,
    "demora": "Disculpe, su consulta está tardando más de lo normal. Escríbame de nuevo en un momento y le mostraré la respuesta.",
    "demora_saliente": "Disculpe, su consulta está tardando más de lo normal. En cuanto tenga la respuesta se la envío por aquí.",
    "anterior": "Esta es la respuesta a su mensaje anterior:",
}

Manejador = Callable[[UserMessage], Awaitable[Any]]


class WhatsAppOutput(CollectingOutputChannel):
    """Collects the bot's messages of one turn; the webhook turns them into TwiML."""

    @classmethod
    def name(cls) -> str:
        return "whatsapp"


def _error(detail: str, status: int) -> HTTPResponse:
    return response.json({"detail": detail}, status=status, dumps=lambda o: json.dumps(o, ensure_ascii=False))


def _twiml(respuesta: MessagingResponse) -> HTTPResponse:
    return response.text(str(respuesta), content_type="text/xml; charset=utf-8")


def _respuesta_simple(texto: str) -> HTTPResponse:
    twiml = MessagingResponse()
    twiml.message(texto)
    return _twiml(twiml)


def _tipo_de_medio(request: Request) -> Optional[str]:
    """What non-text thing the person sent, if any: imagen/audio/video/archivo/ubicacion."""
    datos = formulario(request)
    if datos.get("Latitude") and datos.get("Longitude"):
        return "ubicacion"
    try:
        num_media = int(datos.get("NumMedia") or 0)
    except ValueError:
        num_media = 0
    if num_media <= 0:
        return None
    tipo = (datos.get("MediaContentType0") or "").lower()
    for prefijo, nombre in (("image", "imagen"), ("audio", "audio"), ("video", "video")):
        if tipo.startswith(prefijo):
            return nombre
    return "archivo"


async def leer_cuerpo_limitado(request: Request, limite: int) -> bool:
    """Read the body of a streamed request into `request.body`, refusing
    (False) as soon as it passes `limite` bytes; a declared Content-Length over
    the limit is refused without reading anything."""
    largo = request.headers.get("content-length", "")
    if largo.isdigit() and int(largo) > limite:
        _cortar(request, limite)
        return False
    partes: List[bytes] = []
    total = 0
    async for parte in request.stream:
        if not parte:
            continue
        total += len(parte)
        if total > limite:
            _cortar(request, limite)
            return False
        partes.append(parte)
    request.body = b"".join(partes)
    return True


def _cortar(request: Request, limite: int) -> None:
    # Over HTTP, Sanic drains what is left of the body after the answer:
    # with this limit it closes the connection instead of reading on.
    if hasattr(request.stream, "request_max_size"):
        request.stream.request_max_size = limite


def respuesta_guardada(tracker: Any, message_sid: str) -> Optional[List[Dict[str, Any]]]:
    """The bot messages that answered the user message with this id, if the
    tracker holds it (the turn was completed and saved)."""
    eventos = list(getattr(tracker, "events", None) or [])
    for i, evento in enumerate(eventos):
        if isinstance(evento, UserUttered) and evento.message_id == message_sid:
            mensajes = []
            for siguiente in eventos[i + 1:]:
                if isinstance(siguiente, UserUttered):
                    break
                if isinstance(siguiente, BotUttered):
                    mensajes.append(como_mensaje(siguiente))
            return mensajes
    return None


class WhatsAppInput(InputChannel):
    """Twilio WhatsApp webhook: POST /webhooks/whatsapp/webhook."""

    @classmethod
    def name(cls) -> str:
        return "whatsapp"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> InputChannel:
        credentials = credentials or {}
        return cls(
            auth_token=credentials.get("auth_token") or os.environ.get("TWILIO_AUTH_TOKEN"),
            public_base_url=credentials.get("public_base_url") or os.environ.get("PUBLIC_BASE_URL"),
            enviador=EnviadorTwilio.desde_entorno(credentials),
            espera_maxima=float(
                credentials.get("espera_maxima") or os.environ.get("WHATSAPP_ESPERA_MAXIMA") or ESPERA_MAXIMA
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
        # Turns and sends still running after their webhook answered (kept referenced).
        self._en_curso: Set[asyncio.Future[Any]] = set()
        self._rescate: Optional[asyncio.Future[Any]] = None
        if not self.auth_token:
            logger.warning("TWILIO_AUTH_TOKEN no está definido: el canal whatsapp rechazará todo (403).")
        if not self.public_base_url:
            logger.warning("PUBLIC_BASE_URL no está definido: el canal whatsapp rechazará todo (403).")

    @property
    def bandeja(self) -> BandejaWhatsApp:
        """The tracker store's bandeja (shared by every replica); a private
        in-memory one only where Rasa runs without our tracker store (tests)."""
        if self._bandeja is None:
            almacen = almacenes.actual()
            if almacen is not None:
                self._bandeja = BandejaWhatsApp(almacen.engine, almacen.replica_id)
            else:
                logger.warning("Sin almacén de conversaciones SQL: la bandeja de WhatsApp vive en memoria.")
                self._bandeja = BandejaWhatsApp.en_memoria()
        return self._bandeja

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
                logger.warning("Webhook de WhatsApp rechazado: cuerpo de más de %s bytes.", self.max_cuerpo)
                return _error(f"La solicitud es demasiado grande (máximo {self.max_cuerpo} bytes).", 413)
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

    @staticmethod
    async def _tracker(app: Any, remitente: str) -> Any:
        almacen = getattr(getattr(getattr(app, "ctx", None), "agent", None), "tracker_store", None)
        if almacen is None:
            return None
        try:
            return await almacen.retrieve(remitente)
        except Exception:  # a tracker store hiccup must not lose the message
            logger.warning("No pude leer el tracker de una conversación de WhatsApp.", exc_info=True)
            return None

    async def atender(self, request: Request, on_new_message: Manejador) -> HTTPResponse:
        parametros = formulario(request)
        remitente = parametros.get("From")
        if not remitente:
            return _error("Falta el remitente (From).", 400)
        texto = (parametros.get("ButtonPayload") or parametros.get("Body") or "").strip()
        medio = _tipo_de_medio(request)
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
        datos = {"texto": "****" if nips else texto, "to": numero_capp, "metadata": self.get_metadata(request)}
        if not await asyncio.to_thread(self.bandeja.registrar, message_sid, remitente, datos, self.plazo_turno):
            logger.info("Mensaje de WhatsApp repetido por Twilio (%s): ya se está atendiendo.", message_sid)
            return _twiml(MessagingResponse())

        salida = WhatsAppOutput()
        turno = self._correr(on_new_message, texto, salida, remitente, message_sid, self.get_metadata(request))
        try:
            # shield: when the wait ends (or Twilio hangs up), the turn goes on,
            # so the tracker is never left half-updated.
            await asyncio.wait_for(asyncio.shield(turno), timeout=self.espera_maxima)
        except asyncio.TimeoutError:  # noqa: UP041 (not the builtin on Python 3.10)
            logger.warning(
                "Un turno de WhatsApp tardó más de %.1f s: se respondió una disculpa; la respuesta irá después.",
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
        mensajes = ([{"text": MENSAJES["anterior"]}, *pendientes] if pendientes else []) + list(salida.messages)
        if medio:
            mensajes.insert(0, {"text": MENSAJES[medio].split(" ¿")[0]})
        if not salida.messages:
            mensajes.append({"text": MENSAJES["sin_respuesta"]})
        return _twiml(twiml_de(construir_piezas(mensajes, nips)))

    # -- running a turn ------------------------------------------------------------

    def _correr(
        self,
        on_new_message: Manejador,
        texto: str,
        salida: WhatsAppOutput,
        remitente: str,
        message_sid: str,
        metadata: Optional[Dict[str, Any]],
    ) -> asyncio.Future[Any]:
        """Run the turn, renewing its lease while it runs."""

        async def con_lease() -> None:
            renovar = asyncio.ensure_future(self._renovar(message_sid))
            try:
                await on_new_message(
                    UserMessage(
                        texto, salida, remitente, input_channel=self.name(),
                        message_id=message_sid, metadata=metadata,
                    )
                )
            finally:
                renovar.cancel()

        turno = asyncio.ensure_future(con_lease())
        self._en_curso.add(turno)
        turno.add_done_callback(self._en_curso.discard)
        return turno

    async def _renovar(self, message_sid: str) -> None:
        while True:
            await asyncio.sleep(self.plazo_turno / 3)
            try:
                await asyncio.to_thread(self.bandeja.renovar, message_sid, self.plazo_turno)
            except Exception:
                logger.warning("No se pudo renovar un turno de WhatsApp en la bandeja.", exc_info=True)

    # -- late answers --------------------------------------------------------------

    def _entregar_al_terminar(
        self,
        turno: asyncio.Future[Any],
        salida: WhatsAppOutput,
        remitente: str,
        numero_capp: Optional[str],
        message_sid: str,
        nips: List[str],
    ) -> None:
        """When the turn ends, send its answer outbound, or keep it for the next reply."""

        def al_terminar(tarea: asyncio.Future[Any]) -> None:
            if tarea.cancelled() or tarea.exception() is not None:
                if not tarea.cancelled():
                    logger.error("Un turno de WhatsApp que tardó falló después", exc_info=tarea.exception())
                mensajes: List[Dict[str, Any]] = [{"text": MENSAJES["error"]}]
            else:
                mensajes = list(salida.messages) or [{"text": MENSAJES["sin_respuesta"]}]
            if self.enviador is None:
                # Kept before anything else runs on this loop (a short write):
                # the person's next message, queued behind this turn's lock,
                # must find it.
                if self.bandeja.terminar(message_sid):
                    self.bandeja.guardar_pendientes(remitente, mensajes)
                return
            envio = asyncio.ensure_future(self._entregar(message_sid, remitente, numero_capp, mensajes, nips))
            self._en_curso.add(envio)
            envio.add_done_callback(self._en_curso.discard)

        turno.add_done_callback(al_terminar)

    async def _entregar(
        self,
        message_sid: str,
        remitente: str,
        numero_capp: Optional[str],
        mensajes: List[Dict[str, Any]],
        nips: List[str],
    ) -> None:
        """Deliver a late answer once: only the replica that removes the turn
        from the bandeja delivers it (outbound, or kept for the next reply)."""
        if not await asyncio.to_thread(self.bandeja.terminar, message_sid):
            logger.info("Otra réplica ya entregó la respuesta de %s.", message_sid)
            return
        if self.enviador is None:
            await asyncio.to_thread(self.bandeja.guardar_pendientes, remitente, mensajes)
            return
        piezas = construir_piezas(mensajes, nips)
        enviadas = 0
        try:
            for pieza in piezas:
                await self.enviador.enviar(para=remitente, de=numero_capp, pieza=pieza)
                enviadas += 1
        except Exception:
            logger.exception("No se pudo enviar por Twilio una respuesta que tardó; irá con el siguiente mensaje.")
            # Keep what did not arrive (already rendered and masked) for the next reply.
            await asyncio.to_thread(self.bandeja.guardar_pendientes, remitente, _como_mensajes(piezas[enviadas:]))

    # -- turns left by a replica that died -------------------------------------------

    async def _rescatar_siempre(self, app: Any, on_new_message: Manejador) -> None:
        while True:
            await asyncio.sleep(self.cada_rescate)
            try:
                await self.rescatar(app, on_new_message)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.warning("El rescate de turnos de WhatsApp falló; se reintenta.", exc_info=True)

    async def rescatar(self, app: Any, on_new_message: Manejador) -> int:
        """Finish and deliver the turns whose replica stopped renewing them."""
        reclamados = await asyncio.to_thread(self.bandeja.reclamar_vencidos, self.plazo_turno)
        for turno in reclamados:
            sid, remitente = turno["message_sid"], turno["remitente"]
            logger.warning("Rescatando un turno de WhatsApp de una réplica que no responde (%s).", sid)
            mensajes = respuesta_guardada(await self._tracker(app, remitente), sid)
            if mensajes is None:
                salida = WhatsAppOutput()
                try:
                    await self._correr(on_new_message, turno["texto"], salida, remitente, sid, turno.get("metadata"))
                    mensajes = list(salida.messages) or [{"text": MENSAJES["sin_respuesta"]}]
                except Exception:
                    logger.exception("Un turno rescatado de WhatsApp falló")
                    mensajes = [{"text": MENSAJES["error"]}]
            await self._entregar(sid, remitente, turno.get("to"), mensajes or [{"text": MENSAJES["sin_respuesta"]}], [])
        return len(reclamados)

    async def terminar_pendientes(self) -> None:
        """Wait for turns and sends still running (tests, shutdown)."""
        while self._en_curso:
            await asyncio.gather(*list(self._en_curso), return_exceptions=True)

    def get_metadata(self, request: Request) -> Optional[Dict[str, Any]]:
        # Twilio's MessageSid keys the turn: a turn replayed by another replica
        # (or a message Twilio posts twice) never books or cancels twice.
        sid = formulario(request).get("MessageSid")
        return {"canal": "whatsapp", **({"idempotencia": f"wa-{sid}"} if sid else {})}

    def get_output_channel(self) -> WhatsAppOutput:
        # Replies travel in the webhook's TwiML, so there is no push channel;
        # a collector keeps Rasa's external-event API from crashing.
        return WhatsAppOutput()


def _como_mensajes(piezas: List[Pieza]) -> List[Dict[str, Any]]:
    mensajes: List[Dict[str, Any]] = []
    for pieza in piezas:
        if pieza.medios:
            mensajes.extend({"attachment": {"url": url, "title": pieza.cuerpo or None}} for url in pieza.medios)
        elif pieza.cuerpo:
            mensajes.append({"text": pieza.cuerpo})
    return mensajes
