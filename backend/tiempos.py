"""`Server-Timing: app;dur=<ms>` on every HTTP response: how long the backend took
from receiving the request to starting its answer (queueing for a worker thread
included). The actions log it next to the round trip they saw, which tells the
backend's own time from the network's and the client's (bench/turnos.py).

A plain ASGI middleware: a few microseconds per request, no body buffering.
"""

from __future__ import annotations

import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class ServerTiming:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        inicio = time.perf_counter()

        async def enviar(message: Message) -> None:
            if message["type"] == "http.response.start":
                dur = (time.perf_counter() - inicio) * 1000
                headers: list[Any] = list(message.get("headers") or [])
                headers.append((b"server-timing", f"app;dur={dur:.1f}".encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, enviar)
