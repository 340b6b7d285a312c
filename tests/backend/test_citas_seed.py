"""The demo citas of seed 003 (P1) and the "inside 36 h" cita of P3, seeded at
many times of the week with a fixed clock."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.deps import reloj
from backend.models import Cita, Derechohabiente, EventoCita, Notificacion, Oficina
from backend.seed.citas import sembrar_citas_demo, sembrar_oficinas
from backend.services import cancelacion_citas as cancelacion
from backend.services import citas as svc
from backend.services import hoja_cita as hoja
from backend.services.disponibilidad import local
from backend.settings import BackendSettings
from tests.backend._citas_apoyo import MX, auth, crear_dh, curp_prueba, mx

# Tuesday 30 January 2024, 16:10 local: after the 15:53:49 of the seed's last row.
AHORA = mx(2024, 1, 30, 16, 10)

MOMENTOS = {
    "lunes temprano": mx(2024, 1, 29, 7, 0),
    "lunes a media mañana": mx(2024, 1, 29, 10, 7),
    "martes un segundo antes de 15:53:49": mx(2024, 1, 30, 15, 53, 48),
    "martes por la tarde": AHORA,
    "miércoles casi medianoche": mx(2024, 1, 31, 23, 50),
    "viernes a mediodía": mx(2024, 1, 26, 13, 0),
    "viernes por la tarde": mx(2024, 1, 26, 16, 0),
    "sábado": mx(2024, 1, 27, 10, 0),
    "domingo por la noche": mx(2024, 1, 28, 22, 0),
    "viernes antes del lunes feriado": mx(2024, 2, 2, 16, 0),  # Mon 5 Feb: Día de la Constitución
    "jueves antes del puente de marzo": mx(2024, 3, 14, 15, 0),  # Mon 18 Mar: Benito Juárez
}

# Mexican federal holidays that fall on weekdays in the period above, written out
# here (not taken from the code under test).
FERIADOS = {date(2024, 2, 5), date(2024, 3, 18)}


def _habil(dia: date) -> bool:
    return dia.weekday() < 5 and dia not in FERIADOS


def _habiles_entre(a: date, b: date) -> int:
    return sum(1 for n in range(1, (b - a).days + 1) if _habil(a + timedelta(days=n)))


def _es_cuarto_de_atencion(t: datetime) -> bool:
    """8:30, 8:45 ... 15:15 local: a slot start by the time of day."""
    return time(8, 30) <= t.time() <= time(15, 15) and t.minute % 15 == 0 and t.second == 0


def _hay_horario_habil(desde: datetime, hasta: datetime) -> bool:
    dia = desde.date()
    while dia <= hasta.date():
        if _habil(dia):
            for k in range(28):
                t = datetime.combine(dia, time(8, 30), tzinfo=MX) + timedelta(minutes=15 * k)
                if desde <= t <= hasta:
                    return True
        dia += timedelta(days=1)
    return False


def _personas(session: Session):  # type: ignore[no-untyped-def]
    p1 = crear_dh(
        session, curp="HEGG560427MVZRRL04", nacimiento=date(1956, 4, 27), nombre="Guadalupe"
    )
    p3 = crear_dh(session, curp="PEGL890909MJCRMS08", nacimiento=date(1989, 9, 9))
    return p1, p3


def _cita(session: Session, clave: str) -> Cita:
    session.expire_all()
    return session.scalars(select(Cita).where(Cita.clave == clave)).one()


def test_bitacora_de_p1_como_en_seed_003(client: TestClient, session: Session,
                                         settings: BackendSettings) -> None:
    p1, _ = _personas(session)
    sembrar_oficinas(session)
    sembrar_citas_demo(session, ahora=AHORA)
    filas = client.get("/api/v1/citas", headers=auth(settings, p1)).json()
    dia = filas[0]["fecha_cita"]
    assert [
        (f["fecha_cita"], f["hora"], f["expediente"], f["registrado_en"], f["estatus"], f["clave"])
        for f in filas
    ] == [
        (dia, "13:30 hrs-13:45 hrs", "NO", "30/01/2024 15:53:49", "AGENDADA", "CC3QZ8"),
        (dia, "13:15 hrs-13:30 hrs", "NO", "30/01/2024 15:49:45", "CANCELADA", "Z8YP3Q"),
        (dia, "13:15 hrs-13:30 hrs", "NO", "30/01/2024 12:56:02", "AGENDADA", "Z8YP3Q"),
    ]
    fecha_cita = datetime.strptime(dia, "%d/%m/%Y").date()
    assert _habiles_entre(AHORA.date(), fecha_cita) == 5
    # Wed 31, Thu 1, Fri 2, (Mon 5 Constitución), Tue 6, Wed 7
    assert fecha_cita == date(2024, 2, 7)


@pytest.mark.parametrize("momento", MOMENTOS.values(), ids=MOMENTOS.keys())
def test_demo_valida_a_cualquier_hora(session: Session, momento: datetime) -> None:
    _personas(session)
    sembrar_citas_demo(session, ahora=momento)

    cc, z8 = (_cita(session, c) for c in ("CC3QZ8", "Z8YP3Q"))
    # P1: CC3QZ8 AGENDADA, with a place, on a real slot at least 5 business days ahead.
    assert cc.estatus == "AGENDADA" and cc.lugar is not None
    assert _habil(local(cc.inicio).date()) and _es_cuarto_de_atencion(local(cc.inicio))
    assert _habiles_entre(momento.date(), local(cc.inicio).date()) >= 5
    assert z8.estatus == "CANCELADA" and z8.lugar is None
    eventos = session.scalars(
        select(EventoCita)
        .join(Cita)
        .where(Cita.clave.in_(["CC3QZ8", "Z8YP3Q"]))
        .order_by(EventoCita.registrado_en)
    ).all()
    horas = [local(e.registrado_en) for e in eventos]
    assert [(e.cita.clave, e.estatus) for e in eventos] == [
        ("Z8YP3Q", "AGENDADA"), ("Z8YP3Q", "CANCELADA"), ("CC3QZ8", "AGENDADA")]
    assert [h.time() for h in horas] == [time(12, 56, 2), time(15, 49, 45), time(15, 53, 49)]
    # one day, never in the future
    assert len({h.date() for h in horas}) == 1 and horas[-1] <= momento

    # Every seeded cita is on a business day, in office hours (issue 16, point 8).
    for cita in (cc, z8):
        assert _habil(local(cita.inicio).date()) and _es_cuarto_de_atencion(local(cita.inicio))

    # P3: K7M2Q9 AGENDADA inside 36 h, on a business day at 8:30-15:15 on a quarter
    # hour, with a place, whenever the window holds a business slot; otherwise
    # (weekend, eve of a holiday) there is no lawful slot and it is not created.
    k7 = session.scalars(select(Cita).where(Cita.clave == "K7M2Q9")).one_or_none()
    if not _hay_horario_habil(momento + timedelta(hours=2), momento + timedelta(hours=35)):
        assert k7 is None
        return
    assert k7 is not None
    falta = local(k7.inicio) - momento
    assert k7.estatus == "AGENDADA" and k7.lugar is not None
    assert timedelta(hours=2) <= falta < timedelta(hours=36)
    assert _habil(local(k7.inicio).date()) and _es_cuarto_de_atencion(local(k7.inicio))
    assert local(k7.creado_en) < momento


def test_sin_horario_habil_en_36_horas_no_hay_cita_en_fin_de_semana(session: Session) -> None:
    """Seeding on Saturday: no business slot within 36 h, so no K7M2Q9 (and no
    Sunday cita); seeding again on Monday morning brings it back on Monday."""
    _personas(session)
    sembrar_citas_demo(session, ahora=mx(2024, 1, 27, 10, 0))  # Saturday
    assert session.scalars(select(Cita).where(Cita.clave == "K7M2Q9")).one_or_none() is None
    assert all(_habil(local(c.inicio).date()) for c in session.scalars(select(Cita)))
    lunes = mx(2024, 1, 29, 7, 0)
    sembrar_citas_demo(session, ahora=lunes)
    k7 = _cita(session, "K7M2Q9")
    assert local(k7.inicio).date() in (date(2024, 1, 29), date(2024, 1, 30))
    assert timedelta(hours=2) <= local(k7.inicio) - lunes < timedelta(hours=36)


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
    cc = _cita(session, "CC3QZ8")
    k7 = _cita(session, "K7M2Q9")
    assert _habiles_entre(una_semana_despues.date(), local(cc.inicio).date()) >= 5
    assert timedelta(0) < local(k7.inicio) - una_semana_despues < timedelta(hours=36)
    assert session.scalar(select(func.count()).select_from(Cita)) == 3


def test_demo_vigente_se_conserva_con_su_actividad(session: Session) -> None:
    p1, _ = _personas(session)
    viernes, domingo = mx(2024, 1, 26, 10, 0), mx(2024, 1, 28, 20, 0)
    sembrar_citas_demo(session, ahora=viernes)
    cc = _cita(session, "CC3QZ8")
    hoja.reenviar_hoja(session, derechohabiente=p1, clave="CC3QZ8", ahora=viernes)  # demo activity
    ids = {c: _cita(session, c).id for c in ("CC3QZ8", "Z8YP3Q")}
    # Sunday: next Friday's CC3QZ8 is still 5 business days ahead, so nothing is rebuilt.
    sembrar_citas_demo(session, ahora=domingo)
    assert {c: _cita(session, c).id for c in ids} == ids
    assert local(_cita(session, "CC3QZ8").inicio) == local(cc.inicio)
    assert session.scalars(select(Notificacion.tipo).where(Notificacion.cita_id == ids["CC3QZ8"])
                           .order_by(Notificacion.id)).all() == ["HOJA_CITA"]
    # K7M2Q9 (Friday afternoon) is over by Sunday 20:00: rebuilt alone, on Monday.
    k7 = _cita(session, "K7M2Q9")
    assert timedelta(0) < local(k7.inicio) - domingo < timedelta(hours=36)
    assert _habil(local(k7.inicio).date())


def test_no_borra_lo_que_la_persona_hizo_en_la_demo(session: Session) -> None:
    p1, _ = _personas(session)
    sembrar_citas_demo(session, ahora=AHORA)
    oficina = session.scalars(select(Oficina).where(Oficina.clave == "CDMX-ZC")).one()
    cancelacion.cancelar(session, clave="CC3QZ8", ahora=AHORA, derechohabiente=p1)
    propia = svc.agendar(
        session, derechohabiente=p1, oficina_id=oficina.id, inicio=mx(2024, 2, 1, 9, 0), ahora=AHORA
    )
    sembrar_citas_demo(session, ahora=AHORA + timedelta(days=1))
    session.expire_all()
    de_p1 = {
        c.clave: c.estatus
        for c in session.scalars(select(Cita).where(Cita.derechohabiente_id == p1.id))
    }
    assert de_p1 == {"Z8YP3Q": "CANCELADA", "CC3QZ8": "CANCELADA", propia.clave: "AGENDADA"}
    assert session.scalar(select(func.count()).select_from(EventoCita)
                          .where(EventoCita.cita_id == _cita(session, "CC3QZ8").id)) == 2


def test_horario_demo_lleno_toma_el_siguiente_con_lugar(session: Session) -> None:
    _personas(session)
    sembrar_oficinas(session)
    oficina = session.scalars(select(Oficina).where(Oficina.clave == "CDMX-ZC")).one()
    lleno = mx(2024, 2, 7, 13, 30)  # CC3QZ8's usual slot when seeding at AHORA
    for i in range(oficina.ventanillas):
        otro = crear_dh(session, curp=curp_prueba(40 + i))
        svc.agendar(session, derechohabiente=otro, oficina_id=oficina.id, inicio=lleno, ahora=AHORA)
    sembrar_citas_demo(session, ahora=AHORA)
    cc, z8 = _cita(session, "CC3QZ8"), _cita(session, "Z8YP3Q")
    assert local(cc.inicio) == mx(2024, 2, 7, 13, 45) and cc.lugar is not None
    assert local(z8.inicio) == lleno  # 15 minutes before, as in seed 003
    lugares = session.scalars(
        select(Cita.lugar).where(Cita.inicio == cc.inicio, Cita.oficina_id == oficina.id)
    ).all()
    assert len(lugares) == len(set(lugares))


def test_sin_personas_no_siembra_citas(session: Session) -> None:
    sembrar_citas_demo(session, ahora=AHORA)
    assert session.scalar(select(func.count()).select_from(Cita)) == 0
    assert session.scalar(select(func.count()).select_from(Derechohabiente)) == 0
