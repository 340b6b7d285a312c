"""Odd input never becomes a 500: it gets a 4xx with a Spanish `detail`."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from backend.deps import reloj
from backend.settings import BackendSettings
from tests.backend._citas_apoyo import AHORA, auth, crear_dh, crear_oficina


@pytest.mark.parametrize("inicio", ["0001-01-01T00:00:00", "0001-01-01T00:00:00+05:00",
                                    "9999-12-31T23:59:59-05:00", "2024-06-03T10:00:00"])
def test_inicio_extremo(client: TestClient, session: Session, settings: BackendSettings,
                        inicio: str) -> None:
    client.app.dependency_overrides[reloj] = lambda: AHORA  # type: ignore[attr-defined]
    dh = crear_dh(session)
    oficina = crear_oficina(session)
    r = client.post(
        "/api/v1/citas",
        json={"oficina_id": oficina.id, "inicio": inicio},
        headers=auth(settings, dh),
    )
    client.app.dependency_overrides.clear()  # type: ignore[attr-defined]
    assert r.status_code == 422
    assert r.json()["detail"]


@pytest.mark.parametrize(("params", "codigo", "fragmento"), [
    ({"desde": "0001-01-01"}, "rango_pasado", "ya pasaron"),
    ({"desde": "0001-01-01", "hasta": "0001-01-02"}, "rango_pasado", "ya pasaron"),
    # the day before today
    ({"desde": "2024-01-01", "hasta": "2024-01-21"}, "rango_pasado", "ya pasaron"),
    ({"desde": "9999-12-31"}, "fuera_de_horizonte", "90 días"),
    # today + 91 days
    ({"desde": "2024-04-22"}, "fuera_de_horizonte", "hasta el domingo 21 de abril de 2024"),
])
def test_disponibilidad_fuera_de_lo_consultable_dice_por_que(
    client: TestClient, session: Session, params: dict[str, str], codigo: str, fragmento: str
) -> None:
    """A range wholly in the past or beyond the 90-day horizon has no possible slot:
    a 422 that says why, not an empty list a caller cannot tell from "all full"."""
    client.app.dependency_overrides[reloj] = lambda: AHORA  # type: ignore[attr-defined]
    oficina = crear_oficina(session)
    r = client.get(f"/api/v1/oficinas/{oficina.id}/disponibilidad", params=params)
    client.app.dependency_overrides.clear()  # type: ignore[attr-defined]
    assert r.status_code == 422
    assert r.json()["codigo"] == codigo
    assert fragmento in r.json()["detail"]


@pytest.mark.parametrize(
    ("params", "primero", "ultimo"),
    [
        (
            {"desde": "2024-01-01", "hasta": "2024-01-23"},
            "2024-01-22T10:15:00-06:00",
            "2024-01-23T15:15:00-06:00",
        ),
        (
            {"desde": "2024-04-19", "hasta": "2024-05-30"},
            "2024-04-19T08:30:00-06:00",
            "2024-04-19T15:15:00-06:00",
        ),
    ],
)
def test_disponibilidad_que_cruza_un_limite_se_recorta(
    client: TestClient, session: Session, params: dict[str, str], primero: str, ultimo: str
) -> None:
    client.app.dependency_overrides[reloj] = lambda: AHORA  # type: ignore[attr-defined]
    oficina = crear_oficina(session)
    r = client.get(
        f"/api/v1/oficinas/{oficina.id}/disponibilidad", params={**params, "limite": 200}
    )
    client.app.dependency_overrides.clear()  # type: ignore[attr-defined]
    assert r.status_code == 200
    inicios = [h["inicio"] for h in r.json()["horarios"]]
    assert (inicios[0], inicios[-1]) == (primero, ultimo)


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
