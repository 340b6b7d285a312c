"""The WhatsApp channel (bot/channels/whatsapp.py) through its Sanic blueprint.

A scripted stand-in for Rasa's `on_new_message` answers through the channel's
own output collector, so these tests exercise the real webhook: Twilio
signatures, TwiML parsed with ElementTree, button numbering, media, masking.
The real bot is exercised end to end in tests/e2e/test_whatsapp.py.
"""

from __future__ import annotations

import sys
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sanic import Sanic
from twilio.request_validator import RequestValidator

BOT = Path(__file__).resolve().parents[2] / "bot"
if str(BOT) not in sys.path:  # Rasa imports custom channels with bot/ as working directory
    sys.path.insert(0, str(BOT))

from channels.whatsapp import (  # noqa: E402
    LIMITE_CUERPO,
    MemoriaConversaciones,
    WhatsAppInput,
    partir,
    resolver_opcion,
)

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


class BotDeMentira:
    """Answers like a tiny Rasa would, through the channel's output collector."""

    def __init__(self) -> None:
        self.recibidos: list[Any] = []
        self.falla = False

    async def __call__(self, mensaje: Any) -> None:
        self.recibidos.append(mensaje)
        if self.falla:
            raise RuntimeError("action server caído")
        salida, quien, texto = mensaje.output_channel, mensaje.sender_id, mensaje.text
        if texto == "menu":
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


@pytest.fixture(autouse=True)
def sanic_en_modo_prueba(monkeypatch) -> None:
    # What sanic-testing does: lets several apps start in one process.
    monkeypatch.setattr(Sanic, "test_mode", True)


@pytest.fixture
def bot() -> BotDeMentira:
    return BotDeMentira()


async def _cliente(canal: WhatsAppInput, bot: BotDeMentira) -> httpx.AsyncClient:
    app = Sanic(f"wa_{uuid.uuid4().hex[:8]}")
    app.blueprint(canal.blueprint(bot), url_prefix="/webhooks/whatsapp")
    # httpx's ASGI transport sends no lifespan: start the app as `app.run` would.
    await app._startup()
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://rasa.interno")


def firmar(params: dict[str, str], token: str = TOKEN, url: str = PUBLIC + PATH) -> str:
    return RequestValidator(token).compute_signature(url, params)


def mensajes_de(twiml: str) -> list[dict[str, Any]]:
    """Each <Message> as {"body", "media"}; the body may be the element's text or a nested <Body>."""
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
        params = {"From": self.numero, "To": "whatsapp:+14155238886", "MessageSid": "SM" + uuid.uuid4().hex, **extra}
        if body is not None:
            params["Body"] = body
            params.setdefault("NumMedia", "0")
        r = await self.cliente.post(PATH, data=params, headers={"X-Twilio-Signature": firmar(params)})
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith("text/xml")
        return mensajes_de(r.text)


@pytest_asyncio.fixture
async def conv(bot: BotDeMentira):
    cliente = await _cliente(WhatsAppInput(TOKEN, PUBLIC), bot)
    async with cliente:
        yield Conversacion(cliente)


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
        r = await cliente.post(PATH + "?origen=twilio", data=params, headers={"X-Twilio-Signature": buena})
        assert r.status_code == 200
        r = await cliente.post(PATH + "?origen=otro", data=params, headers={"X-Twilio-Signature": buena})
        assert r.status_code == 403


def test_settings_come_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "desde-env")
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://publico.example/")
    canal = WhatsAppInput.from_credentials(None)
    assert canal.auth_token == "desde-env"
    assert canal.public_base_url == "https://publico.example"
    assert canal.name() == "whatsapp"
    monkeypatch.delenv("TWILIO_AUTH_TOKEN")
    assert WhatsAppInput.from_credentials({}).auth_token is None


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


def test_memory_is_bounded() -> None:
    memoria = MemoriaConversaciones(maximo=3)
    for i in range(5):
        memoria.de(f"whatsapp:+52{i}").botones = BOTONES
    assert len(memoria) == 3
    assert memoria.de("whatsapp:+520").botones == []  # the oldest was forgotten
    assert memoria.de("whatsapp:+524").botones == BOTONES


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
        ({"NumMedia": "1", "MediaContentType0": "image/jpeg", "MediaUrl0": "https://api.twilio.com/m/1"}, "imagen"),
        ({"NumMedia": "1", "MediaContentType0": "audio/ogg", "MediaUrl0": "https://api.twilio.com/m/2"}, "voz"),
        ({"NumMedia": "1", "MediaContentType0": "application/pdf", "MediaUrl0": "https://api.twilio.com/m/3"}, "archivo"),
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
    respuesta = await conv.enviar("4821")
    assert bot.recibidos[-1].text == "4821"
    assert respuesta[0]["body"] == "Usted escribió: ****"
    # remembered for this sender: a later echo is masked too, other numbers are not
    respuesta = await conv.enviar("mi nip era 4821 y mi clave CC3QZ8 de 2024")
    assert respuesta[0]["body"] == "Usted escribió: mi nip era **** y mi clave CC3QZ8 de 2024"
