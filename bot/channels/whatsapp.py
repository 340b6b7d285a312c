"""WhatsApp through Twilio Messaging: a Rasa input channel that answers in TwiML.

Why not Rasa's built-in `twilio` channel: it checks no signature, turns every
`¡` into `@`, prints buttons with their payloads, ignores media and replies
with an outbound REST call. This one:

* checks `X-Twilio-Signature` (Twilio's own RequestValidator) over
  PUBLIC_BASE_URL + path with every posted parameter; no token, no
  PUBLIC_BASE_URL (the request's Host header is never trusted) or a bad
  signature -> 403;
* keeps the text intact and answers in the webhook response itself
  (`MessagingResponse`), split under Twilio's 1600-character body limit;
* renders buttons as numbered options and maps "2", "dos", "segunda" or the
  button's title back to the button's payload;
* turns attachments (the backend's signed, expiring PDF links) into `<Media>`;
* answers an image, audio, location or empty message politely;
* never echoes back in full a CURP or a NIP the user typed (a bare 4-digit
  answer counts as a NIP only when the bot had just asked for the NIP);
* answers within Twilio's 15-second webhook limit: if Rasa takes longer than
  `espera_maxima` (11 s), the webhook answers a Spanish apology while the turn
  goes on unharmed (shielded, never cancelled halfway); its answer is then
  sent as an outbound message when a Twilio REST client is configured
  (TWILIO_ACCOUNT_SID), or else delivered with the reply to the user's next
  message.

The conversation id is Twilio's `From` address (`whatsapp:+521...`): the
WhatsApp number, kept with its prefix so it never collides with the same
number calling the phone line.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import unicodedata
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import parse_qs

from rasa.core.channels.channel import (
    CollectingOutputChannel,
    InputChannel,
    UserMessage,
)
from sanic import Blueprint, response
from sanic.request import Request, RequestParameters
from sanic.response import HTTPResponse
from text_to_num import text2num
from twilio.request_validator import RequestValidator
from twilio.rest import Client as ClienteTwilio
from twilio.twiml.messaging_response import MessagingResponse

logger = logging.getLogger(__name__)

# Twilio rejects message bodies longer than 1600 characters.
LIMITE_CUERPO = 1600
# Senders whose last buttons / typed secrets we remember (least recently used go first).
MAX_CONVERSACIONES = 5000
# Twilio waits 15 s for the webhook's answer; ours goes out before that.
ESPERA_MAXIMA = 11.0

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
    "opciones": "Responda con el número de su opción.",
    "demora": "Disculpe, su consulta está tardando más de lo normal. Escríbame de nuevo en un momento y le mostraré la respuesta.",
    "demora_saliente": "Disculpe, su consulta está tardando más de lo normal. En cuanto tenga la respuesta se la envío por aquí.",
    "anterior": "Esta es la respuesta a su mensaje anterior:",
}

# CURP shape (4 letters, birth date, sex, state, consonants, homoclave, digit).
CURP_RE = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{4}\d{6}[HMhm][A-Za-z]{5}[A-Za-z0-9]\d(?![A-Za-z0-9])")
# "nip 1234" is always taken as a NIP; a message that is only four digits only
# right after the bot asked for the NIP (a year or a sueldo is not a NIP).
NIP_SOLO_RE = re.compile(r"^\s*(\d{4})\s*$")
NIP_DICHO_RE = re.compile(r"\bnip\D{0,12}(\d{4})(?!\d)", re.IGNORECASE)
# A bot message that asks for the NIP (or for it again), when the tracker
# cannot tell (requested_slot == "nip" is the first signal).
PIDE_NIP_RE = re.compile(
    r"\b(?:escriba|escr[ií]bame|ingrese|marque|teclee|env[ií]e|mande|proporcione|d[ií]game|"
    r"ind[ií]que(?:me)?|comparta|cu[aá]l es)\b[^.?!\n]{0,40}\bNIP\b"
    r"|\bNIP\b[^\n]{0,80}?\bint[eé]nt(?:arlo|elo|e)\b[^\n]{0,15}\b(?:otra vez|de nuevo|nuevamente)\b"
    r"|\bNIP\b[^.\n]{0,40}\b(?:4|cuatro) d[ií]gitos\b",
    re.IGNORECASE,
)

# text2num reads cardinals ("dos") but not ordinals; these few are listed by hand.
ORDINALES = {
    "primero": 1, "primera": 1, "primer": 1, "segundo": 2, "segunda": 2,
    "tercero": 3, "tercera": 3, "tercer": 3, "cuarto": 4, "cuarta": 4,
    "quinto": 5, "quinta": 5, "sexto": 6, "sexta": 6, "septimo": 7, "septima": 7,
    "octavo": 8, "octava": 8, "noveno": 9, "novena": 9, "decimo": 10, "decima": 10,
    "ultimo": -1, "ultima": -1,
}
RELLENO = {"la", "el", "lo", "opcion", "numero", "num", "no", "quiero", "es", "de", "por", "favor", "mi"}


def mascara_curp(curp: str) -> str:
    """`HEGG560427MVZRRL04` -> `HEGG************04`."""
    curp = curp.upper()
    return curp[:4] + "*" * (len(curp) - 6) + curp[-2:]


def enmascarar(texto: str, nips: list[str]) -> str:
    """Mask every CURP-shaped token and every NIP this user typed."""
    texto = CURP_RE.sub(lambda m: mascara_curp(m.group(0)), texto)
    for nip in nips:
        texto = re.sub(rf"(?<![0-9A-Za-z]){re.escape(nip)}(?![0-9A-Za-z])", "****", texto)
    return texto


def nips_en(texto: str, pidio_nip: bool = False) -> list[str]:
    """4-digit NIPs the user typed in this message: "mi nip es 1234" always,
    a bare "1234" only as the answer to the bot asking for the NIP."""
    encontrados = [m.group(1) for m in NIP_DICHO_RE.finditer(texto)]
    solo = NIP_SOLO_RE.match(texto)
    if solo and pidio_nip:
        encontrados.append(solo.group(1))
    return encontrados


def texto_de(mensaje: dict[str, Any]) -> str:
    custom = mensaje.get("custom")
    if isinstance(custom, dict) and isinstance(custom.get("text"), str):
        return custom["text"]
    return mensaje.get("text") or ""


def pide_nip(mensajes: list[dict[str, Any]]) -> bool:
    """Whether the last bot text of a turn asks for the NIP."""
    textos = [texto_de(m) for m in mensajes if texto_de(m)]
    return bool(textos) and PIDE_NIP_RE.search(textos[-1]) is not None


def _normalizar(texto: str) -> str:
    sin_acentos = unicodedata.normalize("NFKD", texto).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9 ]+", " ", sin_acentos.lower()).strip()


def _numero_de_opcion(texto: str) -> int | None:
    palabras = [p for p in _normalizar(texto).split() if p not in RELLENO]
    if len(palabras) != 1:
        return None
    palabra = palabras[0]
    if palabra.isdigit():
        return int(palabra)
    if palabra in ORDINALES:
        return ORDINALES[palabra]
    try:
        return int(text2num(palabra, "es"))
    except ValueError:
        return None


def resolver_opcion(texto: str, botones: list[dict[str, Any]]) -> str | None:
    """The payload of the button the user chose ("1", "uno", "primera", its title), if any."""
    if not botones or not texto:
        return None
    numero = _numero_de_opcion(texto)
    if numero is not None:
        if numero == -1:
            numero = len(botones)
        if 1 <= numero <= len(botones):
            return botones[numero - 1].get("payload") or botones[numero - 1].get("title")
        return None
    normal = _normalizar(texto)
    for boton in botones:
        if normal and normal == _normalizar(str(boton.get("title", ""))):
            return boton.get("payload") or boton.get("title")
    return None


def partir(texto: str, limite: int = LIMITE_CUERPO) -> list[str]:
    """Split text into pieces of at most `limite` characters, at paragraph,
    line, then word boundaries (textwrap would collapse the line breaks)."""
    texto = texto.strip()
    if len(texto) <= limite:
        return [texto] if texto else []
    for separador in ("\n\n", "\n", " "):
        corte = texto.rfind(separador, 0, limite + 1)
        if corte > 0:
            return [texto[:corte].strip()] + partir(texto[corte + len(separador):], limite)
    return [texto[:limite]] + partir(texto[limite:], limite)


def url_de_adjunto(adjunto: Any) -> str | None:
    """The URL in an attachment: a plain URL, or Rasa/Messenger-style dicts."""
    if isinstance(adjunto, str):
        return adjunto.strip() or None
    if isinstance(adjunto, dict):
        for clave in ("url", "src", "link", "media_url"):
            if isinstance(adjunto.get(clave), str):
                return adjunto[clave]
        payload = adjunto.get("payload")
        if payload is not None:
            return url_de_adjunto(payload)
    return None


def titulo_de_adjunto(adjunto: Any) -> str | None:
    if isinstance(adjunto, dict):
        for clave in ("title", "titulo", "caption", "name"):
            if isinstance(adjunto.get(clave), str):
                return adjunto[clave]
        if isinstance(adjunto.get("payload"), dict):
            return titulo_de_adjunto(adjunto["payload"])
    return None


@dataclass
class _Conversacion:
    botones: list[dict[str, Any]] = field(default_factory=list)
    nips: list[str] = field(default_factory=list)
    # The last reply the user saw asked for the NIP.
    pidio_nip: bool = False
    # Bot messages of a turn that finished after its webhook had answered,
    # not yet delivered (no outbound client, or it failed).
    pendientes: list[dict[str, Any]] = field(default_factory=list)


class MemoriaConversaciones:
    """Per-sender state the channel needs between webhooks: the buttons of the
    last reply (to map "1" back to a payload), the NIPs the user typed (to
    mask them) and late answers not yet delivered. In process memory, bounded
    (LRU); a restart only forgets which options were on screen, the
    conversation itself lives in Rasa's tracker."""

    def __init__(self, maximo: int = MAX_CONVERSACIONES) -> None:
        self.maximo = maximo
        self._datos: OrderedDict[str, _Conversacion] = OrderedDict()

    def de(self, remitente: str) -> _Conversacion:
        conversacion = self._datos.pop(remitente, None) or _Conversacion()
        self._datos[remitente] = conversacion
        while len(self._datos) > self.maximo:
            self._datos.popitem(last=False)
        return conversacion

    def __len__(self) -> int:
        return len(self._datos)


class WhatsAppOutput(CollectingOutputChannel):
    """Collects the bot's messages of one turn; the webhook turns them into TwiML."""

    @classmethod
    def name(cls) -> str:
        return "whatsapp"


@dataclass
class Pieza:
    """One WhatsApp message: a body (masked, under the limit) and media URLs."""

    cuerpo: str = ""
    medios: list[str] = field(default_factory=list)


def construir_piezas(
    mensajes: list[dict[str, Any]], nips: list[str]
) -> tuple[list[Pieza], list[dict[str, Any]]]:
    """The WhatsApp messages of one turn, and the buttons of its last message
    with buttons.

    Consecutive texts go in one WhatsApp message (split under the limit);
    every attachment or image goes in its own message with its media."""
    piezas: list[Pieza] = []
    textos: list[str] = []
    ultimos_botones: list[dict[str, Any]] = []

    def vaciar() -> None:
        if textos:
            piezas.extend(Pieza(p) for p in partir(enmascarar("\n\n".join(textos), nips)))
            textos.clear()

    for mensaje in mensajes:
        texto = texto_de(mensaje)
        custom = mensaje.get("custom")
        botones = mensaje.get("buttons") or []
        if botones:
            opciones = "\n".join(
                f"{i}. {b.get('title', b.get('payload', ''))}" for i, b in enumerate(botones, 1)
            )
            texto = "\n\n".join(t for t in (texto, opciones, MENSAJES["opciones"]) if t)
            ultimos_botones = list(botones)
        if texto:
            textos.append(texto.strip())
        for adjunto in (mensaje.get("image"), mensaje.get("attachment"),
                        custom.get("media_url") if isinstance(custom, dict) else None):
            url = url_de_adjunto(adjunto) if adjunto else None
            if url:
                vaciar()
                titulo = titulo_de_adjunto(adjunto)
                piezas.append(Pieza(enmascarar(titulo, nips)[:LIMITE_CUERPO] if titulo else "", [url]))
    vaciar()
    return piezas, ultimos_botones


def twiml_de(piezas: list[Pieza]) -> MessagingResponse:
    twiml = MessagingResponse()
    for pieza in piezas:
        if not pieza.medios:
            twiml.message(pieza.cuerpo)
            continue
        # With <Media>, Twilio wants the text in a nested <Body>.
        medio = twiml.message()
        if pieza.cuerpo:
            medio.body(pieza.cuerpo)
        for url in pieza.medios:
            medio.media(url)
    return twiml


def construir_twiml(
    mensajes: list[dict[str, Any]], nips: list[str]
) -> tuple[MessagingResponse, list[dict[str, Any]]]:
    """TwiML for one turn, and the buttons of its last message with buttons."""
    piezas, botones = construir_piezas(mensajes, nips)
    return twiml_de(piezas), botones


class Enviador(Protocol):
    """Sends a WhatsApp message outside a webhook's answer (a late reply)."""

    async def enviar(self, *, para: str, de: str | None, pieza: Pieza) -> None: ...


class EnviadorTwilio:
    """Outbound messages through Twilio's REST API (twilio's own client)."""

    def __init__(
        self, account_sid: str, auth_token: str, remitente: str | None = None, http_client: Any = None
    ) -> None:
        self.cliente = ClienteTwilio(account_sid, auth_token, http_client=http_client)
        self.remitente = remitente or None

    async def enviar(self, *, para: str, de: str | None, pieza: Pieza) -> None:
        origen = self.remitente or de
        if not origen:
            raise ValueError("No sé desde qué número de WhatsApp enviar (TWILIO_FROM_WHATSAPP).")
        if not origen.startswith("whatsapp:"):  # same setting as the backend's sender: "+1415…" is fine
            origen = f"whatsapp:{origen}"
        datos: dict[str, Any] = {"to": para, "from_": origen, "body": pieza.cuerpo}
        if pieza.medios:
            datos["media_url"] = list(pieza.medios)
        # twilio's client is synchronous (requests): keep it off the event loop.
        await asyncio.to_thread(self.cliente.messages.create, **datos)


def _error(detail: str, status: int) -> HTTPResponse:
    return response.json({"detail": detail}, status=status, dumps=lambda o: json.dumps(o, ensure_ascii=False))


def _twiml(respuesta: MessagingResponse) -> HTTPResponse:
    return response.text(str(respuesta), content_type="text/xml; charset=utf-8")


def _respuesta_simple(texto: str) -> HTTPResponse:
    twiml = MessagingResponse()
    twiml.message(texto)
    return _twiml(twiml)


def formulario(request: Request) -> RequestParameters:
    """The posted parameters, blank ones included: Twilio posts `Body=` with
    media and signs it, but Sanic's `request.form` drops blank values."""
    parametros = getattr(request.ctx, "parametros_twilio", None)
    if parametros is None:
        try:
            datos = parse_qs(request.body.decode("utf-8"), keep_blank_values=True)
        except UnicodeDecodeError:
            datos = {}
        parametros = request.ctx.parametros_twilio = RequestParameters(datos)
    return parametros


def _tipo_de_medio(request: Request) -> str | None:
    """What non-text thing the user sent, if any: imagen/audio/video/archivo/ubicacion."""
    formulario_ = formulario(request)
    if formulario_.get("Latitude") and formulario_.get("Longitude"):
        return "ubicacion"
    try:
        num_media = int(formulario_.get("NumMedia") or 0)
    except ValueError:
        num_media = 0
    if num_media <= 0:
        return None
    tipo = (formulario_.get("MediaContentType0") or "").lower()
    for prefijo in ("image", "audio", "video"):
        if tipo.startswith(prefijo):
            return {"image": "imagen", "audio": "audio", "video": "video"}[prefijo]
    return "archivo"


class WhatsAppInput(InputChannel):
    """Twilio WhatsApp webhook: POST /webhooks/whatsapp/webhook."""

    @classmethod
    def name(cls) -> str:
        return "whatsapp"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        credentials = credentials or {}
        auth_token = credentials.get("auth_token") or os.environ.get("TWILIO_AUTH_TOKEN")
        account_sid = credentials.get("account_sid") or os.environ.get("TWILIO_ACCOUNT_SID")
        enviador = None
        if account_sid and auth_token:
            enviador = EnviadorTwilio(
                account_sid, auth_token,
                remitente=credentials.get("whatsapp_from") or os.environ.get("TWILIO_FROM_WHATSAPP"),
            )
        return cls(
            auth_token=auth_token,
            public_base_url=credentials.get("public_base_url") or os.environ.get("PUBLIC_BASE_URL"),
            enviador=enviador,
            espera_maxima=float(credentials.get("espera_maxima") or ESPERA_MAXIMA),
        )

    def __init__(
        self,
        auth_token: str | None,
        public_base_url: str | None,
        memoria: MemoriaConversaciones | None = None,
        *,
        enviador: Enviador | None = None,
        espera_maxima: float = ESPERA_MAXIMA,
    ) -> None:
        self.auth_token = auth_token or None
        self.public_base_url = (public_base_url or "").strip().rstrip("/")
        self.memoria = memoria or MemoriaConversaciones()
        self.enviador = enviador
        self.espera_maxima = espera_maxima
        # Turns still running after their webhook answered (kept referenced).
        self._en_curso: set[asyncio.Future[Any]] = set()
        if not self.auth_token:
            logger.warning("TWILIO_AUTH_TOKEN no está definido: el canal whatsapp rechazará todo (403).")
        if not self.public_base_url:
            logger.warning("PUBLIC_BASE_URL no está definido: el canal whatsapp rechazará todo (403).")

    # -- signature -------------------------------------------------------------

    def url_firmada(self, request: Request) -> str | None:
        """The URL Twilio signed: the configured public origin + this path
        (+ query). Never the request's Host header, which the caller chooses."""
        if not self.public_base_url:
            return None
        url = self.public_base_url + request.path
        if request.query_string:
            url += "?" + request.query_string
        return url

    def firma_valida(self, request: Request) -> bool:
        url = self.url_firmada(request)
        if not self.auth_token or not url:
            return False  # a check that passes without a token or origin is no check
        firma = request.headers.get("X-Twilio-Signature")
        if not firma:
            return False
        validador = RequestValidator(self.auth_token)
        return bool(validador.validate(url, formulario(request), firma))

    # -- webhook ---------------------------------------------------------------

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        whatsapp_webhook = Blueprint("whatsapp_webhook", __name__)

        @whatsapp_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @whatsapp_webhook.route("/webhook", methods=["POST"])
        async def message(request: Request) -> HTTPResponse:
            if not self.firma_valida(request):
                logger.warning("Webhook de WhatsApp rechazado: firma de Twilio ausente o inválida.")
                return _error("Firma de Twilio ausente o inválida.", 403)
            return await self.atender(request, on_new_message)

        return whatsapp_webhook

    async def atender(
        self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> HTTPResponse:
        parametros = formulario(request)
        remitente = parametros.get("From")
        if not remitente:
            return _error("Falta el remitente (From).", 400)
        conversacion = self.memoria.de(remitente)
        texto = (parametros.get("ButtonPayload") or parametros.get("Body") or "").strip()
        medio = _tipo_de_medio(request)

        if not texto:
            # Nothing Rasa could read: answer here, keep the options on screen.
            return _respuesta_simple(MENSAJES[medio or "vacio"])

        # Only a bare 4-digit answer needs to know (reading the tracker is I/O).
        pidio_nip = NIP_SOLO_RE.match(texto) is not None and await self._bot_pidio_nip(request, remitente, conversacion)
        for nip in nips_en(texto, pidio_nip):
            if nip not in conversacion.nips:
                conversacion.nips = (conversacion.nips + [nip])[-5:]
        texto = resolver_opcion(texto, conversacion.botones) or texto

        salida = WhatsAppOutput()
        turno = asyncio.ensure_future(
            on_new_message(
                UserMessage(
                    texto,
                    salida,
                    remitente,
                    input_channel=self.name(),
                    metadata=self.get_metadata(request),
                )
            )
        )
        self._en_curso.add(turno)
        turno.add_done_callback(self._en_curso.discard)
        try:
            # shield: when the wait ends (or Twilio hangs up), the turn goes on,
            # so the tracker is never left half-updated.
            await asyncio.wait_for(asyncio.shield(turno), timeout=self.espera_maxima)
        except asyncio.TimeoutError:  # noqa: UP041 (not the builtin on Python 3.10)
            logger.warning(
                "Un turno de WhatsApp tardó más de %.1f s: se respondió una disculpa; la respuesta irá después.",
                self.espera_maxima,
            )
            self._entregar_despues(turno, salida, remitente, parametros.get("To"), conversacion)
            return _respuesta_simple(MENSAJES["demora_saliente" if self.enviador else "demora"])
        except asyncio.CancelledError:
            self._entregar_despues(turno, salida, remitente, parametros.get("To"), conversacion)
            raise
        except Exception:  # the user must get an answer, never a 500
            logger.exception("Error al procesar un mensaje de WhatsApp")
            return _respuesta_simple(MENSAJES["error"])

        mensajes = self._con_pendientes(conversacion, list(salida.messages))
        if medio:
            mensajes.insert(0, {"text": MENSAJES[medio].split(" ¿")[0]})
        if not salida.messages:
            mensajes.append({"text": MENSAJES["sin_respuesta"]})
        piezas, botones = construir_piezas(mensajes, conversacion.nips)
        conversacion.botones = botones
        conversacion.pidio_nip = pide_nip(mensajes)
        return _twiml(twiml_de(piezas))

    # -- NIP -------------------------------------------------------------------

    async def _bot_pidio_nip(self, request: Request, remitente: str, conversacion: _Conversacion) -> bool:
        """Whether the bot is waiting for the NIP: the tracker's requested_slot,
        or else the text of the last reply this channel sent."""
        if conversacion.pidio_nip:
            return True
        agente = getattr(getattr(request.app, "ctx", None), "agent", None)
        almacen = getattr(agente, "tracker_store", None)
        if almacen is None:
            return False
        try:
            tracker = await almacen.retrieve(remitente)
        except Exception:  # a tracker store hiccup must not lose the message
            logger.warning("No pude leer el tracker para saber si se pidió el NIP.", exc_info=True)
            return False
        return tracker is not None and tracker.get_slot("requested_slot") == "nip"

    # -- late answers ----------------------------------------------------------

    @staticmethod
    def _con_pendientes(conversacion: _Conversacion, mensajes: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """This turn's messages, after any late answer the user has not seen."""
        if not conversacion.pendientes:
            return mensajes
        pendientes, conversacion.pendientes = conversacion.pendientes, []
        return [{"text": MENSAJES["anterior"]}, *pendientes, *mensajes]

    def _entregar_despues(
        self,
        turno: asyncio.Future[Any],
        salida: WhatsAppOutput,
        remitente: str,
        numero_capp: str | None,
        conversacion: _Conversacion,
    ) -> None:
        """When the turn ends, send its answer outbound, or keep it for the next reply."""

        def al_terminar(tarea: asyncio.Future[Any]) -> None:
            if tarea.cancelled() or tarea.exception() is not None:
                if not tarea.cancelled():
                    logger.error("Un turno de WhatsApp que tardó falló después", exc_info=tarea.exception())
                mensajes: list[dict[str, Any]] = [{"text": MENSAJES["error"]}]
            else:
                mensajes = list(salida.messages) or [{"text": MENSAJES["sin_respuesta"]}]
            if self.enviador is None:
                # Synchronously, before a queued next message can be answered.
                conversacion.pendientes.extend(mensajes)
                return
            envio = asyncio.ensure_future(self._enviar(mensajes, remitente, numero_capp, conversacion))
            self._en_curso.add(envio)
            envio.add_done_callback(self._en_curso.discard)

        turno.add_done_callback(al_terminar)

    async def _enviar(
        self,
        mensajes: list[dict[str, Any]],
        remitente: str,
        numero_capp: str | None,
        conversacion: _Conversacion,
    ) -> None:
        assert self.enviador is not None
        piezas, botones = construir_piezas(mensajes, conversacion.nips)
        enviadas = 0
        try:
            for pieza in piezas:
                await self.enviador.enviar(para=remitente, de=numero_capp, pieza=pieza)
                enviadas += 1
        except Exception:
            logger.exception("No se pudo enviar por Twilio una respuesta que tardó; irá con el siguiente mensaje.")
            # Keep what did not arrive (already rendered and masked) for the next reply.
            for pieza in piezas[enviadas:]:
                if pieza.medios:
                    conversacion.pendientes.extend(
                        {"attachment": {"url": url, "title": pieza.cuerpo or None}} for url in pieza.medios
                    )
                elif pieza.cuerpo:
                    conversacion.pendientes.append({"text": pieza.cuerpo})
            return
        conversacion.botones = botones
        conversacion.pidio_nip = pide_nip(mensajes)

    async def terminar_pendientes(self) -> None:
        """Wait for turns and sends still running (tests, shutdown)."""
        while self._en_curso:
            await asyncio.gather(*list(self._en_curso), return_exceptions=True)

    def get_metadata(self, request: Request) -> dict[str, Any] | None:
        return {"canal": "whatsapp"}

    def get_output_channel(self) -> WhatsAppOutput:
        # Replies travel in the webhook's TwiML, so there is no push channel;
        # a collector keeps Rasa's external-event API from crashing.
        return WhatsAppOutput()
