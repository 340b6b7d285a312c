"""413 before parsing: a declared Content-Length over the limit is refused without
reading a byte; a chunked 20 MB body is cut at the limit, so memory stays flat."""

from __future__ import annotations

import asyncio
import json
import tracemalloc
from collections.abc import Iterator
from typing import Any

from fastapi.testclient import TestClient

from backend.main import create_app
from backend.settings import BackendSettings

VEINTE_MB = 20 * 1024 * 1024
TROZO = 64 * 1024


class Cuerpo:
    """A streamed body that remembers how much of it was pulled."""

    def __init__(self, total: int) -> None:
        self.total, self.entregados = total, 0

    def __iter__(self) -> Iterator[bytes]:
        while self.entregados < self.total:
            self.entregados += TROZO
            yield b"{" + b" " * (TROZO - 1)


def _llamar(app: Any, cuerpo: Cuerpo, headers: list[tuple[bytes, bytes]]) -> tuple[int, dict[str, Any]]:
    """Drive the ASGI app directly, feeding the body chunk by chunk (as uvicorn does)."""
    trozos = iter(cuerpo)
    enviado: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        trozo = next(trozos, None)
        return {"type": "http.request", "body": trozo or b"", "more_body": trozo is not None}

    async def send(mensaje: dict[str, Any]) -> None:
        enviado.append(mensaje)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
             "scheme": "http", "path": "/api/v1/simulaciones", "raw_path": b"/api/v1/simulaciones",
             "query_string": b"", "root_path": "", "headers": [(b"content-type", b"application/json"), *headers],
             "client": ("127.0.0.1", 5000), "server": ("testserver", 80), "app": app}
    asyncio.run(app(scope, receive, send))
    inicio = next(m for m in enviado if m["type"] == "http.response.start")
    cuerpo_resp = b"".join(m.get("body", b"") for m in enviado if m["type"] == "http.response.body")
    return inicio["status"], json.loads(cuerpo_resp)


def test_20_mb_en_trozos_da_413_sin_leerlo_todo(settings: BackendSettings) -> None:
    app = create_app(settings)
    cuerpo = Cuerpo(VEINTE_MB)
    tracemalloc.start()
    try:
        status, body = _llamar(app, cuerpo, [(b"transfer-encoding", b"chunked")])
        _, pico = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert status == 413
    assert body["codigo"] == "solicitud_demasiado_grande" and "demasiado grande" in body["detail"]
    assert cuerpo.entregados <= settings.max_cuerpo_bytes + TROZO  # stopped at the limit
    assert pico < 4 * 1024 * 1024  # far below the 20 MB sent


def test_content_length_grande_da_413_sin_leer_nada(settings: BackendSettings) -> None:
    app = create_app(settings)
    cuerpo = Cuerpo(VEINTE_MB)
    status, body = _llamar(app, cuerpo, [(b"content-length", str(VEINTE_MB).encode())])
    assert status == 413 and body["codigo"] == "solicitud_demasiado_grande"
    assert cuerpo.entregados == 0


def test_cuerpo_bajo_el_limite_pasa(client: TestClient, settings: BackendSettings) -> None:
    r = client.post("/api/v1/simulaciones", content=b"{" + b" " * (settings.max_cuerpo_bytes - 10) + b"}",
                    headers={"content-type": "application/json"})
    assert r.status_code == 422  # reached validation: not refused for its size
    r = client.post("/api/v1/simulaciones", content=b" " * (settings.max_cuerpo_bytes + 1),
                    headers={"content-type": "application/json"})
    assert r.status_code == 413
