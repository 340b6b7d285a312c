"""The web chat's socket.io channel (bot/channels/webchat.py) over a real
socket: a python-socketio client talks to a Sanic server on a free port.
Replies reach the session's room; only session ids of the page's shape are
accepted, so a browser cannot join a WhatsApp or phone conversation."""

from __future__ import annotations

import asyncio
import socket
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
import socketio
from sanic import Sanic

ROOT = Path(__file__).resolve().parents[2]
BOT = ROOT / "bot"
# Rasa imports custom channels from the repository root (bot.channels.*)
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.channels.webchat import SESION_RE, WebChatInput  # noqa: E402


def _puerto_libre() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Cliente:
    def __init__(self, url: str) -> None:
        self.url = url
        self.sio = socketio.AsyncClient(reconnection=False)
        self.recibidos: asyncio.Queue = asyncio.Queue()
        self.confirmado: asyncio.Queue = asyncio.Queue()
        self.sio.on("bot_uttered", lambda data: self.recibidos.put_nowait(data))
        self.sio.on("session_confirm", lambda sid: self.confirmado.put_nowait(sid))

    async def abrir(self, session_id: Any) -> str:
        if not self.sio.connected:
            await self.sio.connect(self.url, transports=["polling"], socketio_path="/socket.io")
        return await self.abrir_sin_conectar(session_id)

    async def abrir_sin_conectar(self, session_id: Any) -> str:
        await self.sio.emit("session_request", {"session_id": session_id})
        return await asyncio.wait_for(self.confirmado.get(), 10)

    async def decir(self, session_id: Any, texto: Any) -> Any:
        await self.sio.emit("user_uttered", {"message": texto, "session_id": session_id})
        return await asyncio.wait_for(self.recibidos.get(), 10)

    async def nada_mas(self, segundos: float = 0.5) -> None:
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(self.recibidos.get(), segundos)


class Servidor:
    """WebChatInput's blueprint in a real Sanic server on a free port."""

    def __init__(self) -> None:
        self.recibidos: list[Any] = []
        self.canal = WebChatInput.from_credentials(
            {
                "user_message_evt": "user_uttered",
                "bot_message_evt": "bot_uttered",
                "session_persistence": True,
            }
        )

    async def bot(self, mensaje: Any) -> None:
        self.recibidos.append(mensaje)
        await mensaje.output_channel.send_text_message(
            mensaje.sender_id, f"¡Recibí «{mensaje.text}»!"
        )

    async def __aenter__(self) -> str:
        webhook = self.canal.blueprint(self.bot)
        # Long-polling clients (aiohttp 3.9 is too old for python-engineio's
        # websocket client) disconnect only after the next ping: make pings quick.
        self.canal.sio.eio.ping_interval, self.canal.sio.eio.ping_timeout = 0.2, 1
        app = Sanic(f"webchat_{uuid.uuid4().hex[:8]}")
        app.blueprint(webhook, url_prefix="/webhooks/socketio")
        puerto = _puerto_libre()
        self.servidor = await app.create_server(
            host="127.0.0.1", port=puerto, return_asyncio_server=True
        )
        await self.servidor.startup()
        self.clientes: list[Cliente] = []
        return f"http://127.0.0.1:{puerto}"

    def cliente(self, url: str) -> Cliente:
        c = Cliente(url)
        self.clientes.append(c)
        return c

    async def __aexit__(self, *exc: object) -> None:
        for c in self.clientes:
            if c.sio.connected:
                await c.sio.disconnect()
        self.servidor.close()
        await self.servidor.wait_closed()


@pytest.mark.asyncio
async def test_replies_reach_the_session_room_and_survive_a_new_socket(monkeypatch) -> None:
    monkeypatch.setattr(Sanic, "test_mode", True)
    servidor = Servidor()
    assert servidor.canal.name() == "socketio"
    async with servidor as url:
        sesion = uuid.uuid4().hex
        primero = servidor.cliente(url)
        assert await primero.abrir(sesion) == sesion
        assert await primero.decir(sesion, "¡Hola!") == {"text": "¡Recibí «¡Hola!»!"}
        await primero.sio.disconnect()

        # A reload: a new socket asks for the same session and keeps talking in it.
        segundo = servidor.cliente(url)
        assert await segundo.abrir(sesion) == sesion
        assert await segundo.decir(sesion, "saldo") == {"text": "¡Recibí «saldo»!"}
        assert [(m.sender_id, m.text, m.input_channel) for m in servidor.recibidos] == [
            (sesion, "¡Hola!", "socketio"),
            (sesion, "saldo", "socketio"),
        ]

        # No session id: the server makes one up.
        tercero = servidor.cliente(url)
        nuevo = await tercero.abrir(None)
        assert SESION_RE.fullmatch(nuevo) and nuevo != sesion


AJENOS = [
    "whatsapp:+5215512345678",  # a WhatsApp conversation
    "CA" + "0123456789abcdef" * 2,  # a Twilio CallSid (the phone line)
    "e2e-1234567890",
    "0123456789ABCDEF0123456789ABCDEF",  # upper case: not what the page makes
    "0123456789abcdef0123456789abcde",  # 31
    "0123456789abcdef0123456789abcdef0",  # 33
    "0123456789abcdef0123456789abcdef\n",
    "",
    12345,
    {"session_id": "x"},
]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "ajeno",
    AJENOS,
    ids=[
        "whatsapp",
        "callsid",
        "rest",
        "mayusculas",
        "corto",
        "largo",
        "salto",
        "vacio",
        "numero",
        "objeto",
    ],
)
async def test_a_session_id_of_another_shape_is_replaced_by_a_fresh_one(monkeypatch, ajeno) -> None:
    monkeypatch.setattr(Sanic, "test_mode", True)
    servidor = Servidor()
    async with servidor as url:
        cliente = servidor.cliente(url)
        asignado = await cliente.abrir(ajeno)
        assert asignado != ajeno and SESION_RE.fullmatch(asignado)
        # Even if the client insists in every message, it talks in its own session.
        assert await cliente.decir(ajeno, "mi saldo") == {"text": "¡Recibí «mi saldo»!"}
        assert [m.sender_id for m in servidor.recibidos] == [asignado]
        # Replies of the conversation it tried to join never reach it.
        if isinstance(ajeno, str) and ajeno:
            await servidor.canal.get_output_channel().send_text_message(
                ajeno, "saldo de otra persona"
            )
            await cliente.nada_mas()
        await servidor.canal.get_output_channel().send_text_message(asignado, "su propia respuesta")
        assert await asyncio.wait_for(cliente.recibidos.get(), 10) == {
            "text": "su propia respuesta"
        }


@pytest.mark.asyncio
async def test_messages_go_to_the_confirmed_session_not_the_one_they_name(monkeypatch) -> None:
    monkeypatch.setattr(Sanic, "test_mode", True)
    servidor = Servidor()
    async with servidor as url:
        victima, intruso = servidor.cliente(url), servidor.cliente(url)
        sesion_victima = await victima.abrir(uuid.uuid4().hex)
        sesion_intruso = await intruso.abrir(uuid.uuid4().hex)
        assert await intruso.decir(sesion_victima, "hola") == {"text": "¡Recibí «hola»!"}
        assert [m.sender_id for m in servidor.recibidos] == [sesion_intruso]
        await victima.nada_mas()

        # A second session_request moves the socket: it leaves the old room.
        otra = uuid.uuid4().hex
        assert await intruso.abrir(otra) == otra
        await servidor.canal.get_output_channel().send_text_message(
            sesion_intruso, "para la sesión anterior"
        )
        await intruso.nada_mas()
        assert await intruso.decir(None, "sigo") == {"text": "¡Recibí «sigo»!"}
        assert servidor.recibidos[-1].sender_id == otra


@pytest.mark.asyncio
async def test_bad_messages_get_a_spanish_notice_and_never_reach_the_bot(monkeypatch) -> None:
    monkeypatch.setattr(Sanic, "test_mode", True)
    servidor = Servidor()
    async with servidor as url:
        cliente = servidor.cliente(url)
        # Before session_request: no conversation to file it in.
        await cliente.sio.connect(url, transports=["polling"], socketio_path="/socket.io")
        respuesta = await cliente.decir(uuid.uuid4().hex, "hola")
        assert "Recargue la página" in respuesta["text"]
        sesion = await cliente.abrir_sin_conectar(uuid.uuid4().hex)
        assert "No pude leer su mensaje" in (await cliente.decir(sesion, {"texto": "hola"}))["text"]
        assert "demasiado largo" in (await cliente.decir(sesion, "x" * 5000))["text"]
        assert servidor.recibidos == []
        assert await cliente.decir(sesion, "¡ya!") == {"text": "¡Recibí «¡ya!»!"}
