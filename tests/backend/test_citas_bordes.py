"""Odd input never becomes a 500: it gets a 4xx with a Spanish `detail`."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from backend.services.disponibilidad import reloj
from backend.settings import BackendSettings
from tests.backend._citas_apoyo import AHORA, auth, crear_dh, crear_oficina


@pytest.mark.parametrize("inicio", ["0001-01-01T00:00:00", "0001-01-01T00:00:00+05:00",
                                    "9999-12-31T23:59:59-05:00", "2024-06-03T10:00:00"])
def test_inicio_extremo(client: TestClient, session: Session, settings: BackendSettings,
                        inicio: str) -> None:
    client.app.dependency_overrides[reloj] = lambda: AHORA  # type: ignore[attr-defined]
    dh = crear_dh(session)
    oficina = crear_oficina(session)
    r = client.post("/api/v1/citas", json={"oficina_id": oficina.id, "inicio": inicio}, headers=auth(settings, dh))
    client.app.dependency_overrides.clear()  # type: ignore[attr-defined]
    assert r.status_code == 422
    assert r.json()["detail"]


@pytest.mark.parametrize("params", [{"desde": "0001-01-01"}, {"desde": "9999-12-31"},
                                    {"desde": "0001-01-01", "hasta": "0001-01-02"}])
def test_disponibilidad_fechas_extremas(client: TestClient, session: Session, params: dict[str, str]) -> None:
    oficina = crear_oficina(session)
    r = client.get(f"/api/v1/oficinas/{oficina.id}/disponibilidad", params=params)
    assert r.status_code in (200, 422)
    if r.status_code == 200:
        assert isinstance(r.json()["horarios"], list)


@pytest.mark.parametrize("ruta", ["/api/v1/oficinas/99999999999999999999",
                                  "/api/v1/oficinas/0/disponibilidad"])
def test_identificador_fuera_de_rango(client: TestClient, ruta: str) -> None:
    r = client.get(ruta)
    assert r.status_code == 422
    assert r.json()["campos"] == ["oficina_id"]


def test_cancelar_con_cuerpo_invalido(client: TestClient) -> None:
    r = client.post("/api/v1/citas/CC3QZ8/cancelar", json={"fecha_nacimiento": "ayer"})
    assert r.status_code == 422
    assert "fecha_nacimiento" in r.json()["detail"]
