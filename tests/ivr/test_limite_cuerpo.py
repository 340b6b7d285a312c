"""The IVR refuses bodies over IVR_MAX_CUERPO_BYTES with 413 before the Twilio
signature check reads the form; a signed form of ordinary size still works."""

from __future__ import annotations

import asyncio
import tracemalloc
from collections.abc import Iterator
from typing import Any

from fastapi.testclient import TestClient

from ivr.main import crear_app
from ivr.settings import IVRSettings
from tests.ivr.conftest import post_firmado, twiml

VEINTE_MB = 20 * 1024 * 1024
TROZO = 16 * 1024


class Cuerpo:
    def __init__(self, total: int) -> None:
        self.total, self.entregados = total, 0

    def __iter__(self) -> Iterator[bytes]:
        while self.entregados < self.total:
            self.entregados += TROZO
            yield b"a" * TROZO


def _llamar(app: Any, cuerpo: Cuerpo, headers: list[tuple[bytes, bytes]]) -> int:
    trozos = iter(cuerpo)
    estados: list[int] = []

    async def receive() -> dict[str, Any]:
        trozo = next(trozos, None)
        return {"type": "http.request", "body": trozo or b"", "more_body": trozo is not None}

    async def send(mensaje: dict[str, Any]) -> None:
        if mensaje["type"] == "http.response.start":
            estados.append(mensaje["status"])

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
             "scheme": "http", "path": "/ivr/voice", "raw_path": b"/ivr/voice", "query_string": b"",
             "root_path": "", "client": ("127.0.0.1", 5000), "server": ("testserver", 80), "app": app,
             "headers": [(b"content-type", b"application/x-www-form-urlencoded"),
                         (b"x-twilio-signature", b"no-importa"), *headers]}
    asyncio.run(app(scope, receive, send))
    return estados[0]


def test_20_mb_en_trozos_da_413_con_memoria_plana(ivr_settings: IVRSettings) -> None:
    app = crear_app(ivr_settings)
    cuerpo = Cuerpo(VEINTE_MB)
    tracemalloc.start()
    try:
        status = _llamar(app, cuerpo, [(b"transfer-encoding", b"chunked")])
        _, pico = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert status == 413
    assert cuerpo.entregados <= ivr_settings.ivr_max_cuerpo_bytes + TROZO
    assert pico < 4 * 1024 * 1024


def test_content_length_grande_da_413_sin_leer(ivr_settings: IVRSettings) -> None:
    cuerpo = Cuerpo(VEINTE_MB)
    assert _llamar(crear_app(ivr_settings), cuerpo, [(b"content-length", str(VEINTE_MB).encode())]) == 413
    assert cuerpo.entregados == 0


def test_formulario_firmado_normal_pasa(client: TestClient) -> None:
    r = post_firmado(client, "/ivr/voice", {"CallSid": "CA" + "1" * 32, "From": "+525512345678"})
    assert r.status_code == 200
    assert twiml(r).tag == "Response"


def test_limite_configurable(ivr_settings: IVRSettings) -> None:
    ivr_settings.ivr_max_cuerpo_bytes = 2048
    with TestClient(crear_app(ivr_settings)) as c:
        r = c.post("/ivr/voice", content=b"a=" + b"b" * 3000,
                   headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 413
