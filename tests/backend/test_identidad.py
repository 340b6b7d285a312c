"""Identity: CURP check digit, NIP, three-strikes lockout, tokens, privacy of logs."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from stdnum.mx import curp as stdnum_curp

from backend.errors import estado_http
from backend.models import Derechohabiente, IntentoIdentidad
from backend.security import ALGORITHM, emitir_token
from backend.seed import PERSONA
from backend.services import identidad as servicio
from backend.services import nip_hash
from backend.services.errores import ErrorDominio
from backend.settings import BackendSettings
from tests.backend.conftest import AHORA_PERSONAS, Reloj, verificar

AHORA = AHORA_PERSONAS  # 12:00 in Mexico City
P1, P2, P3 = PERSONA["P1"], PERSONA["P2"], PERSONA["P3"]
# A well-formed CURP (valid check digit) that nobody in the database has.
DESCONOCIDA = "GOMA800101HDFRRR0" + stdnum_curp.calc_check_digit("GOMA800101HDFRRR0")


@pytest.mark.usefixtures("personas", "reloj_fijo")
def test_curp_y_nip_correctos_dan_token(client: TestClient, settings: BackendSettings) -> None:
    r = verificar(client, P1.curp, P1.nip)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["nombre"] == "Gloria" and body["tipo"] == "pensionado"
    assert body["nombre_completo"] == "Gloria Hernández García"
    payload = jwt.decode(body["token"], settings.token_secret, algorithms=[ALGORITHM])
    assert payload["curp"] == P1.curp
    expira = datetime.fromisoformat(body["expira_en"])
    restante = expira - datetime.now(UTC)
    assert timedelta(minutes=14) < restante <= timedelta(minutes=15)
    assert body["expira_en_segundos"] == 15 * 60


@pytest.mark.usefixtures("personas")
def test_curp_en_minusculas_y_con_espacios_se_acepta(client: TestClient) -> None:
    r = verificar(client, "  " + P3.curp.lower() + " ", P3.nip)
    assert r.status_code == 200, r.text
    assert r.json()["nombre"] == "Luisa"


@pytest.mark.parametrize(
    ("curp", "fragmento"),
    [
        ("HEGG560427MVZRRL05", "verificador"),  # wrong check digit
        ("HEGG560427MVZRRL0", "18 caracteres"),
        ("HEGG561327MVZRRL04", "formato"),  # month 13
        ("1234567890ABCDEFGH", "formato"),
    ],
)
def test_curp_invalida_da_422_en_espanol(client: TestClient, curp: str, fragmento: str) -> None:
    r = verificar(client, curp, "1234")
    assert r.status_code == 422
    body = r.json()
    assert fragmento in body["detail"]
    assert body["campos"] == ["curp"]
    assert body["codigo"] == "datos_invalidos"


@pytest.mark.parametrize("nip", ["123", "12345", "12a4", ""])
def test_nip_que_no_es_de_4_digitos_da_422(client: TestClient, nip: str) -> None:
    r = verificar(client, P1.curp, nip)
    assert r.status_code == 422
    assert r.json()["detail"] == "El NIP debe tener exactamente 4 dígitos."


@pytest.mark.usefixtures("personas")
def test_curp_desconocida_da_401_sin_revelar_intentos(client: TestClient) -> None:
    r = verificar(client, DESCONOCIDA, "1234")
    assert r.status_code == 401
    body = r.json()
    assert body["codigo"] == "credenciales_invalidas"
    assert "intentos_restantes" not in body
    assert body["detail"].startswith(servicio.MENSAJE_CREDENCIALES)


@pytest.mark.usefixtures("personas")
def test_tres_nip_erroneos_bloquean_15_minutos(client: TestClient, reloj_fijo: Reloj) -> None:
    r1 = verificar(client, P2.curp, "0000")
    assert r1.status_code == 401 and "intentos_restantes" not in r1.json()
    assert r1.json()["detail"].startswith(servicio.MENSAJE_CREDENCIALES)
    r2 = verificar(client, P2.curp, "0001")
    assert r2.status_code == 401 and r2.json() == r1.json()
    r3 = verificar(client, P2.curp, "0002")
    assert r3.status_code == 423
    body = r3.json()
    hasta = datetime.fromisoformat(body["bloqueado_hasta"])
    assert hasta == AHORA + timedelta(minutes=15)
    assert hasta.utcoffset() == timedelta(hours=-6)  # America/Mexico_City
    assert "12:15" in body["detail"] and "hora del centro de México" in body["detail"]

    # While locked, even the right NIP is refused.
    reloj_fijo.ahora = AHORA + timedelta(minutes=14, seconds=59)
    bloqueado = verificar(client, P2.curp, P2.nip)
    assert bloqueado.status_code == 423
    assert bloqueado.json()["bloqueado_hasta"] == body["bloqueado_hasta"]

    # After 15 minutes the right NIP works again and clears the record.
    reloj_fijo.ahora = AHORA + timedelta(minutes=15, seconds=1)
    assert verificar(client, P2.curp, P2.nip).status_code == 200
    for nip in ("0000", "0001"):
        assert verificar(client, P2.curp, nip).status_code == 401
    # ... so the next lockout is a first one again: 15 minutes.
    r = verificar(client, P2.curp, "0002")
    assert r.status_code == 423
    assert datetime.fromisoformat(r.json()["bloqueado_hasta"]) == reloj_fijo.ahora + timedelta(
        minutes=15
    )


@pytest.mark.usefixtures("personas")
def test_bloqueo_vencido_con_nip_erroneo_empieza_cuenta_nueva(
    client: TestClient, reloj_fijo: Reloj
) -> None:
    for _ in range(3):
        verificar(client, P1.curp, "1111")
    reloj_fijo.ahora = AHORA + timedelta(minutes=16)
    assert verificar(client, P1.curp, "1111").status_code == 401
    assert verificar(client, P1.curp, "1112").status_code == 401
    assert verificar(client, P1.curp, P1.nip).status_code == 200


@pytest.mark.usefixtures("personas")
def test_bloqueos_repetidos_se_alargan_hasta_el_maximo(client: TestClient, reloj_fijo: Reloj,
                                                      settings: BackendSettings) -> None:
    settings.bloqueo_maximo_minutos = 60
    duraciones = []
    for _ in range(5):
        for nip in ("1111", "1112", "1113"):
            r = verificar(client, P1.curp, nip)
        assert r.status_code == 423
        hasta = datetime.fromisoformat(r.json()["bloqueado_hasta"])
        duraciones.append(hasta - reloj_fijo.ahora)
        reloj_fijo.ahora = hasta + timedelta(seconds=1)
    assert duraciones == [timedelta(minutes=m) for m in (15, 30, 60, 60, 60)]
    # A successful login forgets the history.
    assert verificar(client, P1.curp, P1.nip).status_code == 200
    for nip in ("1111", "1112", "1113"):
        r = verificar(client, P1.curp, nip)
    assert datetime.fromisoformat(r.json()["bloqueado_hasta"]) - reloj_fijo.ahora == timedelta(
        minutes=15
    )


@pytest.mark.usefixtures("personas", "reloj_fijo")
def test_acierto_reinicia_el_contador(client: TestClient) -> None:
    assert verificar(client, P3.curp, "9999").status_code == 401
    assert verificar(client, P3.curp, "9998").status_code == 401
    assert verificar(client, P3.curp, P3.nip).status_code == 200
    assert verificar(client, P3.curp, "9999").status_code == 401
    assert verificar(client, P3.curp, "9998").status_code == 401  # two more, still not locked
    assert verificar(client, P3.curp, P3.nip).status_code == 200


@pytest.mark.usefixtures("personas")
def test_intentos_en_paralelo_no_pasan_de_tres(
    session_factory: sessionmaker[Session], settings: BackendSettings
) -> None:
    hilos = 6
    barrera = threading.Barrier(hilos)
    resultados: list[int] = []
    candado = threading.Lock()

    def intento(n: int) -> None:
        with session_factory() as s:
            barrera.wait()
            try:
                servicio.verificar(s, curp=P1.curp, nip=f"{n:04d}", settings=settings, ahora=AHORA)
                resultado = 200
            except ErrorDominio as exc:
                resultado = estado_http(exc)
        with candado:
            resultados.append(resultado)

    threads = [threading.Thread(target=intento, args=(n,)) for n in range(hilos)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sorted(resultados) == [401, 401] + [423] * (hilos - 2)
    with session_factory() as s:
        fila = s.get(IntentoIdentidad, P1.curp)
        assert fila is not None and fila.intentos_fallidos == 3 and fila.bloqueos == 1
        assert servicio.como_utc(fila.bloqueado_hasta) == AHORA + timedelta(minutes=15)


@pytest.mark.usefixtures("personas")
def test_nip_se_guarda_con_hmac_y_pimienta(session: Session) -> None:
    dh = session.scalars(select(Derechohabiente).where(Derechohabiente.curp == P1.curp)).one()
    esquema, kid, digest = dh.nip_hash.split("$")
    assert (esquema, kid) == ("hmac-sha256", nip_hash.pimientas().actual_id)
    assert len(digest) == 64 and P1.nip not in dh.nip_hash
    assert servicio.nip_correcto(dh.nip_hash, P1.nip, P1.curp)
    assert not servicio.nip_correcto(dh.nip_hash, "0000", P1.curp)
    # The CURP is part of the message: the same NIP gives another hash for someone else.
    assert not servicio.nip_correcto(dh.nip_hash, P1.nip, P2.curp)


# --- perfil and tokens ---------------------------------------------------------------

def _token(client: TestClient, persona) -> str:  # type: ignore[no-untyped-def]
    r = verificar(client, persona.curp, persona.nip)
    assert r.status_code == 200, r.text
    return str(r.json()["token"])


@pytest.mark.usefixtures("personas")
def test_perfil_con_token(client: TestClient) -> None:
    r = client.get(
        "/api/v1/identidad/perfil", headers={"Authorization": f"Bearer {_token(client, P2)}"}
    )
    assert r.status_code == 200, r.text
    assert r.json() == {
        "nombre": "Luis",
        "nombre_completo": "Luis Beltrán Montes",
        "tipo": "asegurado",
        "sexo": "H",
        "anios_cotizacion": 8,
        "sueldo_base_mensual": 12690.8,
        "dependencia": P2.dependencia,
    }


@pytest.mark.usefixtures("personas")
def test_perfil_sin_token_da_401(client: TestClient) -> None:
    r = client.get("/api/v1/identidad/perfil")
    assert r.status_code == 401
    assert "CURP" in r.json()["detail"]


@pytest.mark.usefixtures("personas")
def test_token_vencido_o_basura_da_401(
    client: TestClient, session: Session, settings: BackendSettings
) -> None:
    dh = session.scalars(select(Derechohabiente).where(Derechohabiente.curp == P1.curp)).one()
    vencido, _ = emitir_token(dh, settings, ahora=datetime.now(UTC) - timedelta(minutes=16))
    r = client.get("/api/v1/identidad/perfil", headers={"Authorization": f"Bearer {vencido}"})
    assert r.status_code == 401 and "expiró" in r.json()["detail"]
    for basura in (
        "basura",
        "a.b.c",
        jwt.encode(
            {"sub": str(dh.id), "curp": dh.curp, "typ": "identidad"},
            "otro-secreto-" + "y" * 24,
            algorithm=ALGORITHM,
        ),
    ):
        r = client.get("/api/v1/identidad/perfil", headers={"Authorization": f"Bearer {basura}"})
        assert r.status_code == 401
        assert r.json()["codigo"] == "no_autenticado"


@pytest.mark.usefixtures("personas", "reloj_fijo")
def test_los_logs_no_contienen_curp_ni_nip(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    verificar(client, P1.curp, P1.nip)
    verificar(client, P1.curp, "9137")
    verificar(client, DESCONOCIDA, "9137")
    for _ in range(3):
        verificar(client, P2.curp, "9137")
    mensajes = [r.getMessage() for r in caplog.records]
    # the masked form is what we log
    assert any("HEGG************04" in m for m in mensajes), mensajes
    for m in mensajes:
        for secreto in (P1.curp, P2.curp, DESCONOCIDA, P1.nip, P2.nip, "9137"):
            assert secreto not in m
