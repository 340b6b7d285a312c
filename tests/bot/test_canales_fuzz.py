"""The channel webhooks under generated requests from a caller who holds the
credentials (the bearer token, Twilio's signature): whatever JSON or form
arrives, the answer is a 2xx/4xx with a body a client can read (JSON with a
Spanish `detail`, or TwiML), never a 5xx.

Generated with a seeded `random` (hypothesis is not in Rasa's Python 3.10
environment): the same cases every run."""

from __future__ import annotations

import asyncio
import json
import random
import uuid
import xml.etree.ElementTree as ET
from typing import Any

import httpx
from sanic import Sanic
from test_channel_whatsapp import AgenteDeMentira, BotDeMentira, firmar

from bot.channels.ivr import IVRInput
from bot.channels.rest import RestProtegidoInput
from bot.channels.whatsapp import WhatsAppInput

TOKEN = "canal-" + uuid.uuid4().hex
PUBLICO = "https://capp.example.mx"
CASOS = 80
RUTAS = [
    "/webhooks/ivr/webhook",
    "/webhooks/ivr/interpretar",
    "/webhooks/ivr/repetir",
    "/webhooks/rest/webhook",
]
CAMPOS_FORMA = [
    "Body",
    "NumMedia",
    "MediaContentType0",
    "Latitude",
    "Longitude",
    "ButtonPayload",
    "MessageSid",
    "To",
]


def _texto(azar: random.Random) -> str:
    alfabeto = "aáé ñ¡¿?0123456789/{}\"':\x00\n\u2028😀HEGG560427MVZRRL04"
    return "".join(azar.choice(alfabeto) for _ in range(azar.randint(0, 30)))


def _json(azar: random.Random, hondura: int = 0) -> Any:
    tipo = azar.randint(0, 6 if hondura < 2 else 3)
    if tipo == 0:
        return None
    if tipo == 1:
        return azar.choice([True, False])
    if tipo == 2:
        return azar.randint(-10**9, 10**9)
    if tipo == 3:
        return _texto(azar)
    if tipo == 4:
        return [_json(azar, hondura + 1) for _ in range(azar.randint(0, 3))]
    cuerpo = {_texto(azar): _json(azar, hondura + 1) for _ in range(azar.randint(0, 2))}
    for campo in ("sender", "message", "metadata"):
        if azar.random() < 0.6:
            cuerpo[campo] = _texto(azar) if azar.random() < 0.6 else _json(azar, hondura + 1)
    return cuerpo


def _forma(azar: random.Random) -> dict[str, str]:
    forma = {"From": "whatsapp:+5215512345678" if azar.random() < 0.7 else _texto(azar)}
    for campo in CAMPOS_FORMA:
        if azar.random() < 0.5:
            forma[campo] = (
                str(azar.randint(-3, 12))
                if campo == "NumMedia" and azar.random() < 0.5
                else _texto(azar)
            )
    return forma


def _legible(r: httpx.Response, caso: Any) -> None:
    assert r.status_code < 500, (caso, r.text[:300])
    if r.headers.get("content-type", "").startswith("application/json"):
        cuerpo = r.json()
        if r.status_code >= 400:
            assert isinstance(cuerpo, dict) and cuerpo.get("detail"), cuerpo
    else:
        assert ET.fromstring(r.content).tag == "Response"


async def _cliente(canal: Any, prefijo: str, bot: Any, agente: Any) -> httpx.AsyncClient:
    Sanic.test_mode = True
    app = Sanic(f"fuzz_{uuid.uuid4().hex[:8]}")
    app.ctx.agent = agente
    app.blueprint(canal.blueprint(bot), url_prefix=prefijo)
    await app._startup()
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://rasa.interno")


def test_canales_con_token_nunca_responden_5xx() -> None:
    async def probar() -> None:
        azar = random.Random(4821)
        for _ in range(CASOS):
            ruta, cuerpo = azar.choice(RUTAS), _json(azar)
            bot = BotDeMentira()
            agente = bot.agente
            agente.parse_message = _parse  # what /interpretar uses of Rasa's agent
            canal = IVRInput(token=TOKEN) if "/ivr/" in ruta else RestProtegidoInput(token=TOKEN)
            async with await _cliente(
                canal, "/webhooks/" + canal.url_prefix(), bot, agente
            ) as cliente:
                r = await cliente.post(ruta, content=json.dumps(cuerpo), headers={
                    "Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"})
            _legible(r, (ruta, cuerpo))

    asyncio.run(probar())


async def _parse(texto: str) -> dict[str, Any]:
    return {"text": texto, "intent": {"name": "informar", "confidence": 0.9}, "entities": []}


def test_whatsapp_firmado_nunca_responde_5xx() -> None:
    async def probar() -> None:
        azar = random.Random(7315)
        bot = BotDeMentira()
        canal = WhatsAppInput(TOKEN, PUBLICO)
        async with await _cliente(canal, "/webhooks/whatsapp", bot, bot.agente) as cliente:
            for _ in range(CASOS):
                forma = _forma(azar)
                r = await cliente.post(
                    "/webhooks/whatsapp/webhook",
                    data=forma,
                    headers={
                        "X-Twilio-Signature": firmar(
                            forma, token=TOKEN, url=PUBLICO + "/webhooks/whatsapp/webhook"
                        )
                    },
                )
                _legible(r, forma)
        await canal.terminar_pendientes()

    asyncio.run(probar())


def test_el_agente_de_mentira_es_el_del_canal() -> None:
    assert isinstance(BotDeMentira().agente, AgenteDeMentira)
