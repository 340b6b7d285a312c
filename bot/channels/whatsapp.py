"""WhatsApp through Twilio Messaging: a Rasa input channel that answers in TwiML.

Why not Rasa's built-in `twilio` channel: it checks no signature, turns every
`¡` into `@`, prints buttons with their payloads, ignores media and replies
with an outbound REST call. This one:

* checks `X-Twilio-Signature` (Twilio's own RequestValidator) over
  PUBLIC_BASE_URL + path with every posted parameter; no token or a bad
  signature -> 403;
* keeps the text intact and answers in the webhook response itself
  (`MessagingResponse`), split under Twilio's 1600-character body limit;
* renders buttons as numbered options and maps "2", "dos", "segunda" or the
  button's title back to the button's payload;
* turns attachments (the backend's signed, expiring PDF links) into `<Media>`;
* answers an image, audio, location or empty message politely;
* never echoes back in full a CURP or a NIP the user typed.

The conversation id is Twilio's `From` address (`whatsapp:+521...`): the
WhatsApp number, kept with its prefix so it never collides with the same
number calling the phone line.
"""

from __future__ import annotations

import json
import logging
import os
import re
import unicodedata
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
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
from twilio.twiml.messaging_response import MessagingResponse

logger = logging.getLogger(__name__)

# Twilio rejects message bodies longer than 1600 characters.
LIMITE_CUERPO = 1600
# Senders whose last buttons / typed secrets we remember (least recently used go first).
MAX_CONVERSACIONES = 5000

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
}

# CURP shape (4 letters, birth date, sex, state, consonants, homoclave, digit).
CURP_RE = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{4}\d{6}[HMhm][A-Za-z]{5}[A-Za-z0-9]\d(?![A-Za-z0-9])")
# A message that is only four digits, or "nip 1234", is taken as a NIP.
NIP_SOLO_RE = re.compile(r"^\s*(\d{4})\s*$")
NIP_DICHO_RE = re.compile(r"\bnip\D{0,12}(\d{4})(?!\d)", re.IGNORECASE)

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


def nips_en(texto: str) -> list[str]:
    """4-digit NIPs the user typed in this message (a bare 4-digit answer counts)."""
    encontrados = [m.group(1) for m in NIP_DICHO_RE.finditer(texto)]
    solo = NIP_SOLO_RE.match(texto)
    if solo:
        encontrados.append(solo.group(1))
    return encontrados


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


class MemoriaConversaciones:
    """Per-sender state the channel needs between webhooks: the buttons of the
    last reply (to map "1" back to a payload) and the NIPs the user typed (to
    mask them). In process memory, bounded (LRU); a restart only forgets which
    options were on screen, the conversation itself lives in Rasa's tracker."""

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


def construir_twiml(
    mensajes: list[dict[str, Any]], nips: list[str]
) -> tuple[MessagingResponse, list[dict[str, Any]]]:
    """TwiML for one turn, and the buttons of its last message with buttons.

    Consecutive texts go in one WhatsApp message (split under the limit);
    every attachment or image goes in its own message as `<Media>`."""
    twiml = MessagingResponse()
    textos: list[str] = []
    ultimos_botones: list[dict[str, Any]] = []

    def vaciar() -> None:
        if textos:
            for pieza in partir(enmascarar("\n\n".join(textos), nips)):
                twiml.message(pieza)
            textos.clear()

    for mensaje in mensajes:
        texto = mensaje.get("text")
        custom = mensaje.get("custom")
        if isinstance(custom, dict) and isinstance(custom.get("text"), str):
            texto = custom["text"]
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
                # With <Media>, Twilio wants the text in a nested <Body>.
                medio = twiml.message()
                if titulo:
                    medio.body(enmascarar(titulo, nips))
                medio.media(url)
    vaciar()
    return twiml, ultimos_botones


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
        return cls(
            auth_token=credentials.get("auth_token") or os.environ.get("TWILIO_AUTH_TOKEN"),
            public_base_url=credentials.get("public_base_url") or os.environ.get("PUBLIC_BASE_URL"),
        )

    def __init__(
        self,
        auth_token: str | None,
        public_base_url: str | None,
        memoria: MemoriaConversaciones | None = None,
    ) -> None:
        self.auth_token = auth_token or None
        self.public_base_url = (public_base_url or "").rstrip("/")
        self.memoria = memoria or MemoriaConversaciones()
        if not self.auth_token:
            logger.warning("TWILIO_AUTH_TOKEN no está definido: el canal whatsapp rechazará todo (403).")

    # -- signature -------------------------------------------------------------

    def url_firmada(self, request: Request) -> str:
        """The URL Twilio signed: the public origin + this path (+ query)."""
        base = self.public_base_url or f"{request.scheme}://{request.host}"
        url = base + request.path
        if request.query_string:
            url += "?" + request.query_string
        return url

    def firma_valida(self, request: Request) -> bool:
        if not self.auth_token:
            return False  # a check that passes without a token is no check
        firma = request.headers.get("X-Twilio-Signature")
        if not firma:
            return False
        validador = RequestValidator(self.auth_token)
        return bool(validador.validate(self.url_firmada(request), formulario(request), firma))

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

        for nip in nips_en(texto):
            if nip not in conversacion.nips:
                conversacion.nips = (conversacion.nips + [nip])[-5:]
        texto = resolver_opcion(texto, conversacion.botones) or texto

        salida = WhatsAppOutput()
        try:
            await on_new_message(
                UserMessage(
                    texto,
                    salida,
                    remitente,
                    input_channel=self.name(),
                    metadata=self.get_metadata(request),
                )
            )
        except Exception:  # the user must get an answer, never a 500
            logger.exception("Error al procesar un mensaje de WhatsApp")
            return _respuesta_simple(MENSAJES["error"])

        mensajes = list(salida.messages)
        if medio:
            mensajes.insert(0, {"text": MENSAJES[medio].split(" ¿")[0]})
        twiml, botones = construir_twiml(mensajes, conversacion.nips)
        conversacion.botones = botones
        if not salida.messages:
            twiml.message(MENSAJES["sin_respuesta"])
        return _twiml(twiml)

    def get_metadata(self, request: Request) -> dict[str, Any] | None:
        return {"canal": "whatsapp"}

    def get_output_channel(self) -> WhatsAppOutput:
        # Replies travel in the webhook's TwiML, so there is no push channel;
        # a collector keeps Rasa's external-event API from crashing.
        return WhatsAppOutput()
