"""Races for the last place of a slot, with real threads and separate sessions.

Runs on SQLite and on PostgreSQL (the `db_url` fixture is parametrised): the
database constraints, not the application, decide who wins."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.deps import reloj
from backend.models import Cita, Derechohabiente
from backend.services import citas as svc
from backend.services.disponibilidad import utc
from backend.services.errores import ErrorDominio
from backend.settings import BackendSettings
from tests.backend._citas_apoyo import AHORA, auth, crear_dh, crear_oficina, curp_prueba, mx

RIVALES = 8
SLOT = mx(2024, 1, 30, 13, 30)


def _intentar(
    factory: sessionmaker[Session],
    barrera: threading.Barrier,
    dh_id: int,
    oficina_id: int,
    inicio=SLOT,
) -> str:  # type: ignore[no-untyped-def]
    with factory() as s:
        dh = s.get(Derechohabiente, dh_id)
        assert dh is not None
        barrera.wait(timeout=30)
        try:
            svc.agendar(s, derechohabiente=dh, oficina_id=oficina_id, inicio=inicio, ahora=AHORA)
        except ErrorDominio as exc:
            return exc.codigo
        return "agendada"


def test_carrera_por_el_ultimo_lugar(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as s:
        oficina = crear_oficina(s, ventanillas=3)
        for i in range(2):  # two of the three places are already taken
            svc.agendar(s, derechohabiente=crear_dh(s, curp=curp_prueba(i)), oficina_id=oficina.id,
                        inicio=SLOT, ahora=AHORA)
        rivales = [crear_dh(s, curp=curp_prueba(10 + i)).id for i in range(RIVALES)]
        oficina_id = oficina.id

    barrera = threading.Barrier(RIVALES)
    with ThreadPoolExecutor(RIVALES) as pool:
        resultados = list(
            pool.map(lambda i: _intentar(session_factory, barrera, i, oficina_id), rivales)
        )

    assert Counter(resultados) == {"agendada": 1, "horario_lleno": RIVALES - 1}
    with session_factory() as s:
        lugares = s.scalars(
            select(Cita.lugar).where(Cita.oficina_id == oficina_id, Cita.inicio == utc(SLOT))
        ).all()
    assert sorted(lugares) == [1, 2, 3]


def test_misma_persona_en_dos_horarios_a_la_vez(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as s:
        oficina = crear_oficina(s, ventanillas=RIVALES)
        dh_id = crear_dh(s).id
        oficina_id = oficina.id
    horarios = [mx(2024, 1, 30, 9, 0) + timedelta(minutes=15 * i) for i in range(RIVALES)]
    barrera = threading.Barrier(RIVALES)
    with ThreadPoolExecutor(RIVALES) as pool:
        resultados = list(
            pool.map(lambda h: _intentar(session_factory, barrera, dh_id, oficina_id, h), horarios)
        )

    assert Counter(resultados) == {"agendada": 1, "cita_vigente_existente": RIVALES - 1}
    with session_factory() as s:
        assert len(s.scalars(select(Cita).where(Cita.derechohabiente_id == dh_id)).all()) == 1


def test_carrera_http_por_un_solo_lugar(client: TestClient, session: Session,
                                        settings: BackendSettings) -> None:
    client.app.dependency_overrides[reloj] = lambda: AHORA  # type: ignore[attr-defined]
    oficina = crear_oficina(session, ventanillas=1)
    cabeceras = [
        auth(settings, crear_dh(session, curp=curp_prueba(30 + i))) for i in range(RIVALES)
    ]
    barrera = threading.Barrier(RIVALES)

    def pedir(h: dict[str, str]) -> tuple[int, str]:
        barrera.wait(timeout=30)
        r = client.post(
            "/api/v1/citas", json={"oficina_id": oficina.id, "inicio": SLOT.isoformat()}, headers=h
        )
        return r.status_code, r.json().get("codigo", r.json().get("estatus"))

    with ThreadPoolExecutor(RIVALES) as pool:
        resultados = list(pool.map(pedir, cabeceras))
    client.app.dependency_overrides.clear()  # type: ignore[attr-defined]

    assert Counter(resultados) == {(201, "AGENDADA"): 1, (409, "horario_lleno"): RIVALES - 1}
    assert len(session.scalars(select(Cita).where(Cita.oficina_id == oficina.id)).all()) == 1
