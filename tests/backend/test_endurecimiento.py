"""Request hardening (issue 14): no CURP enumeration, keyed NIP hashes with
rotation, throttling per source and globally (also across two app instances on
one database), idempotent and deadline-bound booking/cancelling, CORS and docs by
environment, signed-link tokens out of the logs, the seed's guard."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker
from stdnum.mx import curp as stdnum_curp

from backend import seed
from backend.db import make_engine, make_sessionmaker
from backend.deps import reloj
from backend.main import create_app
from backend.models import Cita, ClaveIdempotencia, Derechohabiente, IntentoFallido
from backend.privacy import enmascarar_texto
from backend.seed import PERSONA, sembrar_personas
from backend.services import nip_hash as claves_nip
from backend.settings import BackendSettings
from tests.backend._citas_apoyo import AHORA as AHORA_CITAS
from tests.backend._citas_apoyo import auth, crear_dh, crear_oficina, mx
from tests.backend.conftest import AHORA_PERSONAS, URL_VERIFICAR, Reloj, verificar

AHORA = AHORA_PERSONAS  # 12:00 in Mexico City
P1, P2 = PERSONA["P1"], PERSONA["P2"]
URL = URL_VERIFICAR


def curp_valida(i: int) -> str:
    base = f"GOMA80{(i // 28) % 12 + 1:02d}{i % 28 + 1:02d}HDFRRR0"
    return base + stdnum_curp.calc_check_digit(base)


DESCONOCIDA = curp_valida(0)


# --- 1. no enumeration ---------------------------------------------------------------

@pytest.mark.usefixtures("personas", "reloj_fijo")
def test_curp_conocida_y_desconocida_responden_igual(client: TestClient) -> None:
    for _ in range(2):
        conocida = verificar(client, P1.curp, "0000")
        desconocida = verificar(client, DESCONOCIDA, "0000")
        assert conocida.status_code == desconocida.status_code == 401
        assert conocida.json() == desconocida.json()
        assert set(conocida.json()) == {"detail", "codigo"}
    # The third failure locks both, with the same answer: an unknown CURP locks too.
    conocida = verificar(client, P1.curp, "0000")
    desconocida = verificar(client, DESCONOCIDA, "0000")
    assert conocida.status_code == desconocida.status_code == 423
    assert conocida.json() == desconocida.json()
    # ... and stays locked alike, whatever NIP comes next.
    assert (
        verificar(client, P1.curp, P1.nip).json() == verificar(client, DESCONOCIDA, "1234").json()
    )


# --- 2. NIP hashes: HMAC with a pepper, rotation, argon2 migration --------------------------

def _pimienta(settings: BackendSettings, actual: str, anteriores: str | None = None) -> None:
    settings.nip_pepper = SecretStr(actual)
    settings.nip_peppers_anteriores = SecretStr(anteriores) if anteriores else None


def _hash_de(session_factory: sessionmaker[Session], curp: str) -> str:
    with session_factory() as s:
        return s.scalars(select(Derechohabiente.nip_hash).where(Derechohabiente.curp == curp)).one()


def _poner_hash(session_factory: sessionmaker[Session], curp: str, valor: str) -> None:
    with session_factory() as s:
        s.scalars(
            select(Derechohabiente).where(Derechohabiente.curp == curp)
        ).one().nip_hash = valor
        s.commit()


@pytest.mark.usefixtures("personas", "reloj_fijo")
def test_hash_argon2_se_rehace_con_la_pimienta_al_entrar(
    client: TestClient, settings: BackendSettings, session_factory: sessionmaker[Session]
) -> None:
    _pimienta(settings, "pimienta-nueva-" + "n" * 32)
    _poner_hash(
        session_factory,
        P1.curp,
        PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(P1.nip),
    )
    assert verificar(client, P1.curp, "0000").status_code == 401
    # nothing unverified is rewritten
    assert _hash_de(session_factory, P1.curp).startswith("$argon2")
    assert verificar(client, P1.curp, P1.nip).status_code == 200
    nuevo = _hash_de(session_factory, P1.curp)
    assert nuevo.split("$")[:2] == ["hmac-sha256", claves_nip.id_de("pimienta-nueva-" + "n" * 32)]
    assert verificar(client, P1.curp, P1.nip).status_code == 200


@pytest.mark.usefixtures("personas", "reloj_fijo")
def test_rotacion_de_pimienta(client: TestClient, settings: BackendSettings,
                              session_factory: sessionmaker[Session]) -> None:
    vieja, nueva = "pimienta-vieja-" + "v" * 32, "pimienta-nueva-" + "n" * 32
    _pimienta(settings, vieja)
    _poner_hash(
        session_factory,
        P1.curp,
        claves_nip.hash_nip(P1.curp, P1.nip, claves_nip.pimientas(settings)),
    )
    _poner_hash(
        session_factory,
        P2.curp,
        claves_nip.hash_nip(P2.curp, P2.nip, claves_nip.pimientas(settings)),
    )
    _pimienta(settings, nueva, anteriores=vieja)
    assert verificar(client, P1.curp, P1.nip).status_code == 200
    assert _hash_de(session_factory, P1.curp).split("$")[1] == claves_nip.id_de(nueva)
    # not logged in yet
    assert _hash_de(session_factory, P2.curp).split("$")[1] == claves_nip.id_de(vieja)
    # Once the old pepper is dropped, its hashes no longer verify (never by accident).
    _pimienta(settings, nueva)
    assert verificar(client, P2.curp, P2.nip).status_code == 401
    assert verificar(client, P1.curp, P1.nip).status_code == 200


def test_verificacion_de_hash_es_de_tiempo_constante_y_con_formato_estricto() -> None:
    claves = claves_nip.pimientas(BackendSettings(nip_pepper=SecretStr("p" * 40)))
    bueno = claves_nip.hash_nip(P1.curp, P1.nip, claves)
    assert claves_nip.verificar_nip(bueno, P1.curp, P1.nip, claves) == claves_nip.Verificacion(
        True, False
    )
    for malo in (
        "",
        "hmac-sha256$xx$" + "0" * 64,
        bueno[:-1],
        bueno.replace("hmac", "hmad"),
        "texto",
    ):
        assert not claves_nip.verificar_nip(malo, P1.curp, P1.nip, claves).correcto


def test_sembrar_un_millon_de_hashes_es_rapido() -> None:
    claves = claves_nip.pimientas()
    inicio = time.perf_counter()
    for i in range(20_000):
        claves_nip.hash_nip(DESCONOCIDA, f"{i % 10_000:04d}", claves)
    # argon2 at its defaults takes ~0.2 s per hash; HMAC a few microseconds.
    assert (time.perf_counter() - inicio) / 20_000 < 0.001


# --- 3. throttling --------------------------------------------------------------------

@pytest.mark.usefixtures("personas", "reloj_fijo")
def test_429_tras_20_fallos_de_un_origen_en_muchas_curp(
    client: TestClient, reloj_fijo: Reloj
) -> None:
    for i in range(20):
        reloj_fijo.ahora = AHORA + timedelta(seconds=i)
        assert verificar(client, curp_valida(i + 1), "1234").status_code == 401
    r = verificar(client, P1.curp, P1.nip)  # even the right NIP: the source is throttled
    assert r.status_code == 429
    assert (
        r.json()["codigo"] == "demasiados_intentos" and "demasiados intentos" in r.json()["detail"]
    )
    # The oldest failure (at AHORA) leaves the 15-minute window 15 min - 19 s from now.
    assert int(r.headers["Retry-After"]) == 15 * 60 - 19
    # Another source is not affected; the throttled one is free once the window passed.
    assert (
        verificar(client, P1.curp, P1.nip, headers={"X-Forwarded-For": "203.0.113.9"}).status_code
        == 429
    )
    reloj_fijo.ahora = AHORA + timedelta(minutes=15, seconds=1)
    assert verificar(client, P1.curp, P1.nip).status_code == 200


def test_origen_confiable_y_x_forwarded_for(settings: BackendSettings) -> None:
    from starlette.requests import Request

    from backend.services.limites import origen_de

    settings.proxies_confiables = "10.0.0.0/8,127.0.0.1"

    def origen(par: str, xff: str | None) -> str:
        headers = [(b"x-forwarded-for", xff.encode())] if xff else []
        return origen_de(
            Request({"type": "http", "client": (par, 1), "headers": headers}), settings
        )

    assert origen("10.1.2.3", "198.51.100.7, 10.9.9.9") == "198.51.100.7"  # skips trusted hops
    # a spoofed left entry is ignored
    assert origen("10.1.2.3", "1.1.1.1, 198.51.100.7") == "198.51.100.7"
    assert origen("203.0.113.5", "198.51.100.7") == "203.0.113.5"  # untrusted peer: header ignored
    assert origen("127.0.0.1", None) == "127.0.0.1"


@pytest.mark.usefixtures("personas")
def test_limite_global(client: TestClient, reloj_fijo: Reloj, settings: BackendSettings) -> None:
    settings.intentos_globales = 5
    settings.proxies_confiables = "0.0.0.0/0"  # so each request can claim its own address
    for i in range(5):
        r = verificar(
            client, curp_valida(i), "1234", headers={"X-Forwarded-For": f"198.51.100.{i}"}
        )
        assert r.status_code == 401
    r = verificar(client, P1.curp, P1.nip, headers={"X-Forwarded-For": "198.51.100.200"})
    assert r.status_code == 429 and "en el servicio" in r.json()["detail"]


@pytest.fixture
def dos_instancias(
    db_url: str, settings: BackendSettings, session_factory: sessionmaker[Session]
) -> Iterator[tuple[TestClient, TestClient]]:
    """Two app instances, each with its own engine and pool, on one database: what
    two uvicorn workers share."""
    with session_factory() as s:
        sembrar_personas(s, hoy=AHORA.date(), ahora=AHORA)
    motores: list[Engine] = []
    clientes = []
    for _ in range(2):
        app = create_app(settings)
        motor = make_engine(db_url)
        motores.append(motor)
        app.state.engine, app.state.sessionmaker = motor, make_sessionmaker(motor)
        clientes.append(TestClient(app))
    try:
        with clientes[0] as a, clientes[1] as b:
            yield a, b
    finally:
        for m in motores:
            m.dispose()


def test_429_se_cuenta_entre_dos_instancias(dos_instancias: tuple[TestClient, TestClient]) -> None:
    a, b = dos_instancias
    for i in range(20):
        assert verificar(a if i % 2 else b, curp_valida(i), "1234").status_code == 401
    assert verificar(a, P1.curp, P1.nip).status_code == 429
    assert verificar(b, P1.curp, P1.nip).status_code == 429


def test_cancelar_por_fecha_tiene_limite_por_origen(client: TestClient, session: Session,
                                                    settings: BackendSettings) -> None:
    client.app.dependency_overrides[reloj] = lambda: AHORA_CITAS  # type: ignore[attr-defined]
    settings.cancelacion_max_intentos = 100  # only the per-source limit in play here
    for i in range(20):
        r = client.post(
            f"/api/v1/citas/ZZ{i:04d}/cancelar", json={"fecha_nacimiento": "1989-09-09"}
        )
        assert r.status_code == 404, r.text
    r = client.post("/api/v1/citas/ABCDEF/cancelar", json={"fecha_nacimiento": "1989-09-09"})
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    assert session.scalar(select(func.count()).select_from(IntentoFallido)) == 20


# --- 6. idempotency and late turns ----------------------------------------------------------

@pytest.fixture
def reloj_citas(client: TestClient) -> None:
    client.app.dependency_overrides[reloj] = lambda: AHORA_CITAS  # type: ignore[attr-defined]


@pytest.mark.usefixtures("reloj_citas")
def test_agendar_con_la_misma_clave_no_agenda_dos_veces(client: TestClient, session: Session,
                                                        settings: BackendSettings) -> None:
    dh = crear_dh(session)
    oficina = crear_oficina(session)
    cuerpo = {"oficina_id": oficina.id, "inicio": mx(2024, 1, 30, 13, 30).isoformat()}
    cab = {
        **auth(settings, dh),
        "Idempotency-Key": "turno-1",
        "X-Turno-Vence": str(time.time() + 60),
    }
    r1 = client.post("/api/v1/citas", json=cuerpo, headers=cab)
    r2 = client.post("/api/v1/citas", json=cuerpo, headers=cab)
    assert r1.status_code == r2.status_code == 201
    assert r1.json() == r2.json()
    assert session.scalar(select(func.count()).select_from(Cita)) == 1
    # The same key for another request is a conflict, and books nothing.
    otro = {**cuerpo, "inicio": mx(2024, 1, 30, 13, 45).isoformat()}
    r3 = client.post("/api/v1/citas", json=otro, headers=cab)
    assert r3.status_code == 409 and r3.json()["codigo"] == "idempotencia_conflicto"
    assert session.scalar(select(func.count()).select_from(Cita)) == 1


@pytest.mark.usefixtures("reloj_citas")
def test_turno_vencido_no_cambia_nada(
    client: TestClient, session: Session, settings: BackendSettings
) -> None:
    dh = crear_dh(session)
    oficina = crear_oficina(session)
    cuerpo = {"oficina_id": oficina.id, "inicio": mx(2024, 1, 30, 13, 30).isoformat()}
    tarde = {
        **auth(settings, dh),
        "Idempotency-Key": "turno-tarde",
        "X-Turno-Vence": str(time.time() - 1),
    }
    r = client.post("/api/v1/citas", json=cuerpo, headers=tarde)
    assert r.status_code == 409 and r.json()["codigo"] == "turno_vencido"
    assert session.scalar(select(func.count()).select_from(Cita)) == 0
    assert session.scalar(select(func.count()).select_from(ClaveIdempotencia)) == 0
    # Booked on time, then a late cancel: the cita stays AGENDADA.
    clave = client.post("/api/v1/citas", json=cuerpo, headers=auth(settings, dh)).json()["clave"]
    r = client.post(f"/api/v1/citas/{clave}/cancelar", json={"fecha_nacimiento": "1989-09-09"},
                    headers={"X-Turno-Vence": str(time.time() - 0.5), "Idempotency-Key": "c-1"})
    assert r.status_code == 409 and r.json()["codigo"] == "turno_vencido"
    session.expire_all()
    assert session.scalars(select(Cita.estatus)).one() == "AGENDADA"
    # The same cancel on time goes through once; its repeat replays the answer.
    cab = {"X-Turno-Vence": str(time.time() + 30), "Idempotency-Key": "c-2"}
    r1 = client.post(
        f"/api/v1/citas/{clave}/cancelar", json={"fecha_nacimiento": "1989-09-09"}, headers=cab
    )
    r2 = client.post(
        f"/api/v1/citas/{clave}/cancelar", json={"fecha_nacimiento": "1989-09-09"}, headers=cab
    )
    assert r1.status_code == r2.status_code == 200
    assert r1.json() == r2.json() and r1.json()["ya_estaba_cancelada"] is False


@pytest.mark.parametrize(
    ("nombre", "valor"),
    [
        ("Idempotency-Key", "x" * 129),
        ("Idempotency-Key", "con espacio"),
        ("X-Turno-Vence", "manana"),
        ("X-Turno-Vence", "nan"),
    ],
)
def test_encabezados_invalidos_dan_422(
    client: TestClient, session: Session, settings: BackendSettings, nombre: str, valor: str
) -> None:
    dh = crear_dh(session)
    r = client.post("/api/v1/citas", json={"oficina_id": 1, "inicio": "2024-01-30T13:30:00"},
                    headers={**auth(settings, dh), nombre: valor})
    assert r.status_code == 422 and r.json()["codigo"] == "datos_invalidos"


# --- 5. docs and CORS -------------------------------------------------------------------------

def test_documentacion_solo_en_desarrollo(settings: BackendSettings) -> None:
    settings.entorno = "produccion"
    with TestClient(create_app(settings)) as c:
        for ruta in ("/docs", "/redoc", "/openapi.json"):
            assert c.get(ruta).status_code == 404
    settings.entorno = "desarrollo"
    with TestClient(create_app(settings)) as c:
        assert "paths" in c.get("/openapi.json").json()


def test_cors_solo_para_el_origen_publico(client: TestClient) -> None:
    preflight = {"Access-Control-Request-Method": "POST"}
    propio = client.options(URL, headers={"Origin": "http://testserver", **preflight})
    assert propio.status_code == 200
    assert propio.headers["access-control-allow-origin"] == "http://testserver"
    ajeno = client.options(URL, headers={"Origin": "https://malicioso.example", **preflight})
    assert ajeno.status_code == 400 and "access-control-allow-origin" not in ajeno.headers
    r = client.get("/health", headers={"Origin": "https://malicioso.example"})
    assert "access-control-allow-origin" not in r.headers


# --- 7. logs, seed ----------------------------------------------------------------------------

def test_enlace_firmado_enmascarado_en_el_log_de_accesos() -> None:
    from backend.privacy import FiltroPrivacidad

    token = "eyJhbGciOiJIUzI1NiJ9.eyJraW5kIjoiaG9qYSJ9.abc-_123"
    registro = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5", "GET", f"/api/v1/archivos/{token}", "1.1", 200),
        None,
    )
    FiltroPrivacidad().filter(registro)
    linea = registro.getMessage()
    assert token not in linea and "/api/v1/archivos/****" in linea
    assert enmascarar_texto(f"https://capp.example/api/v1/archivos/{token}?x=1").endswith("/archivos/****?x=1")


def test_semilla_se_niega_en_una_base_que_no_es_local(capsys: pytest.CaptureFixture[str],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    llamadas: list[str] = []
    monkeypatch.setattr("backend.migrate.upgrade", lambda url: llamadas.append(url))
    url = "postgresql+psycopg://capp@db.produccion.example/capp"
    assert seed.main(["--count", "0", "--database-url", url]) == 2
    assert llamadas == []  # refused before touching anything
    assert "--forzar" in capsys.readouterr().err
    assert not seed.base_desechable(url)
    assert not seed.base_desechable("sqlite:////srv/capp/capp.db")
    assert seed.base_desechable("sqlite:///var/capp.db")
    assert seed.base_desechable(f"sqlite:///{seed.RAIZ / 'var' / 'bench' / 'saldo.db'}")


def test_semilla_en_base_temporal(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'semilla.db'}"
    assert seed.base_desechable(url)
    assert seed.main(["--count", "2", "--database-url", url]) == 0
    motor = make_engine(url)
    try:
        with Session(motor) as s:
            hashes = s.scalars(select(Derechohabiente.nip_hash)).all()
        assert len(hashes) == 5 and all(h.startswith("hmac-sha256$") for h in hashes)
    finally:
        motor.dispose()

