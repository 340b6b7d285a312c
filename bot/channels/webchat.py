"""Rasa's socket.io channel for the web chat, with session persistence that works.

Rasa 3.6's `SocketIOInput` calls `sio.enter_room(...)` without `await`; since
python-socketio 5.10 that is a coroutine, so the socket never joins its
session's room and, with `session_persistence: true`, every bot reply is
emitted to an empty room (RasaHQ/rasa#13027). This subclass re-registers the
`session_request` handler with the await; everything else (name "socketio",
/socket.io path, events, output channel) is Rasa's own.

credentials.yml:
    channels.webchat.WebChatInput:
      user_message_evt: user_uttered
      bot_message_evt: bot_uttered
      session_persistence: true
"""

from __future__ import annotations

import inspect
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput
from sanic import Blueprint

logger = logging.getLogger(__name__)


class WebChatInput(SocketIOInput):
    """socket.io channel for /chat; see the module docstring."""

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = super().blueprint(on_new_message)
        sio = self.sio
        assert sio is not None  # set by SocketIOInput.blueprint

        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: str, data: dict | None) -> None:
            data = data if isinstance(data, dict) else {}
            session_id = data.get("session_id")
            if not isinstance(session_id, str) or not session_id:
                session_id = uuid.uuid4().hex
            if self.session_persistence:
                entered = sio.enter_room(sid, session_id, namespace=self.namespace)
                if inspect.isawaitable(entered):  # python-socketio >= 5.10
                    await entered
            await sio.emit("session_confirm", session_id, room=sid, namespace=self.namespace)
            logger.debug("socket.io %s joined its session.", sid)

        return webhook
