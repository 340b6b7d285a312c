"""Where Rasa keeps conversations (bot/almacenes/): the SQL tracker store on
TRACKER_STORE_URL, the lock store on LOCK_STORE_URL, retention, the replica
registry that refuses two replicas with in-memory locks, and the action
timeout."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from rasa.core.lock_store import InMemoryLockStore, RedisLockStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot import almacenes
from bot.almacenes import entorno, redaccion, retencion, tablas
from bot.almacenes.cerrojo import CerrojoConversaciones
from bot.almacenes.registro import ReplicaRechazada

DOMINIO = Domain.from_yaml(
    """
version: "3.1"
intents: [saludar]
slots:
  sueldo:
    type: text
    influence_conversation: false
    mappings: [{type: custom}]
"""
)


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'conversaciones.db'}"


@pytest.fixture(autouse=True)
def _entorno(monkeypatch) -> None:
    monkeypatch.delenv("LOCK_STORE_URL", raising=False)
    monkeypatch.delenv("TRACKER_RETENCION_DIAS", raising=False)


def _almacen(url: str) -> almacenes.AlmacenConversaciones:
    return almacenes.AlmacenConversaciones(domain=DOMINIO, host=url)


def _cerrar(*stores: almacenes.AlmacenConversaciones) -> None:
    for s in stores:
        s.cerrar()
        s.engine.dispose()


@pytest.mark.asyncio
async def test_a_conversation_survives_a_new_process(url) -> None:
    primero = _almacen(url)
    tracker = DialogueStateTracker.from_events(
        "whatsapp:+5215512345678",
        [ActionExecuted("action_session_start"), SessionStarted(), UserUttered("gano 12 mil"),
         SlotSet("sueldo", "12000")],
        slots=DOMINIO.slots,
    )
    await primero.save(tracker)
    _cerrar(primero)
    segundo = _almacen(url)  # a restart, or another replica
    leido = await segundo.retrieve("whatsapp:+5215512345678")
    assert leido is not None and leido.get_slot("sueldo") == "12000"
    assert [e.text for e in leido.events if isinstance(e, UserUttered)] == ["gano 12 mil"]
    _cerrar(segundo)


def test_the_url_contract(tmp_path: Path, monkeypatch) -> None:
    assert entorno.url_de_almacen("postgresql+psycopg://u:p@db:5432/conv") == "postgresql://u:p@db:5432/conv"
    assert entorno.url_de_almacen("postgres://db/conv") == "postgresql://db/conv"
    monkeypatch.delenv("TRACKER_STORE_URL", raising=False)
    assert entorno.url_de_almacen() == entorno.URL_PREDETERMINADA
    assert entorno.URL_PREDETERMINADA.endswith("/var/conversaciones.db")
    destino = tmp_path / "nueva" / "carpeta" / "c.db"
    entorno.url_de_almacen(f"sqlite:///{destino}")
    assert destino.parent.is_dir()  # SQLite needs its folder


def test_lock_store_from_url(monkeypatch) -> None:
    assert isinstance(CerrojoConversaciones(), InMemoryLockStore)
    monkeypatch.setenv("LOCK_STORE_URL", "redis://:secreto@cache.interno:6380/3")
    cerrojo = CerrojoConversaciones(endpoint_config=None)
    assert isinstance(cerrojo, RedisLockStore)
    conexion = cerrojo.red.connection_pool.connection_kwargs
    assert (conexion["host"], conexion["port"], conexion["db"], conexion["password"]) == (
        "cache.interno", 6380, 3, "secreto")
    assert cerrojo.key_prefix == "capp:lock:"
    monkeypatch.setenv("LOCK_STORE_URL", "memcached://x")
    with pytest.raises(RuntimeError, match="redis://"):
        CerrojoConversaciones()


def test_two_replicas_with_in_memory_locks_are_refused(url, monkeypatch) -> None:
    primera = _almacen(url)
    with pytest.raises(ReplicaRechazada, match="LOCK_STORE_URL"):
        _almacen(url)
    # With Redis on both, any number may run.
    _cerrar(primera)
    monkeypatch.setenv("LOCK_STORE_URL", "redis://127.0.0.1:6379/0")
    a, b = _almacen(url), _almacen(url)
    # ...but one with an in-memory lock next to them is refused.
    monkeypatch.delenv("LOCK_STORE_URL")
    with pytest.raises(ReplicaRechazada):
        _almacen(url)
    _cerrar(a, b)


def test_a_dead_replicas_row_does_not_block_a_restart(url) -> None:
    primera = _almacen(url)
    primera._detener.set()  # stops its heartbeat, as a SIGKILL would
    with primera.engine.begin() as con:  # ...and its process is gone
        con.execute(tablas.replicas.update().values(pid=2**22 + 12345))
    segunda = _almacen(url)  # same host, pid not alive: not a conflict
    with segunda.engine.connect() as con:
        assert con.execute(sa.select(sa.func.count()).select_from(tablas.replicas)).scalar() == 1
    _cerrar(segunda)
    primera.engine.dispose()


@pytest.mark.asyncio
async def test_retention_deletes_old_sessions_and_old_conversations_only(url) -> None:
    almacen = _almacen(url)
    ahora = time.time()
    dia = 86400.0

    def eventos(*marcas: tuple[str, float]) -> list:
        salida = []
        for tipo, cuando in marcas:
            evento = SessionStarted() if tipo == "sesion" else UserUttered(tipo)
            evento.timestamp = cuando
            salida.append(evento)
        return salida

    # Active today, with an old session before: the old session goes.
    activa = eventos(
        ("sesion", ahora - 40 * dia),
        ("vieja", ahora - 40 * dia),
        ("sesion", ahora - dia),
        ("nueva", ahora),
    )
    # Silent for 40 days: all of it goes.
    olvidada = eventos(("sesion", ahora - 41 * dia), ("olvidada", ahora - 40 * dia))
    # Recent: untouched.
    reciente = eventos(("sesion", ahora - 2 * dia), ("reciente", ahora - 2 * dia))
    for nombre, evs in (("activa", activa), ("olvidada", olvidada), ("reciente", reciente)):
        await almacen.save(DialogueStateTracker.from_events(nombre, evs, slots=DOMINIO.slots))
    borrados = almacen.aplicar_retencion(dias=30, ahora=ahora)
    assert borrados == 4
    completo = await almacen.retrieve_full_tracker("activa")
    assert [e.text for e in completo.events if isinstance(e, UserUttered)] == ["nueva"]
    assert await almacen.retrieve("olvidada") is None
    assert [
        e.text for e in (await almacen.retrieve("reciente")).events if isinstance(e, UserUttered)
    ] == ["reciente"]
    _cerrar(almacen)


def test_retention_job_command(url, monkeypatch, capsys) -> None:
    monkeypatch.setenv("TRACKER_STORE_URL", url)
    assert retencion.principal(["retencion", "--dias", "30"]) == 0
    assert '"eventos_borrados": 0' in capsys.readouterr().out


def test_rasa_waits_for_actions_seconds_not_minutes(monkeypatch) -> None:
    import rasa.core.actions.action as accion_remota
    import rasa.utils.endpoints as endpoints

    monkeypatch.setattr(
        accion_remota, "DEFAULT_REQUEST_TIMEOUT", accion_remota.DEFAULT_REQUEST_TIMEOUT
    )
    monkeypatch.setattr(endpoints, "DEFAULT_REQUEST_TIMEOUT", endpoints.DEFAULT_REQUEST_TIMEOUT)
    monkeypatch.delenv("ACCIONES_TIMEOUT", raising=False)
    assert entorno.ajustar_espera_de_acciones() == 5.0
    assert accion_remota.DEFAULT_REQUEST_TIMEOUT == endpoints.DEFAULT_REQUEST_TIMEOUT == 5.0
    monkeypatch.setenv("ACCIONES_TIMEOUT", "3.5")
    assert entorno.ajustar_espera_de_acciones() == 3.5
    assert os.environ["ACCIONES_TIMEOUT"] == "3.5"


def test_what_is_stored_has_no_nip_no_clear_curp_no_token() -> None:
    nips = redaccion.nips_del_tracker(DialogueStateTracker.from_events(
        "x", [SlotSet("nip", "4821")], slots=[]))
    assert nips == ["4821"]
    usuario = {"event": "user", "text": "4821", "parse_data": {"text": "4821", "entities": [
        {"entity": "curp", "value": "HEGG560427MVZRRL04"}]}}
    limpio = redaccion.redactar_evento(usuario, nips)
    assert limpio["text"] == "****" and limpio["parse_data"]["text"] == "****"
    assert limpio["parse_data"]["entities"][0]["value"] == "HEGG************04"
    assert (
        redaccion.redactar_evento({"event": "slot", "name": "nip", "value": "4821"}, nips)["value"]
        == "****"
    )
    assert (
        redaccion.redactar_evento(
            {"event": "slot", "name": "token", "value": "eyJhbGciOi.x.y"}, []
        )["value"]
        is None
    )
    sellado = "sellado:v1:gAAAAA-abc="
    assert (
        redaccion.redactar_evento({"event": "slot", "name": "token", "value": sellado}, [])["value"]
        == sellado
    )
    enlace = "Descargue su estado de cuenta: https://capp/api/v1/archivos/x.pdf?token=eyJhbGciOiJIUzI1.eyJzdWIiOiIx.c2lnbmF0dXJl"
    bot = redaccion.redactar_evento(
        {"event": "bot", "text": enlace, "data": {"attachment": enlace}}, nips
    )
    assert "eyJ" not in bot["text"] and bot["text"].endswith("token=<token>")
    assert "eyJ" not in bot["data"]["attachment"]
    # A year or an amount is not a NIP unless it was given as one.
    assert (
        redaccion.redactar_evento({"event": "user", "text": "gano 4821.50 desde 2019"}, [])["text"]
        == "gano 4821.50 desde 2019"
    )
