"""Rasa's socket.io channel for the web chat, with session persistence that works
and session ids the browser cannot forge into other channels.

Two fixes over Rasa 3.6's `SocketIOInput`:

* it calls `sio.enter_room(...)` without `await`; since python-socketio 5.10
  that is a coroutine, so the socket never joined its session's room and, with
  `session_persistence: true`, every bot reply went to an empty room
  (RasaHQ/rasa#13027);
* it takes any `session_id` the client sends, in `session_request` and again
  in every `user_uttered`, as the conversation id: a browser could pick
  `whatsapp:+52...` (a WhatsApp conversation) or a CallSid and continue that
  conversation. Here a socket only gets a session id of the shape the page
  generates (32 lowercase hex characters); anything else is replaced by a
  fresh one in `session_confirm`, and messages are filed under the session
  confirmed for that socket, whatever their `session_id` field says.

Everything else (name "socketio", /socket.io path, events, output channel) is
Rasa's own.

credentials.yml:
    bot.channels.webchat.WebChatInput:
      user_message_evt: user_uttered
      bot_message_evt: bot_uttered
      session_persistence: true
"""

from __future__ import annotations

import inspect
import json
import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint

logger = logging.getLogger(__name__)

# What backend/static/chat/chat.js generates (crypto.randomUUID without dashes).
SESION_RE = re.compile(r"[0-9a-f]{32}")
MAX_MENSAJE = 2000
MENSAJES = {
    "sin_sesion": "Su sesión de chat no está lista. Recargue la página e intente de nuevo.",
    "no_valido": "No pude leer su mensaje. Escríbalo de nuevo, por favor.",
    "largo": (
        f"Su mensaje es demasiado largo; escríbalo en menos de {MAX_MENSAJE} caracteres, por favor."
    ),
}


def sesion_valida(valor: Any) -> bool:
    return isinstance(valor, str) and SESION_RE.fullmatch(valor) is not None


async def _quizas(resultado: Any) -> Any:
    # python-socketio >= 5.10 made room calls coroutines; older ones return None.
    if inspect.isawaitable(resultado):
        return await resultado
    return resultado


class WebChatInput(SocketIOInput):
    """socket.io channel for /chat; see the module docstring."""

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = super().blueprint(on_new_message)
        sio = self.sio
        assert sio is not None  # set by SocketIOInput.blueprint
        namespace = self.namespace

        async def sesion_de(sid: str) -> str | None:
            try:
                datos = await sio.get_session(sid, namespace=namespace)
            except KeyError:  # socket gone
                return None
            return datos.get("session_id") if isinstance(datos, dict) else None

        async def avisar(sid: str, clave: str) -> None:
            await sio.emit(
                self.bot_message_evt, {"text": MENSAJES[clave]}, room=sid, namespace=namespace
            )

        @sio.on("session_request", namespace=namespace)
        async def session_request(sid: str, data: Any) -> None:
            pedido = data.get("session_id") if isinstance(data, dict) else None
            session_id = pedido if sesion_valida(pedido) else uuid.uuid4().hex
            if pedido is not None and pedido != session_id:
                logger.info(
                    "socket.io %s pidió un id de sesión no válido; se le asignó uno nuevo.", sid
                )
            anterior = await sesion_de(sid)
            if self.session_persistence:
                if anterior and anterior != session_id:
                    await _quizas(sio.leave_room(sid, anterior, namespace=namespace))
                await _quizas(sio.enter_room(sid, session_id, namespace=namespace))
            await sio.save_session(sid, {"session_id": session_id}, namespace=namespace)
            await sio.emit("session_confirm", session_id, room=sid, namespace=namespace)
            logger.debug("socket.io %s joined its session.", sid)

        @sio.on(self.user_message_evt, namespace=namespace)
        async def handle_message(sid: str, data: Any) -> None:
            if self.session_persistence:
                sender_id = await sesion_de(sid)
                if sender_id is None:
                    await avisar(sid, "sin_sesion")
                    return
                if isinstance(data, dict) and data.get("session_id") not in (None, sender_id):
                    # The message names another conversation: it is filed
                    # under this socket's own session, never under that one.
                    logger.warning("socket.io %s envió un session_id ajeno; se ignoró.", sid)
            else:
                sender_id = sid
            if not isinstance(data, dict) or not isinstance(data.get("message", ""), str):
                await avisar(sid, "no_valido")
                return
            texto = data.get("message", "")
            if len(texto) > MAX_MENSAJE:
                await avisar(sid, "largo")
                return
            metadata = data.get(self.metadata_key) or {}
            if isinstance(metadata, str):
                try:
                    metadata = json.loads(metadata)
                except ValueError:
                    metadata = {}
            if not isinstance(metadata, dict):
                metadata = {}
            await on_new_message(
                UserMessage(
                    texto,
                    SocketIOOutput(sio, self.bot_message_evt),
                    sender_id,
                    input_channel=self.name(),
                    metadata=metadata,
                )
            )

        return webhook
