"""The protected REST channel (bot/channels/rest.py) through its Sanic blueprint.

A scripted stand-in for Rasa's `on_new_message` answers through the channel's
collector, so these tests exercise the real webhook: bearer token required
(constant-time compare, fail closed without RASA_TOKEN), Rasa's own answer
format and `?stream=true`, Spanish JSON errors. credentials.yml is read as
Rasa reads it, to prove the open built-in channel is gone.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from rasa.shared.utils.common import class_from_module_path
from sanic import Sanic

from bot.channels import autorizacion
from bot.channels.rest import RestProtegidoInput

ROOT = Path(__file__).resolve().parents[2]
BOT = ROOT / "bot"
# Sanic apps start in test mode (tests/bot/conftest.py).
pytestmark = pytest.mark.usefixtures("sanic_en_modo_prueba")
TOKEN = "rasa-" + uuid.uuid4().hex
RUTA = "/webhooks/rest/webhook"


class Bot:
    def __init__(self) -> None:
        self.recibidos: list[Any] = []

    async def __call__(self, mensaje: Any) -> None:
        self.recibidos.append(mensaje)
        await mensaje.output_channel.send_text_message(
            mensaje.sender_id, f"¡Recibí «{mensaje.text}»!"
        )
        await mensaje.output_channel.send_text_with_buttons(
            mensaje.sender_id, "¿Algo más?", [{"title": "Sí", "payload": "/afirmar"}]
        )


async def _cliente(canal: RestProtegidoInput, bot: Bot) -> httpx.AsyncClient:
    app = Sanic(f"rest_{uuid.uuid4().hex[:8]}")
    app.blueprint(canal.blueprint(bot), url_prefix="/webhooks/rest")

    # Another route of the same app: the blueprint's middleware must not touch it.
    @app.get("/status")
    async def status(_: Any) -> Any:
        from sanic import response

        return response.json({"ok": True})

    await app._startup()
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://rasa.interno")


def _portador(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.asyncio
async def test_the_right_token_gets_rasas_own_answer_format() -> None:
    bot = Bot()
    async with await _cliente(RestProtegidoInput(TOKEN), bot) as cliente:
        r = await cliente.post(
            RUTA, json={"sender": "e2e-1", "message": "¡Hola!"}, headers=_portador(TOKEN)
        )
        assert r.status_code == 200
        assert r.json() == [
            {"recipient_id": "e2e-1", "text": "¡Recibí «¡Hola!»!"},
            {
                "recipient_id": "e2e-1",
                "text": "¿Algo más?",
                "buttons": [{"title": "Sí", "payload": "/afirmar"}],
            },
        ]
        # the scheme is case-insensitive, as RFC 7235 says
        r = await cliente.post(
            RUTA,
            json={"sender": "e2e-1", "message": "otra"},
            headers={"Authorization": f"bearer {TOKEN}"},
        )
        assert r.status_code == 200
        # Rasa's streaming mode still works behind the check
        r = await cliente.post(
            RUTA + "?stream=true",
            json={"sender": "e2e-1", "message": "flujo"},
            headers=_portador(TOKEN),
        )
        assert r.status_code == 200
        lineas = [json.loads(linea) for linea in r.text.splitlines() if linea.strip()]
        assert [m["text"] for m in lineas] == ["¡Recibí «flujo»!", "¿Algo más?"]
    assert [(m.sender_id, m.text, m.input_channel) for m in bot.recibidos] == [
        ("e2e-1", "¡Hola!", "rest"), ("e2e-1", "otra", "rest"), ("e2e-1", "flujo", "rest"),
    ]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("cabeceras", "status", "palabra"),
    [
        ({}, 401, "falta"),
        ({"Authorization": ""}, 401, "falta"),
        ({"Authorization": "Bearer"}, 401, "falta"),
        ({"Authorization": f"Basic {TOKEN}"}, 401, "falta"),
        ({"Authorization": TOKEN}, 401, "falta"),
        ({"Authorization": "Bearer otro-token"}, 403, "no es válido"),
        ({"Authorization": f"Bearer {TOKEN}x"}, 403, "no es válido"),
        ({"Authorization": f"Bearer {TOKEN[:-1]}"}, 403, "no es válido"),
    ],
    ids=[
        "sin-cabecera",
        "vacia",
        "sin-token",
        "basic",
        "sin-esquema",
        "otro",
        "mas-largo",
        "prefijo",
    ],
)
async def test_missing_or_wrong_tokens_are_refused_before_rasa(cabeceras, status, palabra) -> None:
    bot = Bot()
    async with await _cliente(RestProtegidoInput(TOKEN), bot) as cliente:
        # the attack the check is for: posting as someone's WhatsApp number
        r = await cliente.post(
            RUTA,
            json={"sender": "whatsapp:+5215512345678", "message": "mi saldo"},
            headers=cabeceras,
        )
        assert r.status_code == status
        assert r.headers["content-type"].startswith("application/json")
        assert palabra in r.json()["detail"].lower()
        if status == 401:
            assert r.headers["www-authenticate"].startswith("Bearer")
        # the query-string token of Rasa's HTTP API is not accepted here
        r = await cliente.post(
            RUTA + f"?token={TOKEN}", json={"sender": "x", "message": "hola"}, headers=cabeceras
        )
        assert r.status_code == status
        # the health route is behind the check too; other app routes are not
        assert (await cliente.get("/webhooks/rest/", headers=cabeceras)).status_code == status
        assert (await cliente.get("/status")).status_code == 200
    assert bot.recibidos == []


@pytest.mark.asyncio
@pytest.mark.parametrize("token", [None, ""])
async def test_without_rasa_token_everything_is_refused(token) -> None:
    bot = Bot()
    async with await _cliente(RestProtegidoInput(token), bot) as cliente:
        for cabeceras in ({}, _portador(""), _portador("None"), _portador(TOKEN)):
            r = await cliente.post(RUTA, json={"sender": "a", "message": "hola"}, headers=cabeceras)
            assert r.status_code == 403
            assert "RASA_TOKEN" in r.json()["detail"]
    assert bot.recibidos == []


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("cuerpo", "palabra"),
    [
        (b"no es json", "json"),
        (b"[1, 2]", "objeto"),
        (json.dumps({"message": "hola"}).encode(), "sender"),
        (json.dumps({"sender": "  ", "message": "hola"}).encode(), "sender"),
        (json.dumps({"sender": 5, "message": "hola"}).encode(), "sender"),
        (json.dumps({"sender": "a"}).encode(), "message"),
        (json.dumps({"sender": "a", "message": ["hola"]}).encode(), "message"),
        (json.dumps({"sender": "a" * 200, "message": "hola"}).encode(), "largo"),
        (json.dumps({"sender": "a", "message": "x" * 6000}).encode(), "largo"),
        (json.dumps({"sender": "a", "message": "hola", "metadata": "texto"}).encode(), "metadata"),
    ],
    ids=["no-json", "lista", "sin-sender", "sender-vacio", "sender-numero", "sin-message",
         "message-lista", "sender-largo", "message-largo", "metadata-texto"],
)
async def test_a_malformed_body_is_a_400_in_spanish(cuerpo: bytes, palabra: str) -> None:
    bot = Bot()
    async with await _cliente(RestProtegidoInput(TOKEN), bot) as cliente:
        r = await cliente.post(RUTA, content=cuerpo,
                               headers={**_portador(TOKEN), "Content-Type": "application/json"})
    assert r.status_code == 400
    assert palabra in r.json()["detail"].lower()
    assert bot.recibidos == []


def test_the_compare_is_constant_time(monkeypatch) -> None:
    """The one check both trusted channels (rest and ivr) use."""
    comparados: list[tuple[bytes, bytes]] = []
    original = autorizacion.hmac.compare_digest

    def espia(a: bytes, b: bytes) -> bool:
        comparados.append((a, b))
        return original(a, b)

    monkeypatch.setattr(autorizacion.hmac, "compare_digest", espia)

    class Peticion:
        headers = {"Authorization": "Bearer adivinanza"}
        path = "/webhooks/rest/webhook"

    for canal in ("REST", "ivr"):
        assert autorizacion.rechazo_de_autorizacion(Peticion(), TOKEN, canal=canal).status == 403  # type: ignore[arg-type]
    assert comparados == [(b"adivinanza", TOKEN.encode())] * 2


def test_settings_come_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("RASA_TOKEN", "desde-env")
    canal = RestProtegidoInput.from_credentials(None)
    assert canal.token == "desde-env" and canal.name() == "rest"
    monkeypatch.delenv("RASA_TOKEN")
    assert RestProtegidoInput.from_credentials({}).token is None


def test_credentials_replace_the_open_rest_channel() -> None:
    credenciales = yaml.safe_load((BOT / "credentials.yml").read_text(encoding="utf-8"))
    assert "rest" not in credenciales  # Rasa's unprotected channel
    rest = [clave for clave in credenciales if clave.endswith("RestProtegidoInput")]
    assert rest == ["bot.channels.rest.RestProtegidoInput"]
    # Rasa resolves the key the same way, with bot/ on the path.
    clase = class_from_module_path(rest[0])
    assert clase is RestProtegidoInput and clase.name() == "rest"
    # Every other channel is one of ours too, loaded by module path.
    for clave in credenciales:
        assert "." in clave, f"canal integrado sin protección: {clave}"
