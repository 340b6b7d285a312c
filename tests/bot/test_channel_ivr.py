"""The ivr input channel (bot/channels/ivr.py) through its Sanic blueprint.

A scripted stand-in for Rasa's `on_new_message` answers through the channel's
own output collector and writes a real DialogueStateTracker, so these tests
exercise the real webhook: the "ivr" output channel name (which makes Rasa
pick `channel: ivr` responses), requested_slot/active_loop, buttons mapped
from keys or spoken titles, custom `accion` payloads, /interpretar, /repetir,
and the bearer token (RASA_TOKEN) every one of those routes requires.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
import pytest_asyncio
from rasa.shared.core.events import ActiveLoop, BotUttered, SlotSet, UserUttered
from rasa.shared.core.slots import TextSlot
from rasa.shared.core.trackers import DialogueStateTracker
from sanic import Sanic

from bot.channels import ivr as canal_ivr
from bot.channels.ivr import IVRInput, IVROutput

# Sanic apps start in test mode (tests/bot/conftest.py).
pytestmark = pytest.mark.usefixtures("sanic_en_modo_prueba")
TOKEN = "rasa-" + uuid.uuid4().hex
AUTORIZADO = {"Authorization": f"Bearer {TOKEN}"}
RUTAS = [
    ("/webhooks/ivr/webhook", {"sender": "CA1", "message": "/cancelar_cita"}),
    ("/webhooks/ivr/interpretar", {"message": "quiero cancelar mi cita"}),
    ("/webhooks/ivr/repetir", {"sender": "CA1"}),
]
BOTONES = [{"title": "Sí", "payload": "/afirmar"}, {"title": "No, gracias", "payload": "/negar"}]
TIPO = [{"title": "En activo", "payload": "1"}, {"title": "Pensionado", "payload": "2"}]
CITAS = [{"title": "CC3QZ8", "payload": '/reimprimir_cita{"clave_cita": "CC3QZ8"}'}]


class AgenteDeMentira:
    """What the blueprint uses from Rasa's Agent: the tracker store and parse_message."""

    def __init__(self) -> None:
        self.trackers: dict[str, DialogueStateTracker] = {}
        self.tracker_store = self

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        return self.trackers.get(sender_id)

    async def parse_message(self, texto: str) -> dict[str, Any]:
        intent = "cancelar_cita" if "cancelar" in texto else "nlu_fallback"
        return {
            "text": texto,
            "intent": {"name": intent, "confidence": 0.93},
            "entities": [{"entity": "clave_cita", "value": "CC3QZ8", "start": 0}],
        }


class BotDeMentira:
    def __init__(self, agente: AgenteDeMentira) -> None:
        self.agente = agente
        self.recibidos: list[Any] = []
        self.falla = False

    def _tracker(
        self, sender: str, intent: str, slot: str | None, loop: str | None, salida: Any
    ) -> None:
        # Like Rasa: the turn's bot messages are BotUttered events in the tracker.
        anteriores = (
            list(self.agente.trackers[sender].events) if sender in self.agente.trackers else []
        )
        eventos = [*anteriores, UserUttered("x", {"name": intent, "confidence": 1.0})]
        for m in salida.messages:
            datos = {k: v for k, v in m.items() if k not in ("recipient_id", "text")}
            eventos.append(BotUttered(m.get("text"), datos))
        if loop:
            eventos.append(ActiveLoop(loop))
        eventos.append(SlotSet("requested_slot", slot))
        self.agente.trackers[sender] = DialogueStateTracker.from_events(
            sender, eventos, slots=[TextSlot("requested_slot", mappings=[])]
        )

    async def __call__(self, mensaje: Any) -> None:
        self.recibidos.append(mensaje)
        if self.falla:
            raise RuntimeError("action server caído")
        salida, quien, texto = mensaje.output_channel, mensaje.sender_id, mensaje.text
        if texto == "/cancelar_cita":
            await salida.send_text_message(quien, "¿Cuál es la clave de su cita?")
            self._tracker(quien, "cancelar_cita", "clave_cita", "cancelar_cita_form", salida)
        elif texto == "/menu":
            await salida.send_text_with_buttons(quien, "¿Algo más?", BOTONES)
            self._tracker(quien, "saludar", None, None, salida)
        elif texto == "/tipo":
            await salida.send_text_with_buttons(quien, "¿En activo o pensionado?", TIPO)
            self._tracker(
                quien, "simular_prestamo", "tipo_derechohabiente", "simulacion_form", salida
            )
        elif texto == "/mis_citas":
            await salida.send_text_with_buttons(quien, "¿Cuál cita?", CITAS)
            self._tracker(quien, "consultar_citas", None, None, salida)
        elif texto == "/hablar_con_asesor":
            await salida.send_text_message(quien, "Le comunico con un asesor.")
            await salida.send_custom_json(quien, {"accion": "transferir"})
            self._tracker(quien, "hablar_con_asesor", None, None, salida)
        else:
            await salida.send_text_message(quien, f"Recibí {texto}")
            self._tracker(quien, "informar", None, None, salida)


@pytest.fixture
def agente() -> AgenteDeMentira:
    return AgenteDeMentira()


@pytest.fixture
def bot(agente) -> BotDeMentira:
    return BotDeMentira(agente)


async def _app(canal: IVRInput, agente, bot) -> httpx.AsyncClient:
    app = Sanic(f"ivr_{uuid.uuid4().hex[:8]}")
    app.ctx.agent = agente
    app.blueprint(canal.blueprint(bot), url_prefix="/webhooks/" + canal.url_prefix())

    # Another route of the same app: the channel's check must not touch it.
    @app.get("/status")
    async def status(_: Any) -> Any:
        from sanic import response

        return response.json({"ok": True})

    await app._startup()
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://rasa.interno")


@pytest_asyncio.fixture
async def sin_cabecera(agente, bot):
    """The channel with its token configured; the client sends no header unless told."""
    async with await _app(IVRInput(TOKEN), agente, bot) as c:
        yield c


@pytest_asyncio.fixture
async def cliente(agente, bot, monkeypatch):
    monkeypatch.setenv("RASA_TOKEN", TOKEN)
    async with await _app(IVRInput.from_credentials({}), agente, bot) as c:
        c.headers.update(AUTORIZADO)
        yield c


async def turno(cliente: httpx.AsyncClient, mensaje: str, sender: str = "CA1") -> dict[str, Any]:
    r = await cliente.post(
        "/webhooks/ivr/webhook",
        json={"sender": sender, "message": mensaje, "metadata": {"canal": "telefono"}},
    )
    assert r.status_code == 200, r.text
    return r.json()


def test_nombres_del_canal():
    assert IVRInput.name() == "ivr"
    assert IVROutput.name() == "ivr"  # Rasa chooses `channel: ivr` response variants by this name


@pytest.mark.asyncio
async def test_turno_devuelve_mensajes_y_lo_que_pide_el_formulario(cliente, bot):
    salida = await turno(cliente, "/cancelar_cita")
    assert salida == {
        "mensajes": ["¿Cuál es la clave de su cita?"],
        "botones": [],
        "accion": None,
        "requested_slot": "clave_cita",
        "active_loop": "cancelar_cita_form",
        "intent": "cancelar_cita",
    }
    (m,) = bot.recibidos
    assert m.sender_id == "CA1" and m.input_channel == "ivr" and m.metadata == {"canal": "telefono"}
    assert isinstance(m.output_channel, IVROutput)


@pytest.mark.asyncio
async def test_botones_por_tecla_o_por_titulo_dicho(cliente, bot):
    salida = await turno(cliente, "/menu")
    assert salida["botones"] == BOTONES and salida["mensajes"] == ["¿Algo más?"]
    await turno(cliente, "2")
    assert bot.recibidos[-1].text == "/negar"
    await turno(cliente, "/menu")
    await turno(cliente, "sí")
    assert bot.recibidos[-1].text == "/afirmar"
    await turno(cliente, "/menu")
    await turno(cliente, "7")  # no such button: passed on as said
    assert bot.recibidos[-1].text == "7"


@pytest.mark.asyncio
@pytest.mark.parametrize("dicho,llega", [
    ("pensionado", "2"),
    ("soy pensionado", "2"),  # a title inside a sentence is that button
    # refused: the bot reads it
    ("no no soy pensionado sigo trabajando", "no no soy pensionado sigo trabajando"),
    ("en activo no pensionado", "1"),  # one named, the other refused
    ("pues en activo o pensionado", "pues en activo o pensionado"),  # two titles: the bot reads it
])
async def test_un_titulo_negado_o_ambiguo_no_se_toma_por_boton(cliente, bot, dicho, llega):
    await turno(cliente, "/tipo")
    await turno(cliente, dicho)
    assert bot.recibidos[-1].text == llega


@pytest.mark.asyncio
async def test_los_botones_son_por_llamada(cliente, bot):
    await turno(cliente, "/menu", sender="CA-A")
    await turno(cliente, "1", sender="CA-B")
    assert bot.recibidos[-1].text == "1"


@pytest.mark.asyncio
async def test_accion_transferir_de_un_payload_custom(cliente):
    salida = await turno(cliente, "/hablar_con_asesor")
    assert salida["accion"] == "transferir" and salida["mensajes"] == ["Le comunico con un asesor."]


@pytest.mark.asyncio
async def test_repetir_devuelve_la_ultima_respuesta_sin_pasar_por_rasa(cliente, bot):
    r = await cliente.post("/webhooks/ivr/repetir", json={"sender": "CA1"})
    assert r.status_code == 404
    primera = await turno(cliente, "/cancelar_cita")
    r = await cliente.post("/webhooks/ivr/repetir", json={"sender": "CA1"})
    assert r.status_code == 200 and r.json() == primera
    assert len(bot.recibidos) == 1


@pytest.mark.asyncio
async def test_interpretar_no_toca_la_conversacion(cliente, bot, agente):
    r = await cliente.post("/webhooks/ivr/interpretar", json={"message": "quiero cancelar mi cita"})
    assert r.status_code == 200
    assert r.json() == {
        "intent": "cancelar_cita",
        "confidence": 0.93,
        "entities": [{"entity": "clave_cita", "value": "CC3QZ8"}],
    }
    assert bot.recibidos == [] and agente.trackers == {}


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "cuerpo", [{}, {"sender": "CA1"}, {"sender": "CA1", "message": "  "}, {"message": "hola"}]
)
async def test_peticiones_incompletas_400_en_espanol(cliente, cuerpo):
    r = await cliente.post("/webhooks/ivr/webhook", json=cuerpo)
    assert r.status_code == 400 and "Faltan" in r.json()["detail"]


@pytest.mark.asyncio
async def test_error_del_bot_es_500_json_que_el_ivr_convierte_en_disculpa(cliente, bot):
    bot.falla = True
    r = await cliente.post("/webhooks/ivr/webhook", json={"sender": "CA1", "message": "hola"})
    assert r.status_code == 500 and r.json()["detail"]


# ------------------------------------------------------------------ the bearer token

@pytest.mark.asyncio
@pytest.mark.parametrize(("ruta", "cuerpo"), RUTAS)
@pytest.mark.parametrize(
    ("cabeceras", "codigo"),
    [
        ({}, 401),
        ({"Authorization": TOKEN}, 401),  # no "Bearer"
        ({"Authorization": "Basic " + TOKEN}, 401),
        ({"Authorization": "Bearer "}, 401),
        ({"Authorization": "Bearer otro-token"}, 403),
        ({"Authorization": f"Bearer {TOKEN}x"}, 403),
        ({"Authorization": f"Bearer {TOKEN[:-1]}"}, 403),
    ],
)
async def test_sin_el_token_correcto_nadie_maneja_la_llamada(
    sin_cabecera, bot, agente, ruta, cuerpo, cabeceras, codigo
):
    r = await sin_cabecera.post(ruta, json=cuerpo, headers=cabeceras)
    assert r.status_code == codigo
    assert r.json()["detail"] and r.headers["content-type"].startswith("application/json")
    if codigo == 401:
        assert r.headers["WWW-Authenticate"].startswith("Bearer")
    assert bot.recibidos == [] and agente.trackers == {}


@pytest.mark.asyncio
@pytest.mark.parametrize(("ruta", "cuerpo"), RUTAS)
async def test_con_el_token_correcto_pasa(sin_cabecera, ruta, cuerpo):
    r = await sin_cabecera.post(ruta, json=cuerpo, headers={"Authorization": f"bearer  {TOKEN} "})
    assert r.status_code in {200, 404}  # /repetir answers 404 before any turn
    assert r.status_code == 200 or ruta.endswith("/repetir")


@pytest.mark.asyncio
async def test_la_ruta_de_salud_y_las_demas_rutas_no_piden_token(sin_cabecera):
    assert (await sin_cabecera.get("/webhooks/ivr/")).status_code == 200
    assert (await sin_cabecera.get("/status")).status_code == 200


@pytest.mark.asyncio
@pytest.mark.parametrize("token", [None, ""])
async def test_sin_rasa_token_se_rechaza_todo_y_se_avisa_una_vez(
    agente, bot, monkeypatch, caplog, token
):
    monkeypatch.setattr(canal_ivr, "_aviso_sin_token_dado", False)
    if token is None:
        monkeypatch.delenv("RASA_TOKEN", raising=False)
    else:
        monkeypatch.setenv("RASA_TOKEN", token)
    with caplog.at_level("WARNING", logger=canal_ivr.__name__):
        canales = [IVRInput.from_credentials({}), IVRInput.from_credentials(None)]
        for canal in canales:
            assert canal.token is None
            async with await _app(canal, agente, bot) as c:
                for ruta, cuerpo in RUTAS:
                    for cabeceras in (
                        {},
                        {"Authorization": "Bearer "},
                        {"Authorization": "Bearer None"},
                        AUTORIZADO,
                    ):
                        r = await c.post(ruta, json=cuerpo, headers=cabeceras)
                        assert r.status_code == 403
                        assert "RASA_TOKEN" in r.json()["detail"]
    avisos = [r for r in caplog.records if "RASA_TOKEN" in r.getMessage()]
    assert len(avisos) == 1 and avisos[0].levelname == "WARNING"
    assert bot.recibidos == []


@pytest.mark.asyncio
async def test_un_intent_con_entidades_del_ivr_nunca_se_toma_por_boton(cliente, bot):
    await turno(cliente, "/mis_citas")  # a button titled CC3QZ8, which the message below contains
    await turno(cliente, "la CC3QZ8")
    assert bot.recibidos[-1].text == CITAS[0]["payload"]  # a spoken title still picks the button
    await turno(cliente, "/mis_citas")
    await turno(cliente, '/cancelar_cita{"clave_cita": "CC3QZ8"}')
    assert bot.recibidos[-1].text == '/cancelar_cita{"clave_cita": "CC3QZ8"}'
