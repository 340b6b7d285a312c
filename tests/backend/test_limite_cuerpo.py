"""413 before parsing: a declared Content-Length over the limit is refused without
reading a byte; a chunked 20 MB body is cut at the limit, so memory stays flat."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from backend.main import create_app
from backend.settings import BackendSettings
from tests.asgi_trozos import VEINTE_MB, Cuerpo, con_pico_de_memoria, enviar

TROZO = 64 * 1024


def _cuerpo() -> Cuerpo:
    return Cuerpo(VEINTE_MB, TROZO, inicio=b"{")


def _llamar(
    app: object, cuerpo: Cuerpo, headers: list[tuple[bytes, bytes]]
) -> tuple[int, dict[str, object]]:
    status, cuerpo_resp = enviar(app, cuerpo, "/api/v1/simulaciones",
                                 [(b"content-type", b"application/json"), *headers])
    return status, json.loads(cuerpo_resp)


def test_20_mb_en_trozos_da_413_sin_leerlo_todo(settings: BackendSettings) -> None:
    app = create_app(settings)
    cuerpo = _cuerpo()
    (status, body), pico = con_pico_de_memoria(
        lambda: _llamar(app, cuerpo, [(b"transfer-encoding", b"chunked")])
    )
    assert status == 413
    assert body["codigo"] == "solicitud_demasiado_grande" and "demasiado grande" in body["detail"]
    assert cuerpo.entregados <= settings.max_cuerpo_bytes + TROZO  # stopped at the limit
    assert pico < 4 * 1024 * 1024  # far below the 20 MB sent


def test_content_length_grande_da_413_sin_leer_nada(settings: BackendSettings) -> None:
    app = create_app(settings)
    cuerpo = _cuerpo()
    status, body = _llamar(app, cuerpo, [(b"content-length", str(VEINTE_MB).encode())])
    assert status == 413 and body["codigo"] == "solicitud_demasiado_grande"
    assert cuerpo.entregados == 0


def test_cuerpo_bajo_el_limite_pasa(client: TestClient, settings: BackendSettings) -> None:
    r = client.post(
        "/api/v1/simulaciones",
        content=b"{" + b" " * (settings.max_cuerpo_bytes - 10) + b"}",
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 422  # reached validation: not refused for its size
    r = client.post("/api/v1/simulaciones", content=b" " * (settings.max_cuerpo_bytes + 1),
                    headers={"content-type": "application/json"})
    assert r.status_code == 413
