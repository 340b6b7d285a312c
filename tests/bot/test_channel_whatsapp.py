"""The WhatsApp channel (bot/channels/whatsapp.py) through its Sanic blueprint.

A scripted stand-in for Rasa's `on_new_message` answers through the channel's
own output collector, so these tests exercise the real webhook: Twilio
signatures, TwiML parsed with ElementTree, button numbering, media, masking,
the time limit and late answers (twilio's own REST client, over a recording
HTTP client). The real bot is exercised end to end in tests/e2e/test_whatsapp.py.
"""

from __future__ import annotations

import asyncio
import time
import uuid
import xml.etree.ElementTree as ET
from typing import Any

import httpx
import pytest
import pytest_asyncio
from rasa.shared.core.events import BotUttered, SlotSet, UserUttered
from rasa.shared.core.slots import TextSlot
from rasa.shared.core.trackers import DialogueStateTracker
from sanic import Sanic
from twilio.http import HttpClient
from twilio.http.response import Response as RespuestaTwilio
from twilio.request_validator import RequestValidator

from bot.almacenes.bandeja_whatsapp import BandejaWhatsApp
from bot.channels.opciones import resolver_opcion
from bot.channels.privacidad import enmascarar, nips_en
from bot.channels.whatsapp import WhatsAppInput
from bot.channels.whatsapp_envio import EnviadorTwilio
from bot.channels.whatsapp_salida import MENSAJES
from bot.channels.whatsapp_tardio import respuesta_guardada
from bot.channels.whatsapp_twiml import LIMITE_CUERPO, Pieza, partir

# Sanic apps start in test mode (tests/bot/conftest.py).
pytestmark = pytest.mark.usefixtures("sanic_en_modo_prueba")
TOKEN = "token-de-prueba-" + uuid.uuid4().hex
PUBLIC = "https://capp.example.mx"
PATH = "/webhooks/whatsapp/webhook"
NUMERO = "whatsapp:+5215512345678"
BOTONES = [
    {"title": "Simular préstamo", "payload": "/simular_prestamo"},
    {"title": "Consultar saldo", "payload": "/consultar_saldo"},
    {"title": "Agendar cita", "payload": "/agendar_cita"},
]
PDF_URL = "https://capp.example.mx/api/v1/archivos/hoja.pdf?exp=1700000000&firma=abc"
PARRAFO = "El crédito complementario se descuenta por nómina cada quincena. " * 10
PIDE_NIP = "Gracias. Ahora escriba su NIP de 4 dígitos."
CAPP = "whatsapp:+14155238886"


class AgenteDeMentira:
    """What the channel reads from Rasa's Agent: the tracker store."""

    def __init__(self) -> None:
        self.trackers: dict[str, DialogueStateTracker] = {}
        self.tracker_store = self
        self.falla = False

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        if self.falla:
            raise ConnectionError("tracker store caído")
        return self.trackers.get(sender_id)

    def anotar(self, sender_id: str, eventos: list[Any]) -> None:
        anteriores = list(self.trackers[sender_id].events) if sender_id in self.trackers else []
        self.trackers[sender_id] = DialogueStateTracker.from_events(
            sender_id, [*anteriores, *eventos], slots=[TextSlot("requested_slot", mappings=[])]
        )

    def pedir(self, sender_id: str, slot: str | None) -> None:
        self.anotar(sender_id, [SlotSet("requested_slot", slot)])


class BotDeMentira:
    """Answers like a tiny Rasa would, through the channel's output collector,
    and keeps the turn in the tracker as Rasa does (user and bot events)."""

    def __init__(self) -> None:
        self.agente = AgenteDeMentira()
        self.recibidos: list[Any] = []
        self.terminados: list[str] = []
        self.cancelados: list[str] = []
        self.falla = False
        self.demora = 0.0

    async def __call__(self, mensaje: Any) -> None:
        self.recibidos.append(mensaje)
        if self.falla:
            raise RuntimeError("action server caído")
        antes = len(mensaje.output_channel.messages)
        await self._responder(mensaje)
        eventos: list[Any] = [UserUttered(mensaje.text, message_id=mensaje.message_id)]
        for m in mensaje.output_channel.messages[antes:]:
            eventos.append(
                BotUttered(
                    m.get("text"), {k: v for k, v in m.items() if k not in ("recipient_id", "text")}
                )
            )
        eventos.append(SlotSet("requested_slot", "nip" if mensaje.text == "curp" else None))
        self.agente.anotar(mensaje.sender_id, eventos)

    async def _responder(self, mensaje: Any) -> None:
        salida, quien, texto = mensaje.output_channel, mensaje.sender_id, mensaje.text
        if texto.startswith("lento"):
            try:
                await asyncio.sleep(self.demora)
            except asyncio.CancelledError:
                self.cancelados.append(texto)
                raise
            if texto == "lento falla":
                raise RuntimeError("el backend no respondió")
            await salida.send_text_message(quien, f"Respuesta tardía a: {texto}")
            if texto == "lento menu":
                await salida.send_text_with_buttons(quien, "¿Qué desea hacer?", BOTONES)
            if texto.startswith("lento pdf"):
                await salida.send_attachment(
                    quien, {"type": "file", "payload": {"src": PDF_URL, "title": "Hoja de cita"}}
                )
            self.terminados.append(texto)
        elif texto == "curp":
            await salida.send_text_message(quien, PIDE_NIP)
        elif texto == "menu":
            await salida.send_text_with_buttons(quien, "¿Qué desea hacer?", BOTONES)
        elif texto == "largo":
            await salida.send_text_message(quien, "\n\n".join(f"{i}. {PARRAFO}" for i in range(8)))
        elif texto == "pdf":
            await salida.send_text_message(quien, "Aquí está su hoja de cita.")
            await salida.send_attachment(quien, PDF_URL)
        elif texto == "pdf dict":
            await salida.send_attachment(
                quien, {"type": "file", "payload": {"src": PDF_URL, "title": "Hoja de cita"}}
            )
        elif texto == "silencio":
            return
        else:
            await salida.send_text_message(quien, f"Usted escribió: {texto}")


@pytest.fixture
def bot() -> BotDeMentira:
    return BotDeMentira()


async def _cliente(canal: WhatsAppInput, bot: BotDeMentira) -> httpx.AsyncClient:
    app = Sanic(f"wa_{uuid.uuid4().hex[:8]}")
    app.ctx.agent = bot.agente
    app.blueprint(canal.blueprint(bot), url_prefix="/webhooks/whatsapp")
    # httpx's ASGI transport sends no lifespan: start the app as `app.run` would.
    await app._startup()
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://rasa.interno")


def firmar(params: dict[str, str], token: str = TOKEN, url: str = PUBLIC + PATH) -> str:
    return RequestValidator(token).compute_signature(url, params)


def mensajes_de(twiml: str) -> list[dict[str, Any]]:
    """Each <Message> as {"body", "media"}; the body may be the element's text or a nested
    <Body>."""
    raiz = ET.fromstring(twiml)
    assert raiz.tag == "Response"
    salida = []
    for m in raiz.findall("Message"):
        cuerpo = (m.text or "") + "".join(b.text or "" for b in m.findall("Body"))
        salida.append({"body": cuerpo, "media": [x.text for x in m.findall("Media")]})
    return salida


class Conversacion:
    def __init__(self, cliente: httpx.AsyncClient, numero: str = NUMERO) -> None:
        self.cliente, self.numero = cliente, numero

    async def enviar(self, body: str | None = None, **extra: str) -> list[dict[str, Any]]:
        params = {
            "From": self.numero,
            "To": "whatsapp:+14155238886",
            "MessageSid": "SM" + uuid.uuid4().hex,
            **extra,
        }
        if body is not None:
            params["Body"] = body
            params.setdefault("NumMedia", "0")
        r = await self.cliente.post(
            PATH, data=params, headers={"X-Twilio-Signature": firmar(params)}
        )
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith("text/xml")
        return mensajes_de(r.text)


@pytest_asyncio.fixture
async def conv(bot: BotDeMentira):
    cliente = await _cliente(WhatsAppInput(TOKEN, PUBLIC), bot)
    async with cliente:
        yield Conversacion(cliente)


class EnviadorDeMentira:
    """Records outbound messages (or fails), as the channel's Enviador."""

    def __init__(self, falla: bool = False) -> None:
        self.enviados: list[tuple[str, str | None, Pieza]] = []
        self.falla = falla

    async def enviar(self, *, para: str, de: str | None, pieza: Pieza) -> None:
        if self.falla:
            raise ConnectionError("api.twilio.com no responde")
        self.enviados.append((para, de, pieza))


# -- signatures ----------------------------------------------------------------


@pytest.mark.asyncio
async def test_signed_request_reaches_the_bot_with_the_whatsapp_number(conv, bot) -> None:
    respuesta = await conv.enviar("hola")
    assert [m["body"] for m in respuesta] == ["Usted escribió: hola"]
    (recibido,) = bot.recibidos
    assert recibido.sender_id == NUMERO
    assert recibido.input_channel == "whatsapp"
    assert recibido.output_channel.name() == "whatsapp"


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "cabeceras",
    [
        {},
        {"X-Twilio-Signature": ""},
        {"X-Twilio-Signature": "firma-inventada"},
        {"X-Twilio-Signature": "__OTRO_TOKEN__"},
        {"X-Twilio-Signature": "__OTRO_CUERPO__"},
        {"X-Twilio-Signature": "__OTRA_URL__"},
    ],
    ids=["sin-firma", "vacia", "inventada", "otro-token", "cuerpo-alterado", "otra-url"],
)
async def test_unsigned_or_badly_signed_requests_get_403(bot, cabeceras) -> None:
    params = {"From": NUMERO, "Body": "saldo"}
    firma = cabeceras.get("X-Twilio-Signature")
    if firma == "__OTRO_TOKEN__":
        cabeceras = {"X-Twilio-Signature": firmar(params, token="otro-token")}
    elif firma == "__OTRO_CUERPO__":
        cabeceras = {"X-Twilio-Signature": firmar({**params, "Body": "hola"})}
    elif firma == "__OTRA_URL__":
        cabeceras = {"X-Twilio-Signature": firmar(params, url="https://otro.example" + PATH)}
    async with await _cliente(WhatsAppInput(TOKEN, PUBLIC), bot) as cliente:
        r = await cliente.post(PATH, data=params, headers=cabeceras)
    assert r.status_code == 403
    assert "firma" in r.json()["detail"].lower()
    assert bot.recibidos == []


@pytest.mark.asyncio
@pytest.mark.parametrize("token", [None, ""])
async def test_without_a_token_everything_is_refused(bot, token) -> None:
    params = {"From": NUMERO, "Body": "saldo"}
    async with await _cliente(WhatsAppInput(token, PUBLIC), bot) as cliente:
        for firma in (firmar(params, token=""), firmar(params)):
            r = await cliente.post(PATH, data=params, headers={"X-Twilio-Signature": firma})
            assert r.status_code == 403
    assert bot.recibidos == []


@pytest.mark.asyncio
async def test_the_query_string_is_part_of_the_signed_url(bot) -> None:
    params = {"From": NUMERO, "Body": "hola"}
    async with await _cliente(WhatsAppInput(TOKEN, PUBLIC + "/"), bot) as cliente:
        buena = firmar(params, url=PUBLIC + PATH + "?origen=twilio")
        r = await cliente.post(
            PATH + "?origen=twilio", data=params, headers={"X-Twilio-Signature": buena}
        )
        assert r.status_code == 200
        r = await cliente.post(
            PATH + "?origen=otro", data=params, headers={"X-Twilio-Signature": buena}
        )
        assert r.status_code == 403


@pytest.mark.asyncio
@pytest.mark.parametrize("publico", [None, "", "   "])
async def test_without_public_base_url_the_host_header_is_not_trusted(bot, publico) -> None:
    """Signed over the URL the request itself names (Host): still refused."""
    params = {"From": NUMERO, "Body": "saldo"}
    async with await _cliente(WhatsAppInput(TOKEN, publico), bot) as cliente:
        for base, host in (
            ("http://rasa.interno", None),
            ("https://atacante.example", "atacante.example"),
        ):
            cabeceras = {"X-Twilio-Signature": firmar(params, url=base + PATH)}
            if host:
                cabeceras["Host"] = host
            r = await cliente.post(PATH, data=params, headers=cabeceras)
            assert r.status_code == 403
            assert "firma" in r.json()["detail"].lower()
    assert bot.recibidos == []


@pytest.mark.asyncio
async def test_the_host_header_does_not_change_the_signed_url(bot) -> None:
    params = {"From": NUMERO, "Body": "hola"}
    async with await _cliente(WhatsAppInput(TOKEN, PUBLIC), bot) as cliente:
        # Signed over the configured origin: accepted whatever Host says.
        r = await cliente.post(
            PATH,
            data=params,
            headers={"X-Twilio-Signature": firmar(params), "Host": "otro.example"},
        )
        assert r.status_code == 200
        # Signed over the Host it sends: refused.
        r = await cliente.post(
            PATH,
            data=params,
            headers={
                "X-Twilio-Signature": firmar(params, url="https://otro.example" + PATH),
                "Host": "otro.example",
            },
        )
        assert r.status_code == 403


def test_settings_come_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "desde-env")
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://publico.example/")
    monkeypatch.delenv("TWILIO_ACCOUNT_SID", raising=False)
    canal = WhatsAppInput.from_credentials(None)
    assert canal.auth_token == "desde-env"
    assert canal.public_base_url == "https://publico.example"
    assert canal.name() == "whatsapp"
    assert canal.enviador is None  # no account: late answers wait for the next message
    assert 10 <= canal.espera_maxima <= 12  # under Twilio's 15 s
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", "AC" + "1" * 32)
    monkeypatch.setenv("TWILIO_FROM_WHATSAPP", "+5215500000000")
    canal = WhatsAppInput.from_credentials({"espera_maxima": 5})
    assert isinstance(canal.enviador, EnviadorTwilio)
    assert canal.enviador.remitente == "+5215500000000"
    assert canal.espera_maxima == 5
    monkeypatch.delenv("TWILIO_AUTH_TOKEN")
    canal = WhatsAppInput.from_credentials({})
    assert canal.auth_token is None and canal.enviador is None


@pytest.mark.asyncio
async def test_a_request_without_sender_is_a_400_in_spanish(bot) -> None:
    params = {"Body": "hola"}
    async with await _cliente(WhatsAppInput(TOKEN, PUBLIC), bot) as cliente:
        r = await cliente.post(PATH, data=params, headers={"X-Twilio-Signature": firmar(params)})
    assert r.status_code == 400
    assert "remitente" in r.json()["detail"]


# -- text ----------------------------------------------------------------------


@pytest.mark.asyncio
async def test_inverted_exclamation_survives_both_ways(conv, bot) -> None:
    respuesta = await conv.enviar("¡Hola! ¿Cómo está?")
    assert bot.recibidos[0].text == "¡Hola! ¿Cómo está?"
    assert respuesta[0]["body"] == "Usted escribió: ¡Hola! ¿Cómo está?"
    assert "@" not in respuesta[0]["body"]


@pytest.mark.asyncio
async def test_long_replies_are_split_under_the_limit_without_losing_text(conv) -> None:
    respuesta = await conv.enviar("largo")
    cuerpos = [m["body"] for m in respuesta]
    assert len(cuerpos) > 1
    assert all(0 < len(c) <= LIMITE_CUERPO for c in cuerpos)
    juntos = " ".join(" ".join(cuerpos).split())
    esperado = " ".join("\n\n".join(f"{i}. {PARRAFO}" for i in range(8)).split())
    assert juntos == esperado


def test_partir_cuts_at_words_and_hard_cuts_endless_words() -> None:
    texto = "palabra " * 500
    piezas = partir(texto, 100)
    assert all(len(p) <= 100 for p in piezas)
    assert " ".join(piezas).split() == texto.split()
    assert partir("x" * 250, 100) == ["x" * 100, "x" * 100, "x" * 50]
    assert partir("   ") == []


@pytest.mark.asyncio
async def test_a_turn_without_answer_still_gets_a_message(conv) -> None:
    respuesta = await conv.enviar("silencio")
    assert len(respuesta) == 1 and respuesta[0]["body"]


@pytest.mark.asyncio
async def test_a_failing_bot_gets_an_apology_not_a_500(conv, bot) -> None:
    bot.falla = True
    respuesta = await conv.enviar("saldo")
    assert "problema" in respuesta[0]["body"]
    assert "ISSSTETEL" in respuesta[0]["body"]


# -- buttons -------------------------------------------------------------------


@pytest.mark.asyncio
async def test_buttons_become_numbered_options_without_payloads(conv) -> None:
    (mensaje,) = await conv.enviar("menu")
    lineas = mensaje["body"].splitlines()
    assert lineas[0] == "¿Qué desea hacer?"
    assert "1. Simular préstamo" in lineas
    assert "2. Consultar saldo" in lineas
    assert "3. Agendar cita" in lineas
    assert "/" not in mensaje["body"]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("eleccion", "payload"),
    [
        ("2", "/consultar_saldo"),
        ("dos", "/consultar_saldo"),
        ("Dos.", "/consultar_saldo"),
        ("opción 2", "/consultar_saldo"),
        ("1", "/simular_prestamo"),
        ("uno", "/simular_prestamo"),
        ("primero", "/simular_prestamo"),
        ("la tercera", "/agendar_cita"),
        ("agendar cita", "/agendar_cita"),
        ("CONSULTAR SALDO", "/consultar_saldo"),
    ],
)
async def test_a_numbered_reply_is_mapped_back_to_the_payload(conv, bot, eleccion, payload) -> None:
    await conv.enviar("menu")
    await conv.enviar(eleccion)
    assert bot.recibidos[-1].text == payload


@pytest.mark.asyncio
async def test_options_are_per_sender_and_only_for_the_last_reply(conv, bot) -> None:
    await conv.enviar("menu")
    otra = Conversacion(conv.cliente, "whatsapp:+5213300000000")
    await otra.enviar("2")
    assert bot.recibidos[-1].text == "2"  # this sender never saw options
    await conv.enviar("7")
    assert bot.recibidos[-1].text == "7"  # out of range: passed as typed
    await conv.enviar("quiero saber mi saldo")
    assert bot.recibidos[-1].text == "quiero saber mi saldo"
    await conv.enviar("2")
    assert bot.recibidos[-1].text == "2"  # the last reply had no buttons


def test_resolver_opcion_ignores_free_text_and_empty_lists() -> None:
    assert resolver_opcion("2", []) is None
    assert resolver_opcion("quiero simular un préstamo", BOTONES) is None
    assert resolver_opcion("última", BOTONES) == "/agendar_cita"
    assert resolver_opcion("Simular prestamo", BOTONES) == "/simular_prestamo"


@pytest.mark.asyncio
async def test_options_live_in_the_tracker_not_in_the_channel(bot) -> None:
    """A fresh channel (another replica, a restart) maps "2" to the options
    the person saw, because they are read from the conversation's tracker."""
    async with await _cliente(WhatsAppInput(TOKEN, PUBLIC), bot) as cliente:
        await Conversacion(cliente).enviar("menu")
    async with await _cliente(WhatsAppInput(TOKEN, PUBLIC), bot) as cliente:
        await Conversacion(cliente).enviar("2")
    assert bot.recibidos[-1].text == "/consultar_saldo"


# -- media ---------------------------------------------------------------------


@pytest.mark.asyncio
async def test_attachments_become_media(conv) -> None:
    respuesta = await conv.enviar("pdf")
    assert respuesta[0] == {"body": "Aquí está su hoja de cita.", "media": []}
    assert respuesta[1]["media"] == [PDF_URL]
    respuesta = await conv.enviar("pdf dict")
    assert respuesta == [{"body": "Hoja de cita", "media": [PDF_URL]}]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("params", "palabra"),
    [
        (
            {
                "NumMedia": "1",
                "MediaContentType0": "image/jpeg",
                "MediaUrl0": "https://api.twilio.com/m/1",
            },
            "imagen",
        ),
        (
            {
                "NumMedia": "1",
                "MediaContentType0": "audio/ogg",
                "MediaUrl0": "https://api.twilio.com/m/2",
            },
            "voz",
        ),
        (
            {
                "NumMedia": "1",
                "MediaContentType0": "application/pdf",
                "MediaUrl0": "https://api.twilio.com/m/3",
            },
            "archivo",
        ),
        ({"Latitude": "19.4326", "Longitude": "-99.1332"}, "ubicación"),
        ({"NumMedia": "0"}, "texto"),
    ],
    ids=["imagen", "audio", "documento", "ubicacion", "vacio"],
)
async def test_non_text_messages_get_a_polite_answer(conv, bot, params, palabra) -> None:
    (mensaje,) = await conv.enviar(body="", **params)
    assert palabra in mensaje["body"]
    assert "¿Me escribe su consulta?" in mensaje["body"]
    assert bot.recibidos == []


@pytest.mark.asyncio
async def test_an_image_with_a_caption_is_answered_and_the_caption_understood(conv, bot) -> None:
    respuesta = await conv.enviar(
        "saldo", NumMedia="1", MediaContentType0="image/png", MediaUrl0="https://api.twilio.com/m/4"
    )
    assert bot.recibidos[-1].text == "saldo"
    texto = respuesta[0]["body"]
    assert "imagen" in texto and "Usted escribió: saldo" in texto


# -- privacy -------------------------------------------------------------------


@pytest.mark.asyncio
async def test_a_typed_curp_is_never_echoed_in_full(conv, bot) -> None:
    respuesta = await conv.enviar("mi curp es hegg560427mvzrrl04")
    assert bot.recibidos[-1].text == "mi curp es hegg560427mvzrrl04"  # the bot gets it intact
    cuerpo = respuesta[0]["body"]
    assert "HEGG************04" in cuerpo
    assert "560427" not in cuerpo


@pytest.mark.asyncio
async def test_a_typed_nip_is_never_echoed(conv, bot) -> None:
    assert (await conv.enviar("curp"))[0]["body"] == PIDE_NIP
    respuesta = await conv.enviar("4821")
    assert bot.recibidos[-1].text == "4821"  # the bot gets it intact
    assert respuesta[0]["body"] == "Usted escribió: ****"
    # said as a NIP, masked; other numbers and the clave are not
    respuesta = await conv.enviar("mi nip era 4821 y mi clave CC3QZ8 de 2024")
    assert respuesta[0]["body"] == "Usted escribió: mi nip era **** y mi clave CC3QZ8 de 2024"
    # another sender was not asked for a NIP
    otra = Conversacion(conv.cliente, "whatsapp:+5213300000000")
    assert (await otra.enviar("4821"))[0]["body"] == "Usted escribió: 4821"


@pytest.mark.asyncio
async def test_a_nip_said_as_such_is_masked_without_being_asked(conv) -> None:
    respuesta = await conv.enviar("mi NIP es 7315")
    assert respuesta[0]["body"] == "Usted escribió: mi NIP es ****"


@pytest.mark.asyncio
@pytest.mark.parametrize("numero", ["2024", "8000", "1989"])
async def test_a_bare_four_digit_answer_is_not_a_nip_unless_asked(conv, numero) -> None:
    """A year or a sueldo typed on its own is not a NIP."""
    assert (await conv.enviar(numero))[0]["body"] == f"Usted escribió: {numero}"
    respuesta = await conv.enviar(f"gano {numero} y nací en {numero}")
    assert respuesta[0]["body"] == f"Usted escribió: gano {numero} y nací en {numero}"
    await conv.enviar("curp")
    assert (await conv.enviar(numero))[0]["body"] == "Usted escribió: ****"  # now it is the NIP
    # and the next bare number (no NIP asked any more) is shown again
    assert (await conv.enviar(numero))[0]["body"] == f"Usted escribió: {numero}"


def test_a_nip_is_never_starred_inside_a_date_or_an_amount() -> None:
    texto = "Su cita es el 10/12/2027 a las 20:27; pagó $2,027.00 el 2027-01-05. NIP 2027."
    assert enmascarar(texto, ["2027"]) == (
        "Su cita es el 10/12/2027 a las 20:27; pagó $2,027.00 el 2027-01-05. NIP ****."
    )


@pytest.mark.asyncio
async def test_the_form_state_says_when_a_nip_is_expected(bot) -> None:
    agente = bot.agente
    async with await _cliente(WhatsAppInput(TOKEN, PUBLIC), bot) as cliente:
        conv = Conversacion(cliente)
        agente.pedir(NUMERO, "sueldo")
        assert (await conv.enviar("4821"))[0]["body"] == "Usted escribió: 4821"
        # Whatever the bot's last words were, the form asks for the NIP.
        agente.pedir(NUMERO, "nip")
        assert (await conv.enviar("4821"))[0]["body"] == "Usted escribió: ****"
        # A tracker store that fails does not lose the message.
        agente.falla = True
        assert (await conv.enviar("3333"))[0]["body"] == "Usted escribió: 3333"
    assert [m.text for m in bot.recibidos] == ["4821", "4821", "3333"]


def test_nips_en() -> None:
    assert nips_en("4821") == []
    assert nips_en("4821", pide_nip=True) == ["4821"]
    assert nips_en(" 4821 ", pide_nip=True) == ["4821"]
    assert nips_en("48210", pide_nip=True) == []
    assert nips_en("mi nip: 4821") == ["4821"]


# -- time limit ------------------------------------------------------------------


def _lento(bot: BotDeMentira, demora: float, espera: float, **extra: Any) -> WhatsAppInput:
    bot.demora = demora
    return WhatsAppInput(TOKEN, PUBLIC, espera_maxima=espera, **extra)


@pytest.mark.asyncio
async def test_a_slow_turn_is_answered_in_time_and_finishes_for_the_next_message(bot) -> None:
    canal = _lento(bot, demora=1.0, espera=0.3)
    async with await _cliente(canal, bot) as cliente:
        conv = Conversacion(cliente)
        inicio = time.monotonic()
        respuesta = await conv.enviar("lento menu")
        assert time.monotonic() - inicio < 0.9  # the webhook did not wait for the bot
        assert [m["body"] for m in respuesta] == [MENSAJES["demora"]]
        assert bot.terminados == []  # still running...
        await canal.terminar_pendientes()
        assert bot.terminados == ["lento menu"] and bot.cancelados == []  # ...and never cancelled
        # The next message gets the late answer first, then its own.
        respuesta = await conv.enviar("hola")
        cuerpo = respuesta[0]["body"]
        assert cuerpo.index(MENSAJES["anterior"]) < cuerpo.index("Respuesta tardía a: lento menu") \
            < cuerpo.index("1. Simular préstamo") < cuerpo.index("Usted escribió: hola")
        # Delivered once only.
        assert [m["body"] for m in await conv.enviar("otra")] == ["Usted escribió: otra"]


@pytest.mark.asyncio
async def test_a_turn_within_the_limit_is_answered_normally(bot) -> None:
    canal = _lento(bot, demora=0.2, espera=2)
    async with await _cliente(canal, bot) as cliente:
        respuesta = await Conversacion(cliente).enviar("lento")
    assert [m["body"] for m in respuesta] == ["Respuesta tardía a: lento"]


@pytest.mark.asyncio
async def test_a_message_sent_while_the_slow_turn_runs_gets_both_answers(bot) -> None:
    """Rasa's lock store serialises a sender's turns; this stand-in does the same."""
    candado = asyncio.Lock()

    async def en_orden(mensaje: Any) -> None:
        async with candado:
            await bot(mensaje)

    canal = _lento(bot, demora=0.6, espera=0.2)
    app = Sanic(f"wa_{uuid.uuid4().hex[:8]}")
    app.blueprint(canal.blueprint(en_orden), url_prefix="/webhooks/whatsapp")
    await app._startup()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://rasa.interno"
    ) as cliente:
        conv = Conversacion(cliente)
        assert [m["body"] for m in await conv.enviar("lento")] == [MENSAJES["demora"]]
        # Waits behind the slow turn, which ends within this message's limit.
        canal.espera_maxima = 3
        respuesta = await conv.enviar("hola")
    cuerpo = respuesta[0]["body"]
    assert cuerpo.index("Respuesta tardía a: lento") < cuerpo.index("Usted escribió: hola")


@pytest.mark.asyncio
async def test_a_slow_turn_that_fails_later_gets_the_apology_next_time(bot) -> None:
    canal = _lento(bot, demora=0.5, espera=0.1)
    async with await _cliente(canal, bot) as cliente:
        conv = Conversacion(cliente)
        assert [m["body"] for m in await conv.enviar("lento falla")] == [MENSAJES["demora"]]
        await canal.terminar_pendientes()
        cuerpo = (await conv.enviar("hola"))[0]["body"]
    assert MENSAJES["error"] in cuerpo and "Usted escribió: hola" in cuerpo


@pytest.mark.asyncio
async def test_with_an_outbound_client_the_late_answer_is_sent_by_itself(bot) -> None:
    enviador = EnviadorDeMentira()
    canal = _lento(bot, demora=0.6, espera=0.2, enviador=enviador)
    async with await _cliente(canal, bot) as cliente:
        conv = Conversacion(cliente)
        # A NIP said in the slow message is masked in the late answer too.
        assert [m["body"] for m in await conv.enviar("lento pdf nip 4821")] == [
            MENSAJES["demora_saliente"]
        ]
        assert enviador.enviados == []
        await canal.terminar_pendientes()
        assert [(para, de) for para, de, _ in enviador.enviados] == [(NUMERO, CAPP), (NUMERO, CAPP)]
        texto, pdf = (p for _, _, p in enviador.enviados)
        assert texto == Pieza("Respuesta tardía a: lento pdf nip ****")
        assert pdf == Pieza("Hoja de cita", [PDF_URL])
        # Already delivered: the next reply is only its own.
        assert [m["body"] for m in await conv.enviar("hola")] == ["Usted escribió: hola"]


@pytest.mark.asyncio
async def test_when_the_outbound_send_fails_the_answer_waits_for_the_next_message(bot) -> None:
    canal = _lento(bot, demora=0.4, espera=0.1, enviador=EnviadorDeMentira(falla=True))
    async with await _cliente(canal, bot) as cliente:
        conv = Conversacion(cliente)
        assert [m["body"] for m in await conv.enviar("lento pdf")] == [MENSAJES["demora_saliente"]]
        await canal.terminar_pendientes()
        respuesta = await conv.enviar("hola")
    assert "Respuesta tardía a: lento pdf" in respuesta[0]["body"]
    assert respuesta[1] == {"body": "Hoja de cita", "media": [PDF_URL]}
    assert respuesta[-1]["body"] == "Usted escribió: hola"


class HttpDeMentira(HttpClient):
    """twilio's HTTP client interface, recording instead of calling api.twilio.com."""

    def __init__(self) -> None:
        super().__init__(logger=None, is_async=False)
        self.peticiones: list[dict[str, Any]] = []

    def request(self, method, uri, params=None, data=None, headers=None, auth=None, timeout=None,
                allow_redirects=False):  # noqa: ANN001
        self.peticiones.append({"method": method, "uri": uri, "data": data, "auth": auth})
        return RespuestaTwilio(201, '{"sid": "SM' + "0" * 32 + '", "status": "queued"}')


@pytest.mark.asyncio
async def test_the_twilio_sender_uses_twilios_messages_api() -> None:
    http = HttpDeMentira()
    cuenta = "AC" + "a" * 32
    enviador = EnviadorTwilio(cuenta, TOKEN, http_client=http)
    await enviador.enviar(para=NUMERO, de=CAPP, pieza=Pieza("Su hoja de cita", [PDF_URL]))
    await EnviadorTwilio(cuenta, TOKEN, remitente="+5215500000000", http_client=http).enviar(
        para=NUMERO, de=CAPP, pieza=Pieza("Hola"))
    primera, segunda = http.peticiones
    assert primera["method"] == "POST"
    assert primera["uri"] == f"https://api.twilio.com/2010-04-01/Accounts/{cuenta}/Messages.json"
    assert primera["auth"] == (cuenta, TOKEN)
    assert primera["data"]["To"] == NUMERO and primera["data"]["From"] == CAPP
    assert primera["data"]["Body"] == "Su hoja de cita"
    assert primera["data"]["MediaUrl"] == [PDF_URL]
    assert (
        segunda["data"]["From"] == "whatsapp:+5215500000000" and "MediaUrl" not in segunda["data"]
    )
    with pytest.raises(ValueError, match="TWILIO_FROM_WHATSAPP"):
        await EnviadorTwilio(cuenta, TOKEN, http_client=http).enviar(
            para=NUMERO, de=None, pieza=Pieza("x")
        )


# -- a replica that dies -----------------------------------------------------------


def _bandeja_compartida() -> tuple[BandejaWhatsApp, BandejaWhatsApp]:
    """Two replicas' views of one bandeja (one database)."""
    muerta = BandejaWhatsApp.en_memoria()
    return muerta, BandejaWhatsApp(muerta.engine, "replica-viva")


@pytest.mark.asyncio
async def test_a_turn_left_by_a_dead_replica_is_finished_and_sent_once(bot) -> None:
    muerta, viva = _bandeja_compartida()
    # The dead replica accepted the message and stopped renewing its lease.
    assert muerta.registrar("SMmuerto", NUMERO, {"texto": "menu", "to": CAPP}, plazo=-1)
    enviador = EnviadorDeMentira()
    canal = WhatsAppInput(TOKEN, PUBLIC, enviador=enviador, bandeja=viva)
    app = Sanic(f"wa_{uuid.uuid4().hex[:8]}")
    app.ctx.agent = bot.agente
    assert await canal.rescatar(app, bot) == 1
    await canal.terminar_pendientes()
    assert [m.text for m in bot.recibidos] == ["menu"]
    assert bot.recibidos[0].message_id == "SMmuerto"
    ((para, de, pieza),) = enviador.enviados
    assert (para, de) == (NUMERO, CAPP) and pieza.cuerpo.startswith("¿Qué desea hacer?")
    # Nothing is left to rescue: a second pass (or another replica) sends nothing.
    assert await canal.rescatar(app, bot) == 0
    assert len(enviador.enviados) == 1


@pytest.mark.asyncio
async def test_a_turn_the_dead_replica_had_saved_is_not_run_again(bot) -> None:
    muerta, viva = _bandeja_compartida()
    salida = WhatsAppInput(TOKEN, PUBLIC).get_output_channel()
    from rasa.core.channels.channel import UserMessage

    # processed and saved...
    await bot(UserMessage("hola", salida, NUMERO, message_id="SMguardado"))
    # ...never answered
    assert muerta.registrar("SMguardado", NUMERO, {"texto": "hola", "to": CAPP}, plazo=-1)
    assert respuesta_guardada(bot.agente.trackers[NUMERO], "SMguardado") == [
        {"text": "Usted escribió: hola"}
    ]
    # no outbound client: kept for the next reply
    canal = WhatsAppInput(TOKEN, PUBLIC, bandeja=viva)
    app = Sanic(f"wa_{uuid.uuid4().hex[:8]}")
    app.ctx.agent = bot.agente
    assert await canal.rescatar(app, bot) == 1
    assert len(bot.recibidos) == 1  # not run twice
    async with await _cliente(canal, bot) as cliente:
        cuerpo = (await Conversacion(cliente).enviar("otra"))[0]["body"]
    assert (
        cuerpo.index(MENSAJES["anterior"])
        < cuerpo.index("Usted escribió: hola")
        < cuerpo.index("Usted escribió: otra")
    )


@pytest.mark.asyncio
async def test_a_live_replicas_turn_is_not_taken_and_a_repeated_message_is_ignored(bot) -> None:
    muerta, viva = _bandeja_compartida()
    assert muerta.registrar("SMvivo", NUMERO, {"texto": "menu", "to": CAPP}, plazo=60)
    canal = WhatsAppInput(TOKEN, PUBLIC, bandeja=viva)
    app = Sanic(f"wa_{uuid.uuid4().hex[:8]}")
    app.ctx.agent = bot.agente
    assert await canal.rescatar(app, bot) == 0
    # Twilio posting the same MessageSid again: nothing runs twice.
    async with await _cliente(canal, bot) as cliente:
        respuesta = await Conversacion(cliente).enviar("menu", MessageSid="SMvivo")
    assert respuesta == [] and bot.recibidos == []


# -- body size ---------------------------------------------------------------------


@pytest.mark.asyncio
async def test_a_body_over_the_limit_gets_413_before_anything_reads_it(bot) -> None:
    enviados = 0

    async def veinte_megas():
        nonlocal enviados
        for _ in range(20 * 16):
            enviados += 1
            yield b"Body=" + b"x" * (64 * 1024 - 5)

    async with await _cliente(WhatsAppInput(TOKEN, PUBLIC, max_cuerpo=16 * 1024), bot) as cliente:
        # Chunked (no Content-Length): cut as soon as the limit is passed.
        r = await cliente.post(PATH, content=veinte_megas(), headers={"X-Twilio-Signature": "x"})
        assert r.status_code == 413 and "demasiado grande" in r.json()["detail"]
        assert enviados < 5  # the other ~20 MB were never read
        # A declared Content-Length over the limit: refused without reading.
        r = await cliente.post(
            PATH, content=b"Body=" + b"x" * 20000, headers={"X-Twilio-Signature": "x"}
        )
        assert r.status_code == 413
        # Under the limit: on to the signature check as before.
        params = {"From": NUMERO, "Body": "hola"}
        r = await cliente.post(PATH, data=params, headers={"X-Twilio-Signature": firmar(params)})
        assert r.status_code == 200
    assert [m.text for m in bot.recibidos] == ["hola"]
