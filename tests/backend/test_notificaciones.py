"""The notification sender against a local fake of Twilio's REST API.

The fake is a real HTTP server (http.server in a thread) that records the POSTs
Twilio's own client makes to /2010-04-01/Accounts/{sid}/Messages.json and
answers Twilio-shaped JSON, so the real `twilio.rest.Client` is exercised."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.models import Notificacion
from backend.notificaciones.__main__ import main as worker_main
from backend.services import citas as svc
from backend.services import enlaces
from backend.services import notificaciones as notif_svc
from backend.services.disponibilidad import utc
from backend.settings import BackendSettings
from tests.backend._citas_apoyo import AHORA, crear_dh, crear_oficina, curp_prueba, mx

SID = "AC" + "0" * 32
TOKEN = "token-de-prueba"


@dataclass
class FakeTwilio:
    """What the fake received, and how many of the next requests must fail."""

    peticiones: list[dict[str, object]] = field(default_factory=list)
    fallar: list[int] = field(default_factory=list)  # status codes for the next requests
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    fake = FakeTwilio()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _json(self, status: int, payload: dict[str, object]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:  # noqa: N802 - http.server API
            path = urlsplit(self.path).path
            largo = int(self.headers.get("Content-Length", 0))
            form = parse_qs(self.rfile.read(largo).decode())
            if path != f"/2010-04-01/Accounts/{SID}/Messages.json":
                self._json(404, {"code": 20404, "message": "not found", "status": 404})
                return
            with fake.lock:
                n = len(fake.peticiones) + 1
                fake.peticiones.append({"auth": self.headers.get("Authorization"), "form": form})
                status = fake.fallar.pop(0) if fake.fallar else 201
            if status != 201:
                self._json(status, {"code": 20500 if status >= 500 else 21211,
                                    "message": "falla simulada", "more_info": "https://www.twilio.com/docs/errors",
                                    "status": status})
                return
            self._json(201, {
                "sid": f"SM{n:032d}", "account_sid": SID, "status": "queued",
                "to": form["To"][0], "from": form["From"][0], "body": form["Body"][0],
                "num_media": str(len(form.get("MediaUrl", []))), "num_segments": "1",
                "direction": "outbound-api", "api_version": "2010-04-01",
                "date_created": "Mon, 22 Jan 2024 16:07:00 +0000", "date_updated": "Mon, 22 Jan 2024 16:07:00 +0000",
                "date_sent": None, "error_code": None, "error_message": None, "price": None,
                "price_unit": "USD", "messaging_service_sid": None,
                "uri": f"/2010-04-01/Accounts/{SID}/Messages/SM{n:032d}.json", "subresource_uris": {},
            })

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    hilo = threading.Thread(target=server.serve_forever, daemon=True)
    hilo.start()
    yield fake
    server.shutdown()
    server.server_close()


@pytest.fixture
def ajustes(settings: BackendSettings, twilio: FakeTwilio) -> BackendSettings:
    return settings.model_copy(update={
        "twilio_account_sid": SID, "twilio_auth_token": TOKEN, "twilio_from_sms": "+15005550006",
        "twilio_from_whatsapp": "+14155238886", "twilio_api_base": twilio.url,
    })


def _agendar(session: Session, *, telefono: str | None = "+5213312345678", canal: str | None = None,
             inicio: datetime = mx(2024, 1, 30, 13, 30), i: int = 0):  # type: ignore[no-untyped-def]
    dh = crear_dh(session, curp=curp_prueba(i), telefono=telefono)
    if "oficina" not in session.info:
        session.info["oficina"] = crear_oficina(session, ventanillas=4)
    oficina = session.info["oficina"]
    return svc.agendar(session, derechohabiente=dh, oficina_id=oficina.id, inicio=inicio, ahora=AHORA,
                       canal_notificacion=canal)


def _estado(factory: sessionmaker[Session]) -> list[tuple[str, str, int, str | None]]:
    with factory() as s:
        return [(n.tipo, n.estado, n.intentos, n.twilio_sid)
                for n in s.scalars(select(Notificacion).order_by(Notificacion.id))]


def test_envia_whatsapp_con_la_hoja_y_no_repite(session: Session, session_factory: sessionmaker[Session],
                                               ajustes: BackendSettings, twilio: FakeTwilio) -> None:
    cita = _agendar(session)
    r = notif_svc.enviar_pendientes(session_factory, ajustes, ahora=AHORA)
    assert (r.enviadas, r.reintentos, r.fallidas) == (1, 0, 0)
    assert len(twilio.peticiones) == 1
    peticion = twilio.peticiones[0]
    usuario, clave = base64.b64decode(str(peticion["auth"]).split()[1]).decode().split(":")
    assert (usuario, clave) == (SID, TOKEN)
    form = peticion["form"]
    assert isinstance(form, dict)
    assert form["To"] == ["whatsapp:+5213312345678"]
    assert form["From"] == ["whatsapp:+14155238886"]
    assert cita.clave in form["Body"][0]
    assert "martes 30 de enero de 2024 a las 13:30" in form["Body"][0]
    # The hoja goes as media through a signed link Twilio can fetch without credentials.
    media = form["MediaUrl"][0]
    assert media.startswith("http://testserver/api/v1/archivos/")
    enlace = enlaces.verify(ajustes, media.rsplit("/", 1)[1], ahora=AHORA)
    assert (enlace.kind, enlace.id) == ("hoja_cita", cita.clave)

    assert _estado(session_factory) == [("CITA_AGENDADA", "ENVIADA", 1, "SM" + "1".zfill(32))]
    otra = notif_svc.enviar_pendientes(session_factory, ajustes, ahora=AHORA + timedelta(hours=1))
    assert otra.enviadas == 0
    assert len(twilio.peticiones) == 1


def test_sms_sin_adjunto_lleva_el_enlace_en_el_texto(
    session: Session, session_factory: sessionmaker[Session], ajustes: BackendSettings, twilio: FakeTwilio
) -> None:
    cita = _agendar(session, canal="SMS")
    svc.reenviar_hoja(session, derechohabiente=cita.derechohabiente, clave=cita.clave, ahora=AHORA)
    notif_svc.enviar_pendientes(session_factory, ajustes, ahora=AHORA)
    forms = [p["form"] for p in twilio.peticiones]
    assert [f["To"] for f in forms] == [["+5213312345678"], ["+5213312345678"]]  # type: ignore[index]
    assert all(f["From"] == ["+15005550006"] for f in forms)  # type: ignore[index]
    assert "MediaUrl" not in forms[0]  # type: ignore[operator]
    assert "http://testserver/api/v1/archivos/" in forms[1]["Body"][0]  # type: ignore[index]


def test_falla_dos_veces_y_luego_envia_con_backoff(
    session: Session, session_factory: sessionmaker[Session], ajustes: BackendSettings, twilio: FakeTwilio
) -> None:
    _agendar(session)
    twilio.fallar = [500, 503]
    t = AHORA
    r1 = notif_svc.enviar_pendientes(session_factory, ajustes, ahora=t)
    assert (r1.enviadas, r1.reintentos) == (0, 1)
    assert _estado(session_factory) == [("CITA_AGENDADA", "PENDIENTE", 1, None)]

    # Not due yet: the first backoff is 30 s.
    assert notif_svc.enviar_pendientes(session_factory, ajustes, ahora=t + timedelta(seconds=29)).reintentos == 0
    assert len(twilio.peticiones) == 1

    r2 = notif_svc.enviar_pendientes(session_factory, ajustes, ahora=t + timedelta(seconds=30))
    assert r2.reintentos == 1
    with session_factory() as s:
        n = s.scalars(select(Notificacion)).one()
        assert utc(n.proximo_intento) == t + timedelta(seconds=90)  # 30 s, then 60 s
        assert "503" in (n.ultimo_error or "")
    assert notif_svc.enviar_pendientes(session_factory, ajustes, ahora=t + timedelta(seconds=89)).enviadas == 0

    r3 = notif_svc.enviar_pendientes(session_factory, ajustes, ahora=t + timedelta(seconds=90))
    assert r3.enviadas == 1
    assert len(twilio.peticiones) == 3
    assert _estado(session_factory) == [("CITA_AGENDADA", "ENVIADA", 3, "SM" + "3".zfill(32))]


def test_error_permanente_no_se_reintenta(
    session: Session, session_factory: sessionmaker[Session], ajustes: BackendSettings, twilio: FakeTwilio
) -> None:
    _agendar(session)
    twilio.fallar = [400]
    r = notif_svc.enviar_pendientes(session_factory, ajustes, ahora=AHORA)
    assert r.fallidas == 1
    notif_svc.enviar_pendientes(session_factory, ajustes, ahora=AHORA + timedelta(days=1))
    assert len(twilio.peticiones) == 1
    assert _estado(session_factory) == [("CITA_AGENDADA", "FALLIDA", 1, None)]


def test_envio_interrumpido_no_se_repite(
    session: Session, session_factory: sessionmaker[Session], ajustes: BackendSettings, twilio: FakeTwilio
) -> None:
    _agendar(session)
    with session_factory() as s:  # a sender claimed the row and died before recording the SID
        assert notif_svc.reclamar(s, ahora=AHORA) != []
    r = notif_svc.enviar_pendientes(session_factory, ajustes, ahora=AHORA + timedelta(minutes=5))
    assert r.fallidas == 1
    assert twilio.peticiones == []
    assert _estado(session_factory)[0][1] == "FALLIDA"


def test_dos_remitentes_a_la_vez_no_duplican(
    session: Session, session_factory: sessionmaker[Session], ajustes: BackendSettings, twilio: FakeTwilio
) -> None:
    for i in range(6):
        _agendar(session, i=i, inicio=mx(2024, 1, 30, 9, 0) + timedelta(minutes=15 * i))
    barrera = threading.Barrier(3)

    def remitente(_: int) -> int:
        barrera.wait(timeout=30)
        return notif_svc.enviar_pendientes(session_factory, ajustes, ahora=AHORA).enviadas

    with ThreadPoolExecutor(3) as pool:
        enviadas = list(pool.map(remitente, range(3)))
    assert sum(enviadas) == 6
    destinatarios = [p["form"]["Body"][0] for p in twilio.peticiones]  # type: ignore[index]
    assert len(destinatarios) == len(set(destinatarios)) == 6
    assert {e[1] for e in _estado(session_factory)} == {"ENVIADA"}


def test_recordatorio_48_horas_antes_y_se_descarta_al_cancelar(
    session: Session, session_factory: sessionmaker[Session], ajustes: BackendSettings, twilio: FakeTwilio
) -> None:
    cita = _agendar(session, inicio=mx(2024, 1, 30, 13, 30))
    notif_svc.enviar_pendientes(session_factory, ajustes, ahora=AHORA)  # booking notice
    r = notif_svc.enviar_pendientes(session_factory, ajustes, ahora=mx(2024, 1, 28, 13, 29))
    assert r.recordatorios == 0  # 48 h and one minute before
    r = notif_svc.enviar_pendientes(session_factory, ajustes, ahora=mx(2024, 1, 28, 13, 30))
    assert (r.recordatorios, r.enviadas) == (1, 1)
    cuerpo = twilio.peticiones[-1]["form"]["Body"][0]  # type: ignore[index]
    assert "le recordamos" in cuerpo and cita.clave in cuerpo
    assert "antes del lunes 29 de enero de 2024 a las 01:30" in cuerpo
    again = notif_svc.enviar_pendientes(session_factory, ajustes, ahora=mx(2024, 1, 29, 9, 0))
    assert (again.recordatorios, again.enviadas) == (0, 0)  # one reminder per cita

    otra = _agendar(session, i=1, inicio=mx(2024, 1, 31, 9, 0))
    with session_factory() as s:
        assert notif_svc.programar_recordatorios(s, ahora=mx(2024, 1, 29, 10, 0)) == 1
    svc.cancelar(session, clave=otra.clave, ahora=mx(2024, 1, 29, 10, 0), derechohabiente=otra.derechohabiente)
    with session_factory() as s:
        recordatorio_otra = s.scalars(select(Notificacion).where(
            Notificacion.cita_id == otra.id, Notificacion.tipo == "RECORDATORIO_CITA")).one()
        assert recordatorio_otra.estado == "DESCARTADA"


def test_sin_telefono_no_se_encola(session: Session) -> None:
    _agendar(session, telefono=None)
    assert session.scalars(select(Notificacion)).all() == []


def test_worker_sin_credenciales_termina_con_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from backend import settings as settings_mod

    monkeypatch.setenv("TWILIO_ACCOUNT_SID", "")
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "")
    settings_mod.get_settings.cache_clear()
    try:
        assert worker_main([]) == 2
    finally:
        settings_mod.get_settings.cache_clear()


def test_worker_de_linea_de_comandos_envia_una_pasada(
    session: Session, db_url: str, twilio: FakeTwilio, monkeypatch: pytest.MonkeyPatch,
    session_factory: sessionmaker[Session],
) -> None:
    from backend import settings as settings_mod

    cita = _agendar(session, canal="SMS")
    for nombre, valor in {"DATABASE_URL": db_url, "TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": TOKEN,
                          "TWILIO_FROM_SMS": "+15005550006", "TWILIO_API_BASE": twilio.url}.items():
        monkeypatch.setenv(nombre, valor)
    settings_mod.get_settings.cache_clear()
    try:
        assert worker_main(["--lote", "10"]) == 0
    finally:
        settings_mod.get_settings.cache_clear()
    assert len(twilio.peticiones) == 1
    assert cita.clave in twilio.peticiones[0]["form"]["Body"][0]  # type: ignore[index]
    assert _estado(session_factory)[0][1] == "ENVIADA"
