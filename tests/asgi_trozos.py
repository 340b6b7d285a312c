"""Drive an ASGI app with a streamed request body, chunk by chunk (as uvicorn
does), and measure how much memory it took: the body-size limit tests of the
backend and the IVR both use it."""

from __future__ import annotations

import asyncio
import tracemalloc
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

VEINTE_MB = 20 * 1024 * 1024
T = TypeVar("T")


class Cuerpo:
    """A streamed body of `total` bytes in chunks of `trozo` that remembers how much of it
    was pulled."""

    def __init__(self, total: int, trozo: int, inicio: bytes = b"", relleno: bytes = b" ") -> None:
        self.total, self.trozo, self.entregados = total, trozo, 0
        self._pieza = inicio + relleno * (trozo - len(inicio))

    def __iter__(self) -> Iterator[bytes]:
        while self.entregados < self.total:
            self.entregados += self.trozo
            yield self._pieza


def enviar(
    app: Any, cuerpo: Cuerpo, path: str, headers: list[tuple[bytes, bytes]]
) -> tuple[int, bytes]:
    """POST `cuerpo` to `path`; the answer's status and body."""
    trozos = iter(cuerpo)
    enviado: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        trozo = next(trozos, None)
        return {"type": "http.request", "body": trozo or b"", "more_body": trozo is not None}

    async def send(mensaje: dict[str, Any]) -> None:
        enviado.append(mensaje)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
        "app": app,
    }
    asyncio.run(app(scope, receive, send))
    inicio = next(m for m in enviado if m["type"] == "http.response.start")
    return inicio["status"], b"".join(
        m.get("body", b"") for m in enviado if m["type"] == "http.response.body"
    )


def con_pico_de_memoria(funcion: Callable[[], T]) -> tuple[T, int]:
    """What `funcion()` returns and the most memory (bytes) traced while it ran."""
    tracemalloc.start()
    try:
        resultado = funcion()
        _, pico = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return resultado, pico
