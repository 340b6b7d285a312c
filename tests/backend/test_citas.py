from __future__ import annotations

import io
import re
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.models import (
    Cita,
    Derechohabiente,
    EventoCita,
    IntentoCancelacion,
    Notificacion,
    Oficina,
)
from backend.settings import BackendSettings, get_settings
from tests.backend._citas_apoyo import AHORA, auth, crear_dh, crear_oficina, mx
from tests.backend.conftest import SECRETO_CAPP, Reloj, fijar_reloj


@pytest.fixture
def reloj_fijo(client: TestClient) -> Reloj:
    return fijar_reloj(client, AHORA)


@dataclass(frozen=True)
class Agendada:
    dh: Derechohabiente
    oficina: Oficina
    clave: str
    cita: dict[str, Any]  # the booking's response body
    reloj: Reloj  # the business clock it was booked by (AHORA); tests move it


@pytest.fixture
def agendada(
    client: TestClient, session: Session, settings: BackendSettings, reloj_fijo: Reloj
) -> Agendada:
    """A cita AGENDADA for Tuesday 30 January 2024, 13:30, booked at AHORA."""
    dh = crear_dh(session)
    oficina = crear_oficina(session)
    r = _agendar(client, auth(settings, dh), oficina.id, mx(2024, 1, 30, 13, 30))
    assert r.status_code == 201, r.text
    return Agendada(dh, oficina, r.json()["clave"], r.json(), reloj_fijo)


def _otra_persona(session: Session) -> Derechohabiente:
    """A second derechohabiente, next to crear_dh's default one."""
    return crear_dh(session, curp="BEML920313HMCLNS09", nacimiento=date(1992, 3, 13))


def _agendar(client: TestClient, headers: dict[str, str], oficina_id: int, inicio: datetime):  # type: ignore[no-untyped-def]
    return client.post(
        "/api/v1/citas",
        json={"oficina_id": oficina_id, "inicio": inicio.isoformat()},
        headers=headers,
    )


def test_agendar_da_clave_y_bitacora(
    client: TestClient, session: Session, settings: BackendSettings, agendada: Agendada
) -> None:
    dh, body = agendada.dh, agendada.cita
    assert re.fullmatch(r"[A-Z0-9]{6}", body["clave"])
    assert body["estatus"] == "AGENDADA"
    assert body["fecha_cita"] == "30/01/2024"
    assert body["hora"] == "13:30 hrs-13:45 hrs"
    assert body["registrado_en"] == "22/01/2024 10:07:00"
    assert datetime.fromisoformat(body["inicio"]) == mx(2024, 1, 30, 13, 30)
    assert datetime.fromisoformat(body["limite_cancelacion"]) == mx(2024, 1, 29, 1, 30)
    assert body["cancelable"] is True

    filas = client.get("/api/v1/citas", headers=auth(settings, dh)).json()
    assert [(f["clave"], f["estatus"], f["hora"]) for f in filas] == [
        (body["clave"], "AGENDADA", "13:30 hrs-13:45 hrs")]
    # The booking notice sits in the outbox, addressed to the person's phone.
    notif = session.scalars(select(Notificacion)).one()
    assert (notif.tipo, notif.canal, notif.destino) == (
        "CITA_AGENDADA",
        "WHATSAPP",
        "+5213312345678",
    )
    assert body["clave"] in notif.cuerpo


def test_inicio_sin_zona_es_hora_del_centro(client: TestClient, session: Session,
                                            settings: BackendSettings, reloj_fijo: Reloj) -> None:
    dh = crear_dh(session)
    oficina = crear_oficina(session)
    r = client.post(
        "/api/v1/citas",
        json={"oficina_id": oficina.id, "inicio": "2024-01-30T08:30:00"},
        headers=auth(settings, dh),
    )
    assert r.status_code == 201, r.text
    assert r.json()["hora"] == "08:30 hrs-08:45 hrs"


def test_agendar_requiere_identidad(
    client: TestClient, session: Session, reloj_fijo: Reloj
) -> None:
    oficina = crear_oficina(session)
    r = client.post(
        "/api/v1/citas", json={"oficina_id": oficina.id, "inicio": "2024-01-30T13:30:00"}
    )
    assert r.status_code == 401
    assert "CURP" in r.json()["detail"]


@pytest.mark.parametrize(
    ("inicio", "codigo", "fragmento"),
    [
        (mx(2024, 1, 27, 10, 0), "dia_inhabil", "sábado"),
        # Día de la Constitución (first Monday of Feb)
        (mx(2024, 2, 5, 10, 0), "dia_inhabil", "feriado"),
        (mx(2024, 1, 30, 13, 20), "horario_invalido", "cada 15 minutos"),
        (mx(2024, 1, 30, 15, 30), "horario_invalido", "15:30"),
        (mx(2024, 1, 30, 7, 45), "horario_invalido", "8:30"),
        (mx(2024, 1, 22, 10, 0), "horario_pasado", "ya pasó"),
    ],
)
def test_horarios_no_validos(
    client: TestClient,
    session: Session,
    settings: BackendSettings,
    reloj_fijo: Reloj,
    inicio: datetime,
    codigo: str,
    fragmento: str,
) -> None:
    dh = crear_dh(session)
    oficina = crear_oficina(session)
    r = _agendar(client, auth(settings, dh), oficina.id, inicio)
    assert r.status_code == 422
    assert r.json()["codigo"] == codigo
    assert fragmento in r.json()["detail"]


def test_oficina_inexistente(client: TestClient, session: Session, settings: BackendSettings,
                             reloj_fijo: Reloj) -> None:
    dh = crear_dh(session)
    r = _agendar(client, auth(settings, dh), 999_999, mx(2024, 1, 30, 13, 30))
    assert r.status_code == 404
    assert r.json()["codigo"] == "oficina_no_encontrada"


def test_una_cita_agendada_por_persona(
    client: TestClient, settings: BackendSettings, agendada: Agendada
) -> None:
    dh, oficina = agendada.dh, agendada.oficina
    r = _agendar(client, auth(settings, dh), oficina.id, mx(2024, 1, 31, 9, 0))
    assert r.status_code == 409
    assert r.json()["codigo"] == "cita_vigente_existente"
    assert agendada.clave in r.json()["detail"]
    assert "cancele" in r.json()["detail"]


def test_horario_lleno(client: TestClient, session: Session, settings: BackendSettings,
                       reloj_fijo: Reloj) -> None:
    oficina = crear_oficina(session, ventanillas=2)
    personas = [crear_dh(session, curp=f"PRUE80010{i}HDFRRN0{i}") for i in range(3)]
    codigos = [_agendar(client, auth(settings, p), oficina.id, mx(2024, 1, 30, 9, 0)).status_code
               for p in personas]
    assert codigos == [201, 201, 409]
    lleno = _agendar(client, auth(settings, personas[2]), oficina.id, mx(2024, 1, 30, 9, 0)).json()
    assert lleno["codigo"] == "horario_lleno"
    lugares = session.scalars(select(Cita.lugar).where(Cita.oficina_id == oficina.id)).all()
    assert sorted(lugares) == [1, 2]


def test_cancelar_con_token_libera_lugar_y_es_idempotente(
    client: TestClient, session: Session, settings: BackendSettings, reloj_fijo: Reloj
) -> None:
    oficina = crear_oficina(session, ventanillas=1)
    dh = crear_dh(session)
    otra = _otra_persona(session)
    clave = _agendar(client, auth(settings, dh), oficina.id, mx(2024, 1, 30, 13, 30)).json()[
        "clave"
    ]
    assert (
        _agendar(client, auth(settings, otra), oficina.id, mx(2024, 1, 30, 13, 30)).status_code
        == 409
    )

    reloj_fijo.ahora = mx(2024, 1, 23, 15, 49, 45)
    r = client.post(f"/api/v1/citas/{clave}/cancelar", headers=auth(settings, dh))
    assert r.status_code == 200, r.text
    assert r.json()["estatus"] == "CANCELADA"
    assert r.json()["ya_estaba_cancelada"] is False

    again = client.post(f"/api/v1/citas/{clave}/cancelar", headers=auth(settings, dh))
    assert again.status_code == 200
    assert again.json()["estatus"] == "CANCELADA"
    assert again.json()["ya_estaba_cancelada"] is True

    filas = client.get("/api/v1/citas", headers=auth(settings, dh)).json()
    assert [(f["estatus"], f["registrado_en"]) for f in filas] == [
        ("CANCELADA", "23/01/2024 15:49:45"), ("AGENDADA", "22/01/2024 10:07:00")]
    # The place is free again: the other person gets it.
    assert (
        _agendar(client, auth(settings, otra), oficina.id, mx(2024, 1, 30, 13, 30)).status_code
        == 201
    )
    tipos = sorted(n.tipo for n in session.scalars(select(Notificacion)))
    assert tipos == ["CITA_AGENDADA", "CITA_AGENDADA", "CITA_CANCELADA"]


def test_cancelar_dentro_de_36_horas_se_rechaza(
    client: TestClient, session: Session, settings: BackendSettings, agendada: Agendada
) -> None:
    dh, clave = agendada.dh, agendada.clave
    agendada.reloj.ahora = mx(2024, 1, 29, 1, 30, 1)  # one second past the 36 h deadline
    r = client.post(f"/api/v1/citas/{clave}/cancelar", headers=auth(settings, dh))
    assert r.status_code == 409
    body = r.json()
    assert body["codigo"] == "plazo_cancelacion_vencido"
    assert "36 horas" in body["detail"]
    assert "lunes 29 de enero de 2024 a las 01:30" in body["detail"]
    assert datetime.fromisoformat(body["limite_cancelacion"]) == mx(2024, 1, 29, 1, 30)
    assert session.scalars(select(Cita.estatus)).one() == "AGENDADA"


@pytest.fixture
def plazo_48_horas(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """CANCELACION_ANTICIPACION_HORAS=48 for this test (the rule is read from the settings)."""
    monkeypatch.setenv("CANCELACION_ANTICIPACION_HORAS", "48")
    get_settings.cache_clear()
    yield
    monkeypatch.delenv("CANCELACION_ANTICIPACION_HORAS")
    get_settings.cache_clear()


def test_el_plazo_de_cancelacion_y_sus_mensajes_salen_del_ajuste(
    client: TestClient,
    session: Session,
    settings: BackendSettings,
    plazo_48_horas: None,  # before agendada: the booking already reads the 48 h
    agendada: Agendada,
) -> None:
    dh = agendada.dh
    assert datetime.fromisoformat(agendada.cita["limite_cancelacion"]) == mx(2024, 1, 28, 13, 30)
    aviso = session.scalars(
        select(Notificacion.cuerpo).where(Notificacion.tipo == "CITA_AGENDADA")
    ).one()
    assert "menos 48 horas de anticipación" in aviso
    agendada.reloj.ahora = mx(2024, 1, 28, 13, 30, 1)
    r = client.post(f"/api/v1/citas/{agendada.clave}/cancelar", headers=auth(settings, dh))
    assert r.status_code == 409
    assert r.json()["codigo"] == "plazo_cancelacion_vencido"
    assert "hasta 48 horas antes de la cita" in r.json()["detail"]
    assert datetime.fromisoformat(r.json()["limite_cancelacion"]) == mx(2024, 1, 28, 13, 30)


def test_cancelar_exactamente_a_36_horas_se_permite(
    client: TestClient, settings: BackendSettings, agendada: Agendada
) -> None:
    dh, clave = agendada.dh, agendada.clave
    agendada.reloj.ahora = mx(2024, 1, 29, 1, 30)
    r = client.post(f"/api/v1/citas/{clave}/cancelar", headers=auth(settings, dh))
    assert r.status_code == 200
    assert r.json()["estatus"] == "CANCELADA"


def test_cancelar_por_telefono_con_fecha_de_nacimiento(
    client: TestClient, session: Session, settings: BackendSettings, agendada: Agendada
) -> None:
    clave = agendada.clave

    mala = client.post(f"/api/v1/citas/{clave}/cancelar", json={"fecha_nacimiento": "1989-09-10"})
    inexistente = client.post(
        "/api/v1/citas/ZZZZZ9/cancelar", json={"fecha_nacimiento": "1989-09-09"}
    )
    basura = client.post(
        "/api/v1/citas/no-es-clave/cancelar", json={"fecha_nacimiento": "1989-09-09"}
    )
    # Same answer for a wrong birth date, an unknown clave and garbage: nothing leaks.
    assert mala.status_code == inexistente.status_code == basura.status_code == 404
    assert mala.json() == inexistente.json() == basura.json()
    assert "fecha de nacimiento" in mala.json()["detail"]

    sin_nada = client.post(f"/api/v1/citas/{clave}/cancelar")
    assert sin_nada.status_code == 401
    assert "fecha de nacimiento" in sin_nada.json()["detail"]

    ok = client.post(
        f"/api/v1/citas/{clave.lower()}/cancelar", json={"fecha_nacimiento": "09/09/1989"}
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["estatus"] == "CANCELADA"
    evento = session.scalars(select(EventoCita).where(EventoCita.estatus == "CANCELADA")).one()
    assert evento.origen == "telefono"
    cancelacion = session.scalars(
        select(Notificacion).where(Notificacion.tipo == "CITA_CANCELADA")
    ).one()
    assert cancelacion.canal == "SMS"


def test_no_se_cancela_ni_consulta_la_cita_de_otro(
    client: TestClient, session: Session, settings: BackendSettings, agendada: Agendada
) -> None:
    extrano = _otra_persona(session)
    clave = agendada.clave
    for r in (client.post(f"/api/v1/citas/{clave}/cancelar", headers=auth(settings, extrano)),
              client.get(f"/api/v1/citas/{clave}", headers=auth(settings, extrano)),
              client.get(f"/api/v1/citas/{clave}/hoja.pdf", headers=auth(settings, extrano))):
        assert r.status_code == 404
        assert r.json()["codigo"] == "cita_no_encontrada"
    assert client.get("/api/v1/citas", headers=auth(settings, extrano)).json() == []


def test_detalle_de_cita(client: TestClient, settings: BackendSettings, agendada: Agendada) -> None:
    dh, oficina, clave = agendada.dh, agendada.oficina, agendada.clave
    agendada.reloj.ahora = mx(2024, 1, 29, 12, 0)
    r = client.get(f"/api/v1/citas/{clave}", headers=auth(settings, dh))
    assert r.status_code == 200
    body = r.json()
    assert body["clave"] == clave
    assert body["oficina"]["nombre"] == oficina.nombre
    assert body["fecha_texto"] == "martes 30 de enero de 2024"
    assert body["cancelable"] is False  # inside 36 h now


def _texto_pdf(contenido: bytes) -> str:
    reader = PdfReader(io.BytesIO(contenido))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


def test_hoja_de_asignacion_pdf(client: TestClient, session: Session, settings: BackendSettings,
                                agendada: Agendada) -> None:
    dh, oficina, clave = agendada.dh, agendada.oficina, agendada.clave
    r = client.get(f"/api/v1/citas/{clave}/hoja.pdf", headers=auth(settings, dh))
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF-")
    texto = _texto_pdf(r.content)
    for esperado in (
        clave,
        "Hoja de asignación de clave de cita",
        oficina.nombre,
        "Av. de Prueba 1",
        "martes 30 de enero de 2024",
        "13:30 hrs-13:45 hrs",
        "Identificación oficial vigente",
        "CLABE",
        "36 horas",
        "PEGL************08",
    ):
        assert esperado in texto, esperado
    assert "PEGL890909MJCRMS08" not in texto  # the CURP is masked on paper

    client.post(f"/api/v1/citas/{clave}/cancelar", headers=auth(settings, dh))
    cancelada = client.get(f"/api/v1/citas/{clave}/hoja.pdf", headers=auth(settings, dh))
    assert cancelada.status_code == 409
    assert "cancelada" in cancelada.json()["detail"]


def test_reenviar_hoja_encola_mensaje_con_adjunto(
    client: TestClient, session: Session, settings: BackendSettings, agendada: Agendada
) -> None:
    dh, clave = agendada.dh, agendada.clave
    r1 = client.post(
        f"/api/v1/citas/{clave}/reenviar", headers=auth(settings, dh), json={"canal": "SMS"}
    )
    r2 = client.post(
        f"/api/v1/citas/{clave}/reenviar", headers=auth(settings, dh), json={"canal": "SMS"}
    )
    assert r1.status_code == r2.status_code == 202
    assert r1.json()["canal"] == "SMS"
    hojas = session.scalars(select(Notificacion).where(Notificacion.tipo == "HOJA_CITA")).all()
    assert len(hojas) == 1  # a double tap within the same minute is one message
    assert (hojas[0].adjunto_tipo, hojas[0].adjunto_id, hojas[0].canal) == (
        "hoja_cita",
        clave,
        "SMS",
    )


def test_cita_pasada_vence_y_permite_agendar_otra(
    client: TestClient, settings: BackendSettings, agendada: Agendada
) -> None:
    dh, oficina, clave = agendada.dh, agendada.oficina, agendada.clave
    agendada.reloj.ahora = mx(2024, 1, 31, 9, 0)
    r = client.post(f"/api/v1/citas/{clave}/cancelar", headers=auth(settings, dh))
    assert r.status_code == 409
    assert r.json()["codigo"] == "cita_pasada"
    nueva = _agendar(client, auth(settings, dh), oficina.id, mx(2024, 2, 1, 9, 0))
    assert nueva.status_code == 201, nueva.text
    # VENCIDA is the old cita's internal state, not a bitácora event (seed 003 has none).
    filas = client.get("/api/v1/citas", headers=auth(settings, dh)).json()
    assert [(f["clave"], f["estatus"]) for f in filas] == [
        (nueva.json()["clave"], "AGENDADA"), (clave, "AGENDADA")]
    assert (
        client.get(f"/api/v1/citas/{clave}", headers=auth(settings, dh)).json()["estatus"]
        == "VENCIDA"
    )


@pytest.mark.parametrize(("inicio", "limite"), [
    (mx(2024, 1, 30, 13, 30), mx(2024, 1, 29, 1, 30)),  # Tuesday 13:30 -> Monday 01:30
    (mx(2024, 1, 29, 8, 30), mx(2024, 1, 27, 20, 30)),  # Monday 8:30 -> Saturday 20:30
])
def test_limite_de_cancelacion_36_horas_en_servicio(
    session: Session, inicio: datetime, limite: datetime
) -> None:
    from backend.services import cancelacion_citas as cancelacion
    from backend.services import citas as svc

    dh = crear_dh(session)
    oficina = crear_oficina(session)
    cita = svc.agendar(
        session, derechohabiente=dh, oficina_id=oficina.id, inicio=inicio, ahora=AHORA
    )
    assert cancelacion.limite_cancelacion(cita) == limite


# --- phone cancellation: attempt limit -------------------------------------------

def _por_telefono(client: TestClient, clave: str, nacimiento: str):  # type: ignore[no-untyped-def]
    return client.post(f"/api/v1/citas/{clave}/cancelar", json={"fecha_nacimiento": nacimiento})


def test_tres_fechas_erroneas_bloquean_la_clave_15_minutos(
    client: TestClient, session: Session, settings: BackendSettings, agendada: Agendada
) -> None:
    dh, clave = agendada.dh, agendada.clave
    codigos = [_por_telefono(client, clave, f"1989-09-1{i}").status_code for i in range(3)]
    assert codigos == [404, 404, 423]
    bloqueo = _por_telefono(client, clave, "1989-09-09")  # even the right date, while locked
    assert bloqueo.status_code == 423
    body = bloqueo.json()
    assert body["codigo"] == "bloqueado"
    assert "a partir de las 10:22 horas del 22/01/2024" in body["detail"]  # 10:07 + 15 min
    assert datetime.fromisoformat(body["bloqueado_hasta"]) == mx(2024, 1, 22, 10, 22)
    # The lock is persisted, per clave.
    fila = session.get(IntentoCancelacion, clave)
    assert fila is not None and fila.intentos_fallidos == 3
    assert session.scalars(select(Cita.estatus)).one() == "AGENDADA"

    # The owner with a token is not locked out.
    assert (
        client.post(f"/api/v1/citas/{clave}/cancelar", headers=auth(settings, dh)).status_code
        == 200
    )


def test_el_bloqueo_vence_y_un_acierto_reinicia_la_cuenta(
    client: TestClient, session: Session, agendada: Agendada
) -> None:
    clave = agendada.clave
    for _ in range(3):
        _por_telefono(client, clave, "2000-01-01")
    agendada.reloj.ahora = mx(2024, 1, 22, 10, 21, 59)
    assert _por_telefono(client, clave, "1989-09-09").status_code == 423
    agendada.reloj.ahora = mx(2024, 1, 22, 10, 22)
    # After the lock a new count starts: two misses are allowed again, then the right date works.
    assert [_por_telefono(client, clave, "2000-01-01").status_code for _ in range(2)] == [404, 404]
    ok = _por_telefono(client, clave, "09/09/1989")
    assert ok.status_code == 200 and ok.json()["estatus"] == "CANCELADA"
    session.expire_all()
    assert session.get(IntentoCancelacion, clave) is None  # a right answer clears the counter


def test_clave_inexistente_se_bloquea_igual_sin_revelar_nada(
    client: TestClient, session: Session, settings: BackendSettings, agendada: Agendada
) -> None:
    clave = agendada.clave
    existente = [_por_telefono(client, clave, "2000-01-01") for _ in range(4)]
    inexistente = [_por_telefono(client, "ZZZZZ9", "2000-01-01") for _ in range(4)]
    assert (
        [r.status_code for r in existente]
        == [r.status_code for r in inexistente]
        == [404, 404, 423, 423]
    )
    assert [r.json() for r in existente] == [r.json() for r in inexistente]


def test_intentos_en_paralelo_no_pasan_del_limite(
    client: TestClient, session: Session, settings: BackendSettings, agendada: Agendada
) -> None:
    clave = agendada.clave
    barrera = threading.Barrier(6)

    def intentar(i: int) -> int:
        barrera.wait(timeout=30)
        return int(_por_telefono(client, clave, f"2000-01-0{i + 1}").status_code)

    with ThreadPoolExecutor(6) as pool:
        codigos = Counter(pool.map(intentar, range(6)))
    assert codigos == {404: 2, 423: 4}
    session.expire_all()
    assert session.get(IntentoCancelacion, clave).intentos_fallidos == 3  # type: ignore[union-attr]


# --- clave collisions ---------------------------------------------------------------

def test_clave_repetida_se_reintenta(
    client: TestClient, session: Session, settings: BackendSettings, reloj_fijo: Reloj,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from backend.services import citas as svc

    oficina = crear_oficina(session)
    primera = _agendar(
        client, auth(settings, crear_dh(session)), oficina.id, mx(2024, 1, 30, 13, 30)
    ).json()
    claves = iter([primera["clave"]] * 3 + ["NUEVA1"])
    monkeypatch.setattr(svc, "nueva_clave", lambda: next(claves))
    otra = _otra_persona(session)
    r = _agendar(client, auth(settings, otra), oficina.id, mx(2024, 1, 30, 13, 30))
    assert r.status_code == 201, r.text
    assert r.json()["clave"] == "NUEVA1"
    assert sorted(session.scalars(select(Cita.clave))) == sorted([primera["clave"], "NUEVA1"])


def test_si_todas_las_claves_chocan_es_503_y_no_queda_nada(
    client: TestClient, session: Session, settings: BackendSettings, reloj_fijo: Reloj,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from backend.services import citas as svc

    oficina = crear_oficina(session, ventanillas=1)
    existente = _agendar(
        client, auth(settings, crear_dh(session)), oficina.id, mx(2024, 1, 30, 9, 0)
    ).json()
    llamadas = []
    monkeypatch.setattr(svc, "nueva_clave", lambda: llamadas.append(1) or existente["clave"])
    otra = _otra_persona(session)
    r = _agendar(client, auth(settings, otra), oficina.id, mx(2024, 1, 30, 13, 30))
    assert r.status_code == 503
    assert r.json()["codigo"] == "clave_no_disponible"
    assert "intente de nuevo" in r.json()["detail"]
    assert len(llamadas) == svc.INTENTOS_CLAVE
    session.expire_all()
    assert session.scalars(select(Cita.clave)).all() == [existente["clave"]]
    assert len(session.scalars(select(EventoCita)).all()) == 1
    assert len(session.scalars(select(Notificacion)).all()) == 1
    # with working claves the same request now succeeds: nothing was left half-done
    monkeypatch.undo()
    assert (
        _agendar(client, auth(settings, otra), oficina.id, mx(2024, 1, 30, 13, 30)).status_code
        == 201
    )


# --- ATENDIDA (CAPP staff) --------------------------------------------------------------

def _atender(client: TestClient, clave: str, secreto: str | None = SECRETO_CAPP):  # type: ignore[no-untyped-def]
    cabeceras = {"X-CAPP-Secret": secreto} if secreto is not None else {}
    return client.post(f"/api/v1/citas/{clave}/atendida", headers=cabeceras)


def test_personal_del_capp_marca_atendida(
    client: TestClient, session: Session, settings: BackendSettings, agendada: Agendada
) -> None:
    dh, oficina, clave = agendada.dh, agendada.oficina, agendada.clave
    antes = _atender(client, clave)
    assert antes.status_code == 409 and antes.json()["codigo"] == "cita_futura"
    assert "martes 30 de enero de 2024" in antes.json()["detail"]

    agendada.reloj.ahora = mx(2024, 1, 30, 13, 41, 7)
    r = _atender(client, clave)
    assert r.status_code == 200, r.text
    assert (r.json()["estatus"], r.json()["ya_estaba_atendida"]) == ("ATENDIDA", False)
    again = _atender(client, clave)
    assert (again.status_code, again.json()["ya_estaba_atendida"]) == (200, True)

    filas = client.get("/api/v1/citas", headers=auth(settings, dh)).json()
    assert [(f["estatus"], f["expediente"], f["registrado_en"]) for f in filas] == [
        ("ATENDIDA", "SI", "30/01/2024 13:41:07"), ("AGENDADA", "NO", "22/01/2024 10:07:00")]
    assert session.scalars(
        select(EventoCita.origen).where(EventoCita.estatus == "ATENDIDA")
    ).all() == ["capp"]
    cancelar = client.post(f"/api/v1/citas/{clave}/cancelar", headers=auth(settings, dh))
    assert cancelar.status_code == 409 and cancelar.json()["codigo"] == "cita_atendida"
    # Attended, the person may book again.
    assert _agendar(client, auth(settings, dh), oficina.id, mx(2024, 2, 1, 9, 0)).status_code == 201


def test_atendida_tambien_si_ya_habia_vencido_pero_no_si_se_cancelo(
    client: TestClient, settings: BackendSettings, agendada: Agendada
) -> None:
    dh, oficina, vieja, reloj_fijo = agendada.dh, agendada.oficina, agendada.clave, agendada.reloj
    reloj_fijo.ahora = mx(2024, 1, 31, 9, 0)
    # vieja -> VENCIDA
    nueva = _agendar(client, auth(settings, dh), oficina.id, mx(2024, 2, 6, 9, 0)).json()["clave"]
    assert _atender(client, vieja).json()["estatus"] == "ATENDIDA"  # registered late by the office
    client.post(f"/api/v1/citas/{nueva}/cancelar", headers=auth(settings, dh))
    reloj_fijo.ahora = mx(2024, 2, 6, 9, 0)
    r = _atender(client, nueva)
    assert r.status_code == 409 and r.json()["codigo"] == "cita_cancelada"
    assert _atender(client, "ZZZZZ9").status_code == 404


def test_atendida_exige_el_secreto_del_capp(
    client: TestClient, session: Session, settings: BackendSettings, agendada: Agendada
) -> None:
    clave = agendada.clave
    agendada.reloj.ahora = mx(2024, 1, 30, 14, 0)
    sin = _atender(client, clave, secreto=None)
    assert sin.status_code == 401 and "X-CAPP-Secret" in sin.json()["detail"]
    mal = _atender(client, clave, secreto="otro")
    assert mal.status_code == 403 and mal.json()["codigo"] == "prohibido"
    settings.capp_interno_secret = None  # a server without the secret refuses everything
    apagado = _atender(client, clave)
    assert apagado.status_code == 403 and apagado.json()["codigo"] == "webhook_no_configurado"
    assert session.scalars(select(Cita.estatus)).one() == "AGENDADA"
