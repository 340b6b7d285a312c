"""The action server answers only Rasa (rasa_sdk_plugins/ at the repository root:
rasa_sdk imports it by that top-level name): rasa_sdk's own app, with the
plugin rasa_sdk discovers at start-up."""

from __future__ import annotations

import uuid

import httpx
import pytest
from rasa_sdk.endpoint import create_app

import rasa_sdk_plugins

# Sanic apps start in test mode (tests/bot/conftest.py).
pytestmark = pytest.mark.usefixtures("sanic_en_modo_prueba")
TOKEN = "acciones-" + uuid.uuid4().hex
LLAMADA = {
    "next_action": "action_inexistente",
    "sender_id": "x",
    "tracker": {"sender_id": "x", "slots": {}, "latest_message": {}, "events": []},
    "domain": {},
}


async def _cliente(monkeypatch, token: str | None) -> httpx.AsyncClient:
    if token is None:
        monkeypatch.delenv("ACTIONS_TOKEN", raising=False)
    else:
        monkeypatch.setenv("ACTIONS_TOKEN", token)
    app = create_app("bot.actions")
    rasa_sdk_plugins.SoloRasa().attach_sanic_app_extensions(app=app)
    await app._startup()
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://acciones.interno")


def test_rasa_sdk_discovers_the_plugin() -> None:
    from rasa_sdk.plugin import plugin_manager

    plugin_manager.cache_clear()
    nombres = [type(p).__name__ for p in plugin_manager().get_plugins()]
    assert "SoloRasa" in nombres


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("cabeceras", "status"),
    [({}, 401), ({"Authorization": "Basic abc"}, 401), ({"Authorization": "Bearer otro"}, 403)],
)
async def test_calls_without_rasas_token_are_refused(monkeypatch, cabeceras, status) -> None:
    async with await _cliente(monkeypatch, TOKEN) as cliente:
        r = await cliente.post("/webhook", json=LLAMADA, headers=cabeceras)
        assert r.status_code == status
        assert "token" in r.json()["detail"].lower()
        assert (await cliente.get("/actions", headers=cabeceras)).status_code == status
        assert (await cliente.get("/health")).status_code == 200  # probes stay open


@pytest.mark.asyncio
async def test_rasas_token_reaches_the_actions(monkeypatch) -> None:
    async with await _cliente(monkeypatch, TOKEN) as cliente:
        r = await cliente.get("/actions", headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 200
    assert any(a["name"] == "action_consultar_saldo" for a in r.json())


@pytest.mark.asyncio
async def test_without_a_token_configured_nobody_gets_in(monkeypatch) -> None:
    async with await _cliente(monkeypatch, None) as cliente:
        r = await cliente.get("/actions", headers={"Authorization": "Bearer "})
        assert r.status_code == 403
        r = await cliente.get("/actions", headers={"Authorization": "Bearer cualquiera"})
        assert r.status_code == 403


def test_rasa_sends_the_token_from_its_environment(monkeypatch) -> None:
    """endpoints.yml, read as Rasa reads it: the header carries ACTIONS_TOKEN."""
    from pathlib import Path

    from rasa.core.utils import read_endpoints_from_path

    monkeypatch.setenv("ACTIONS_TOKEN", TOKEN)
    monkeypatch.setenv("ACTION_ENDPOINT_URL", "http://127.0.0.1:5055/webhook")
    endpoints = read_endpoints_from_path(
        Path(__file__).resolve().parents[2] / "bot" / "endpoints.yml"
    )
    assert endpoints.action.headers == {"Authorization": f"Bearer {TOKEN}"}
    assert endpoints.tracker_store.type == "bot.almacenes.AlmacenConversaciones"
    assert endpoints.lock_store.type == "bot.almacenes.CerrojoConversaciones"
