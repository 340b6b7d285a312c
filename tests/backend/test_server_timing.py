"""Every backend response says how long the backend itself took (Server-Timing)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

DUR = re.compile(r"^app;dur=(\d+(?:\.\d+)?)$")


@pytest.mark.parametrize("metodo,ruta,status", [
    ("GET", "/health", 200),
    ("GET", "/api/v1/productos", 200),
    ("GET", "/api/v1/prestamos/saldo", 401),  # errors too
    ("GET", "/no-existe", 404),
])
def test_server_timing_en_cada_respuesta(client: TestClient, metodo: str, ruta: str, status: int):
    r = client.request(metodo, ruta)
    assert r.status_code == status
    valor = r.headers.get("server-timing")
    assert valor is not None
    m = DUR.match(valor)
    assert m, valor
    assert 0 <= float(m.group(1)) < 10_000
    if status >= 400:
        assert isinstance(r.json()["detail"], str)  # the Spanish detail is untouched
