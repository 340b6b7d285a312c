"""The web chat's socket.io channel (bot/channels/webchat.py) over a real
socket: a python-socketio client talks to a Sanic server on a free port."""

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

BOT = Path(__file__).resolve().parents[2] / "bot"
if str(BOT) not in sys.path:
    sys.path.insert(0, str(BOT))

from channels.webchat import WebChatInput  # noqa: E402


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
        await self.sio.connect(self.url, transports=["polling"], socketio_path="/socket.io")
        await self.sio.emit("session_request", {"session_id": session_id})
        return await asyncio.wait_for(self.confirmado.get(), 10)

    async def decir(self, session_id: str, texto: str) -> Any:
        await self.sio.emit("user_uttered", {"message": texto, "session_id": session_id})
        return await asyncio.wait_for(self.recibidos.get(), 10)


@pytest.mark.asyncio
async def test_replies_reach_the_session_room_and_survive_a_new_socket(monkeypatch) -> None:
    monkeypatch.setattr(Sanic, "test_mode", True)
    recibidos: list[Any] = []

    async def bot(mensaje: Any) -> None:
        recibidos.append(mensaje)
        await mensaje.output_channel.send_text_message(mensaje.sender_id, f"¡Recibí «{mensaje.text}»!")

    canal = WebChatInput.from_credentials(
        {"user_message_evt": "user_uttered", "bot_message_evt": "bot_uttered", "session_persistence": True}
    )
    assert canal.name() == "socketio"
    webhook = canal.blueprint(bot)
    # Long-polling clients (aiohttp 3.9 is too old for python-engineio's
    # websocket client) disconnect only after the next ping: make pings quick.
    canal.sio.eio.ping_interval, canal.sio.eio.ping_timeout = 0.2, 1
    app = Sanic(f"webchat_{uuid.uuid4().hex[:8]}")
    app.blueprint(webhook, url_prefix="/webhooks/socketio")
    puerto = _puerto_libre()
    servidor = await app.create_server(host="127.0.0.1", port=puerto, return_asyncio_server=True)
    await servidor.startup()
    url = f"http://127.0.0.1:{puerto}"
    try:
        sesion = uuid.uuid4().hex
        primero = Cliente(url)
        assert await primero.abrir(sesion) == sesion
        assert await primero.decir(sesion, "¡Hola!") == {"text": "¡Recibí «¡Hola!»!"}
        await primero.sio.disconnect()

        # A reload: a new socket asks for the same session and keeps talking in it.
        segundo = Cliente(url)
        assert await segundo.abrir(sesion) == sesion
        assert await segundo.decir(sesion, "saldo") == {"text": "¡Recibí «saldo»!"}
        assert [(m.sender_id, m.text, m.input_channel) for m in recibidos] == [
            (sesion, "¡Hola!", "socketio"),
            (sesion, "saldo", "socketio"),
        ]

        # No session id: the server makes one up.
        tercero = Cliente(url)
        nuevo = await tercero.abrir(None)
        assert len(nuevo) == 32 and nuevo != sesion
        await segundo.sio.disconnect()
        await tercero.sio.disconnect()
    finally:
        servidor.close()
        await servidor.wait_closed()
