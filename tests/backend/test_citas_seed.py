"""The demo citas of seed 003 (P1) and the "inside 36 h" cita of P3."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.models import Cita, EventoCita
from backend.seed_citas import sembrar_citas_demo, sembrar_oficinas
from backend.services.disponibilidad import es_dia_habil, local, reloj
from backend.settings import BackendSettings
from tests.backend._citas_apoyo import auth, crear_dh, mx

# Tuesday 30 January 2024, 16:10 local: after the 15:53:49 of the seed's last row.
AHORA = mx(2024, 1, 30, 16, 10)


def _personas(session: Session):  # type: ignore[no-untyped-def]
    p1 = crear_dh(session, curp="HEGG560427MVZRRL04", nacimiento=date(1956, 4, 27), nombre="Guadalupe")
    p3 = crear_dh(session, curp="PEGL890909MJCRMS08", nacimiento=date(1989, 9, 9))
    return p1, p3


def _dias_habiles_entre(a: date, b: date) -> int:
    return sum(1 for n in range(1, (b - a).days + 1) if es_dia_habil(a + timedelta(days=n)))


def test_bitacora_de_p1_como_en_seed_003(client: TestClient, session: Session,
                                         settings: BackendSettings) -> None:
    p1, _ = _personas(session)
    sembrar_oficinas(session)
    sembrar_citas_demo(session, ahora=AHORA)
    filas = client.get("/api/v1/citas", headers=auth(settings, p1)).json()
    dia = filas[0]["fecha_cita"]
    assert [(f["fecha_cita"], f["hora"], f["expediente"], f["registrado_en"], f["estatus"], f["clave"])
            for f in filas] == [
        (dia, "13:30 hrs-13:45 hrs", "NO", "30/01/2024 15:53:49", "AGENDADA", "CC3QZ8"),
        (dia, "13:15 hrs-13:30 hrs", "NO", "30/01/2024 15:49:45", "CANCELADA", "Z8YP3Q"),
        (dia, "13:15 hrs-13:30 hrs", "NO", "30/01/2024 12:56:02", "AGENDADA", "Z8YP3Q"),
    ]
    fecha_cita = datetime.strptime(dia, "%d/%m/%Y").date()
    assert _dias_habiles_entre(AHORA.date(), fecha_cita) == 5
    assert fecha_cita == date(2024, 2, 7)  # Wed 31, Thu 1, Fri 2, (Mon 5 Constitución), Tue 6, Wed 7


def test_sembrado_idempotente(session: Session) -> None:
    _personas(session)
    sembrar_citas_demo(session, ahora=AHORA)  # also seeds the offices when missing
    antes = (session.scalar(select(func.count()).select_from(Cita)),
             session.scalar(select(func.count()).select_from(EventoCita)))
    sembrar_citas_demo(session, ahora=AHORA)
    despues = (session.scalar(select(func.count()).select_from(Cita)),
               session.scalar(select(func.count()).select_from(EventoCita)))
    assert antes == despues == (3, 4)


def test_p3_tiene_cita_dentro_de_36_horas_que_no_se_cancela(
    client: TestClient, session: Session, settings: BackendSettings
) -> None:
    _, p3 = _personas(session)
    sembrar_citas_demo(session, ahora=AHORA)
    cita = session.scalars(select(Cita).where(Cita.clave == "K7M2Q9")).one()
    falta = local(cita.inicio) - AHORA
    assert timedelta(hours=2) <= falta < timedelta(hours=36)
    client.app.dependency_overrides[reloj] = lambda: AHORA  # type: ignore[attr-defined]
    r = client.post("/api/v1/citas/K7M2Q9/cancelar", json={"fecha_nacimiento": "1989-09-09"})
    client.app.dependency_overrides.clear()  # type: ignore[attr-defined]
    assert r.status_code == 409
    assert "36 horas" in r.json()["detail"]


def test_demo_caduca_y_se_renueva(session: Session) -> None:
    _personas(session)
    sembrar_citas_demo(session, ahora=AHORA)
    una_semana_despues = AHORA + timedelta(days=7)  # a later `make run`
    sembrar_citas_demo(session, ahora=una_semana_despues)
    session.expire_all()
    cc = session.scalars(select(Cita).where(Cita.clave == "CC3QZ8")).one()
    k7 = session.scalars(select(Cita).where(Cita.clave == "K7M2Q9")).one()
    assert local(cc.inicio).date() > una_semana_despues.date()
    assert timedelta(0) < local(k7.inicio) - una_semana_despues < timedelta(hours=36)
    assert session.scalar(select(func.count()).select_from(Cita)) == 3
