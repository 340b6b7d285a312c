"""Pure ASGI middleware: refuse request bodies over a limit with 413 before
anything parses them.

A declared Content-Length over the limit is answered at once, without reading a
byte. A body without one (chunked) is passed through while it stays under the
limit; the chunk that crosses it stops the reading (the application sees an
error and never the rest) and the answer becomes 413. Memory stays bounded by
the limit plus one chunk, whatever the client sends.

Used by the backend (MAX_CUERPO_BYTES, answering with backend.errors.respuesta_413,
the shape of every backend error) and the IVR (IVR_MAX_CUERPO_BYTES, with the
default below); it depends on nothing but Starlette, so both services can share it.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

DETALLE_413 = "La solicitud es demasiado grande."


def respuesta_json(limite: int) -> tuple[bytes, bytes]:
    cuerpo = {
        "detail": f"{DETALLE_413} El máximo es de {limite:,} bytes.",
        "codigo": "solicitud_demasiado_grande",
    }
    return json.dumps(cuerpo, ensure_ascii=False).encode(), b"application/json"


class CuerpoExcedido(Exception):
    """Raised inside `receive` when a streamed body crosses the limit."""


class LimiteCuerpo:
    def __init__(self, app: ASGIApp, *, limite: int | Callable[[], int],
                 respuesta: Callable[[int], tuple[bytes, bytes]] = respuesta_json) -> None:
        self.app = app
        self._limite = limite
        self.respuesta = respuesta

    @property
    def limite(self) -> int:
        """The limit (read from settings on each request when given as a callable)."""
        return self._limite() if callable(self._limite) else self._limite

    async def _responder_413(self, send: Send) -> None:
        cuerpo, tipo = self.respuesta(self.limite)
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", tipo),
                    (b"content-length", str(len(cuerpo)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": cuerpo})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limite = self.limite
        for nombre, valor in scope.get("headers", ()):
            if nombre == b"content-length":
                try:
                    declarado = int(valor)
                except ValueError:
                    declarado = -1
                if declarado > limite:
                    await self._responder_413(send)
                    return
        leidos = 0
        excedido = False
        iniciada = False

        async def recibir() -> Message:
            nonlocal leidos, excedido
            if excedido:
                raise CuerpoExcedido
            mensaje = await receive()
            if mensaje["type"] == "http.request":
                leidos += len(mensaje.get("body", b""))
                if leidos > limite:
                    excedido = True
                    raise CuerpoExcedido
            return mensaje

        async def enviar(mensaje: Message) -> None:
            nonlocal iniciada
            if excedido:  # whatever the application made of the error, the answer is 413
                if not iniciada and mensaje["type"] == "http.response.start":
                    iniciada = True
                    await self._responder_413(send)
                return
            if mensaje["type"] == "http.response.start":
                iniciada = True
            await send(mensaje)

        try:
            await self.app(scope, recibir, enviar)
        except Exception:
            if not excedido:
                raise
            if not iniciada:
                await self._responder_413(send)
