from __future__ import annotations

from collections import Counter
from datetime import date, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.deps import reloj
from backend.models import Oficina
from backend.seed.citas import sembrar_oficinas
from backend.services import citas as svc
from backend.services.disponibilidad import inicios_del_dia, validar_inicio
from backend.services.errores import ReglaIncumplida
from backend.services.oficinas import cargar_catalogo
from tests.backend._citas_apoyo import AHORA, crear_dh, crear_oficina, curp_prueba, mx


@pytest.fixture
def reloj_fijo(client: TestClient):  # type: ignore[no-untyped-def]
    client.app.dependency_overrides[reloj] = lambda: AHORA  # type: ignore[attr-defined]
    yield
    client.app.dependency_overrides.clear()  # type: ignore[attr-defined]


def test_catalogo_sembrado_e_idempotente(client: TestClient, session: Session) -> None:
    sembrar_oficinas(session)
    sembrar_oficinas(session)
    assert session.scalar(select(func.count()).select_from(Oficina)) == len(cargar_catalogo())
    oficinas = client.get("/api/v1/oficinas").json()
    assert len(oficinas) >= 10
    ciudades = {o["ciudad"] for o in oficinas}
    assert {"Ciudad de México", "Guadalajara", "Monterrey", "Puebla", "Mérida"} <= ciudades
    for o in oficinas:
        assert o["direccion"] and "C.P." in o["direccion"]
        assert o["ventanillas"] >= 1
        assert "8:30" in o["horario"] and "15:30" in o["horario"]


def test_buscar_oficina_sin_acentos(client: TestClient, session: Session) -> None:
    sembrar_oficinas(session)
    r = client.get("/api/v1/oficinas", params={"q": "queretaro"})
    assert [o["ciudad"] for o in r.json()] == ["Santiago de Querétaro"]
    assert client.get("/api/v1/oficinas", params={"q": "Atlantida"}).json() == []


def test_oficina_inexistente_en_espanol(client: TestClient, session: Session) -> None:
    r = client.get("/api/v1/oficinas/4242/disponibilidad")
    assert r.status_code == 404
    assert "oficina" in r.json()["detail"]


def test_dia_habil_tiene_28_horarios_de_15_minutos() -> None:
    inicios = inicios_del_dia(date(2024, 1, 30))
    assert len(inicios) == 28
    assert (inicios[0].hour, inicios[0].minute) == (8, 30)
    assert (inicios[-1].hour, inicios[-1].minute) == (15, 15)
    assert inicios_del_dia(date(2024, 1, 27)) == []  # sábado
    assert inicios_del_dia(date(2024, 9, 16)) == []  # Día de la Independencia


def test_disponibilidad_salta_fin_de_semana_feriado_y_pasado(
    client: TestClient, session: Session, reloj_fijo: None
) -> None:
    oficina = crear_oficina(session, ventanillas=2)
    # Friday 2 Feb 2024 to Tuesday 6 Feb: weekend and Monday 5 Feb (Constitución) are skipped.
    r = client.get(f"/api/v1/oficinas/{oficina.id}/disponibilidad",
                   params={"desde": "2024-02-02", "hasta": "2024-02-06", "limite": 200})
    assert r.status_code == 200
    dias = Counter(datetime.fromisoformat(h["inicio"]).date() for h in r.json()["horarios"])
    assert dias == {date(2024, 2, 2): 28, date(2024, 2, 6): 28}
    primero = r.json()["horarios"][0]
    assert (primero["fecha"], primero["hora"]) == ("02/02/2024", "08:30 hrs-08:45 hrs")

    # Today (Monday 22 Jan, 10:07): the past slots are not offered.
    hoy = client.get(f"/api/v1/oficinas/{oficina.id}/disponibilidad",
                     params={"desde": "2024-01-22", "hasta": "2024-01-22", "limite": 200}).json()
    assert hoy["horarios"][0]["hora"] == "10:15 hrs-10:30 hrs"
    assert len(hoy["horarios"]) == 21


def test_disponibilidad_descuenta_lugares_y_omite_llenos(
    client: TestClient, session: Session, reloj_fijo: None
) -> None:
    oficina = crear_oficina(session, ventanillas=2)
    for i, hora in enumerate([(8, 30), (8, 30), (8, 45)]):
        svc.agendar(
            session,
            derechohabiente=crear_dh(session, curp=curp_prueba(i)),
            oficina_id=oficina.id,
            inicio=mx(2024, 1, 30, *hora),
            ahora=AHORA,
        )
    r = client.get(f"/api/v1/oficinas/{oficina.id}/disponibilidad",
                   params={"desde": "2024-01-30", "hasta": "2024-01-30", "limite": 2})
    horarios = [(h["hora"], h["lugares_disponibles"]) for h in r.json()["horarios"]]
    assert horarios == [("08:45 hrs-09:00 hrs", 1), ("09:00 hrs-09:15 hrs", 2)]


def test_disponibilidad_rango_invalido(
    client: TestClient, session: Session, reloj_fijo: None
) -> None:
    oficina = crear_oficina(session)
    r = client.get(f"/api/v1/oficinas/{oficina.id}/disponibilidad",
                   params={"desde": "2024-02-10", "hasta": "2024-02-01"})
    assert r.status_code == 422
    assert "fecha final" in r.json()["detail"]
    r = client.get(f"/api/v1/oficinas/{oficina.id}/disponibilidad",
                   params={"desde": "2024-02-01", "hasta": "2024-12-01"})
    assert r.status_code == 422
    assert "días" in r.json()["detail"]
    r = client.get(f"/api/v1/oficinas/{oficina.id}/disponibilidad", params={"desde": "mañana"})
    assert r.status_code == 422
    assert r.json()["campos"] == ["desde"]


def test_validar_inicio_nombra_el_feriado() -> None:
    with pytest.raises(ReglaIncumplida) as exc:
        validar_inicio(mx(2024, 3, 18, 10, 0), ahora=AHORA)
    assert "Benito Juárez" in exc.value.detail
