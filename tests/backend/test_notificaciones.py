"""The notification sender against a local fake of Twilio's REST API.

The fake is a real HTTP server (http.server in a thread) that records the POSTs
Twilio's own client makes to /2010-04-01/Accounts/{sid}/Messages.json and
answers Twilio-shaped JSON, so the real `twilio.rest.Client` is exercised."""

from __future__ import annotations

import base64
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from backend.models import Cita, Notificacion
from backend.notificaciones.__main__ import main as worker_main
from backend.services import cancelacion_citas as cancelacion
from backend.services import citas as svc
from backend.services import enlaces
from backend.services import envio_notificaciones as envio
from backend.services import hoja_cita as hoja
from backend.services import notificaciones as notif_svc
from backend.services.disponibilidad import utc
from backend.settings import BackendSettings
from tests.backend._citas_apoyo import AHORA, MX, crear_dh, crear_oficina, curp_prueba, mx
from tests.backend.conftest import ROOT

SID = "AC" + "0" * 32
TOKEN = "token-de-prueba"


@dataclass
class FakeTwilio:
    """What the fake received, and how the next requests must misbehave."""

    peticiones: list[dict[str, object]] = field(default_factory=list)
    fallar: list[int] = field(default_factory=list)  # status codes for the next requests
    # Per next request: seconds to wait before answering (the message IS recorded, as
    # Twilio would have accepted it), or "cortar" to drop the connection unanswered.
    demoras: list[float | str] = field(default_factory=list)
    # When set, the first request waits for it (and `recibida` tells it arrived).
    compuerta: threading.Event | None = None
    recibida: threading.Event = field(default_factory=threading.Event)
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
                demora = fake.demoras.pop(0) if fake.demoras else 0.0
                compuerta = fake.compuerta if n == 1 else None
            if compuerta is not None:
                fake.recibida.set()
                compuerta.wait(timeout=30)
            if demora == "cortar":
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            time.sleep(float(demora))
            if status != 201:
                self._json(status, {"code": 20500 if status >= 500 else 21211,
                                    "message": "falla simulada", "more_info": "https://www.twilio.com/docs/errors",
                                    "status": status})
                return
            self._json(
                201,
                {
                    "sid": f"SM{n:032d}",
                    "account_sid": SID,
                    "status": "queued",
                    "to": form["To"][0],
                    "from": form["From"][0],
                    "body": form["Body"][0],
                    "num_media": str(len(form.get("MediaUrl", []))),
                    "num_segments": "1",
                    "direction": "outbound-api",
                    "api_version": "2010-04-01",
                    "date_created": "Mon, 22 Jan 2024 16:07:00 +0000",
                    "date_updated": "Mon, 22 Jan 2024 16:07:00 +0000",
                    "date_sent": None,
                    "error_code": None,
                    "error_message": None,
                    "price": None,
                    "price_unit": "USD",
                    "messaging_service_sid": None,
                    "uri": f"/2010-04-01/Accounts/{SID}/Messages/SM{n:032d}.json",
                    "subresource_uris": {},
                },
            )

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
    return svc.agendar(
        session,
        derechohabiente=dh,
        oficina_id=oficina.id,
        inicio=inicio,
        ahora=AHORA,
        canal_notificacion=canal,
    )


@dataclass
class Bandeja:
    """The outbox under test: its sessions, the sender's settings and the fake Twilio."""

    factory: sessionmaker[Session]
    ajustes: BackendSettings
    twilio: FakeTwilio

    def enviar(
        self, ajustes: BackendSettings | None = None, *, ahora: datetime
    ) -> envio.Resumen:
        """One pass of the sender at `ahora`, with the given settings or the test's."""
        return envio.enviar_pendientes(self.factory, ajustes or self.ajustes, ahora=ahora)

    def estado(self) -> list[tuple[str, str, int, str | None]]:
        return _estado(self.factory)


@pytest.fixture
def bandeja(
    session_factory: sessionmaker[Session], ajustes: BackendSettings, twilio: FakeTwilio
) -> Bandeja:
    return Bandeja(session_factory, ajustes, twilio)


def _estado(factory: sessionmaker[Session]) -> list[tuple[str, str, int, str | None]]:
    with factory() as s:
        return [(n.tipo, n.estado, n.intentos, n.twilio_sid)
                for n in s.scalars(select(Notificacion).order_by(Notificacion.id))]


def test_envia_whatsapp_con_la_hoja_y_no_repite(session: Session, bandeja: Bandeja) -> None:
    cita = _agendar(session)
    r = bandeja.enviar(ahora=AHORA)
    assert (r.enviadas, r.reintentos, r.fallidas) == (1, 0, 0)
    assert len(bandeja.twilio.peticiones) == 1
    peticion = bandeja.twilio.peticiones[0]
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
    enlace = enlaces.verify(bandeja.ajustes, media.rsplit("/", 1)[1], ahora=AHORA)
    assert (enlace.kind, enlace.id) == ("hoja_cita", cita.clave)

    assert bandeja.estado() == [("CITA_AGENDADA", "ENVIADA", 1, "SM" + "1".zfill(32))]
    otra = bandeja.enviar(ahora=AHORA + timedelta(hours=1))
    assert otra.enviadas == 0
    assert len(bandeja.twilio.peticiones) == 1


def test_sms_sin_adjunto_lleva_el_enlace_en_el_texto(session: Session, bandeja: Bandeja) -> None:
    cita = _agendar(session, canal="SMS")
    hoja.reenviar_hoja(session, derechohabiente=cita.derechohabiente, clave=cita.clave, ahora=AHORA)
    bandeja.enviar(ahora=AHORA)
    forms = [p["form"] for p in bandeja.twilio.peticiones]
    assert [f["To"] for f in forms] == [["+5213312345678"], ["+5213312345678"]]  # type: ignore[index]
    assert all(f["From"] == ["+15005550006"] for f in forms)  # type: ignore[index]
    assert "MediaUrl" not in forms[0]  # type: ignore[operator]
    assert "http://testserver/api/v1/archivos/" in forms[1]["Body"][0]  # type: ignore[index]


def test_falla_dos_veces_y_luego_envia_con_backoff(session: Session, bandeja: Bandeja) -> None:
    _agendar(session)
    bandeja.twilio.fallar = [500, 503]
    t = AHORA
    r1 = bandeja.enviar(ahora=t)
    assert (r1.enviadas, r1.reintentos) == (0, 1)
    assert bandeja.estado() == [("CITA_AGENDADA", "PENDIENTE", 1, None)]

    # Not due yet: the first backoff is 30 s.
    assert bandeja.enviar(ahora=t + timedelta(seconds=29)).reintentos == 0
    assert len(bandeja.twilio.peticiones) == 1

    r2 = bandeja.enviar(ahora=t + timedelta(seconds=30))
    assert r2.reintentos == 1
    with bandeja.factory() as s:
        n = s.scalars(select(Notificacion)).one()
        assert utc(n.proximo_intento) == t + timedelta(seconds=90)  # 30 s, then 60 s
        assert "503" in (n.ultimo_error or "")
    assert bandeja.enviar(ahora=t + timedelta(seconds=89)).enviadas == 0

    r3 = bandeja.enviar(ahora=t + timedelta(seconds=90))
    assert r3.enviadas == 1
    assert len(bandeja.twilio.peticiones) == 3
    assert bandeja.estado() == [("CITA_AGENDADA", "ENVIADA", 3, "SM" + "3".zfill(32))]


def test_error_permanente_no_se_reintenta(session: Session, bandeja: Bandeja) -> None:
    _agendar(session)
    bandeja.twilio.fallar = [400]
    r = bandeja.enviar(ahora=AHORA)
    assert r.fallidas == 1
    bandeja.enviar(ahora=AHORA + timedelta(days=1))
    assert len(bandeja.twilio.peticiones) == 1
    assert bandeja.estado() == [("CITA_AGENDADA", "FALLIDA", 1, None)]


def test_envio_interrumpido_queda_incierto_y_solo_el_operador_lo_reencola(
    session: Session, bandeja: Bandeja
) -> None:
    _agendar(session)
    with bandeja.factory() as s:  # a sender claimed the row and died before recording the SID
        assert envio.reclamar_una(s, ahora=AHORA) is not None
    r = bandeja.enviar(ahora=AHORA + timedelta(minutes=5))
    assert (r.inciertas, r.enviadas) == (1, 0)
    assert bandeja.twilio.peticiones == []
    assert bandeja.estado()[0][1] == "INCIERTA"
    bandeja.enviar(ahora=AHORA + timedelta(days=1))
    assert bandeja.twilio.peticiones == []  # never resent on its own

    with bandeja.factory() as s:
        (incierta,) = notif_svc.inciertas(s)
        assert notif_svc.reencolar(s, notificacion_id=incierta.id, ahora=AHORA + timedelta(days=1))
        assert not notif_svc.reencolar(
            s, notificacion_id=incierta.id, ahora=AHORA + timedelta(days=1)
        )
    bandeja.enviar(ahora=AHORA + timedelta(days=1))
    assert len(bandeja.twilio.peticiones) == 1
    assert bandeja.estado()[0][1] == "ENVIADA"


def test_timeout_de_lectura_queda_incierto_y_no_se_reenvia(
    session: Session, bandeja: Bandeja, caplog: pytest.LogCaptureFixture
) -> None:
    _agendar(session)
    bandeja.twilio.demoras = [1.5]  # Twilio takes it but answers after our 0.5 s read timeout
    rapido = bandeja.ajustes.model_copy(update={"twilio_timeout_segundos": 0.5})
    with caplog.at_level(logging.WARNING, logger="backend.notificaciones"):
        r = bandeja.enviar(rapido, ahora=AHORA)
    assert (r.inciertas, r.reintentos, r.enviadas) == (1, 0, 0)
    assert bandeja.estado() == [("CITA_AGENDADA", "INCIERTA", 1, None)]
    with bandeja.factory() as s:
        assert "ReadTimeout" in (s.scalars(select(Notificacion)).one().ultimo_error or "")
    aviso = [m for m in caplog.messages if "INCIERTA" in m]
    assert aviso and "+52*****78" in aviso[0] and "5213312345678" not in " ".join(caplog.messages)

    for horas in (1, 24):  # later passes do not send it again
        bandeja.enviar(rapido, ahora=AHORA + timedelta(hours=horas))
    assert len(bandeja.twilio.peticiones) == 1


def test_conexion_cortada_tras_enviar_queda_incierta(session: Session, bandeja: Bandeja) -> None:
    _agendar(session)
    bandeja.twilio.demoras = ["cortar"]  # the request arrived, the answer never did
    r = bandeja.enviar(ahora=AHORA)
    assert r.inciertas == 1
    bandeja.enviar(ahora=AHORA + timedelta(hours=2))
    assert len(bandeja.twilio.peticiones) == 1
    assert bandeja.estado()[0][1] == "INCIERTA"


def _puerto_cerrado() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_sin_conexion_se_reintenta_y_luego_se_envia_una_vez(
    session: Session, bandeja: Bandeja
) -> None:
    _agendar(session)
    caido = bandeja.ajustes.model_copy(update={"twilio_api_base": f"http://127.0.0.1:{_puerto_cerrado()}"})
    # connection refused: surely not sent
    r = bandeja.enviar(caido, ahora=AHORA)
    assert (r.reintentos, r.inciertas) == (1, 0)
    with bandeja.factory() as s:
        n = s.scalars(select(Notificacion)).one()
        assert (n.estado, utc(n.proximo_intento)) == ("PENDIENTE", AHORA + timedelta(seconds=30))

    bandeja.twilio.fallar = [429]  # Twilio up again but throttling: also surely not sent
    r = bandeja.enviar(ahora=AHORA + timedelta(seconds=30))
    assert r.reintentos == 1
    r = bandeja.enviar(ahora=AHORA + timedelta(seconds=90))
    assert r.enviadas == 1
    assert len(bandeja.twilio.peticiones) == 2  # the 429 and the one that went through
    assert bandeja.estado() == [("CITA_AGENDADA", "ENVIADA", 3, "SM" + "2".zfill(32))]


@pytest.mark.parametrize(("excepcion", "desenlace"), [
    (envio.requests.exceptions.ConnectTimeout("connect timeout"), "reintentable"),
    (envio.requests.exceptions.ReadTimeout("read timeout"), "incierto"),
    (envio.requests.exceptions.ChunkedEncodingError("cut"), "incierto"),
    (ValueError("respuesta ilegible"), "incierto"),
])
def test_clasificacion_de_errores(excepcion: Exception, desenlace: str) -> None:
    assert envio.clasificar_error(excepcion) == desenlace


def test_el_lease_es_por_mensaje_y_solo_su_dueno_registra(
    session: Session, bandeja: Bandeja
) -> None:
    """Sender A claims message 1 and hangs in Twilio; 3 minutes later (A's lease
    is over) sender B runs. Message 2 was never claimed by A, so B sends it;
    message 1 is flagged INCIERTA by B, and A, still its claim holder, records
    the SID when Twilio finally answers. Each message reaches Twilio once."""
    for i in range(2):
        _agendar(session, i=i, inicio=mx(2024, 1, 30, 9, 0) + timedelta(minutes=15 * i))
    bandeja.twilio.compuerta = threading.Event()
    resultado_a: list[envio.Resumen] = []
    hilo = threading.Thread(target=lambda: resultado_a.append(
        bandeja.enviar(ahora=AHORA)))
    hilo.start()
    assert bandeja.twilio.recibida.wait(timeout=30)
    with bandeja.factory() as s:
        assert [n.estado for n in s.scalars(select(Notificacion).order_by(Notificacion.id))] == [
            "ENVIANDO", "PENDIENTE"]  # A holds only the message it is sending
    b = bandeja.enviar(ahora=AHORA + timedelta(minutes=3))
    assert (b.inciertas, b.enviadas) == (1, 1)
    bandeja.twilio.compuerta.set()
    hilo.join(timeout=30)
    assert resultado_a[0].enviadas == 1
    cuerpos = [p["form"]["Body"][0] for p in bandeja.twilio.peticiones]  # type: ignore[index]
    assert len(cuerpos) == len(set(cuerpos)) == 2
    estados = bandeja.estado()
    assert [e[1] for e in estados] == ["ENVIADA", "ENVIADA"]
    assert {e[3] for e in estados} == {"SM" + "1".zfill(32), "SM" + "2".zfill(32)}


def test_un_reclamo_ajeno_no_registra_resultado(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    _agendar(session)
    with session_factory() as s:
        reclamo = envio.reclamar_una(s, ahora=AHORA)
        assert reclamo is not None
        # requeued and re-claimed elsewhere
        s.execute(update(Notificacion).values(reclamo="otro-remitente"))
        s.commit()
        assert not envio.registrar_resultado(s, reclamo, estado="ENVIADA", twilio_sid="SMx")
    assert _estado(session_factory) == [("CITA_AGENDADA", "ENVIANDO", 1, None)]


def test_cancelar_antes_de_enviar_descarta_el_aviso_de_agendada(
    session: Session, bandeja: Bandeja
) -> None:
    cita = _agendar(session)
    cancelacion.cancelar(session, clave=cita.clave, ahora=AHORA + timedelta(minutes=1),
                 derechohabiente=cita.derechohabiente)
    assert sorted((t, e) for t, e, _, _ in bandeja.estado()) == [
        ("CITA_AGENDADA", "DESCARTADA"), ("CITA_CANCELADA", "PENDIENTE")]
    bandeja.enviar(ahora=AHORA + timedelta(minutes=2))
    (peticion,) = bandeja.twilio.peticiones
    assert "quedó cancelada" in peticion["form"]["Body"][0]  # type: ignore[index]


def test_aviso_ya_enviado_no_se_toca_al_cancelar(session: Session, bandeja: Bandeja) -> None:
    cita = _agendar(session)
    bandeja.enviar(ahora=AHORA)
    cancelacion.cancelar(
        session,
        clave=cita.clave,
        ahora=AHORA + timedelta(hours=1),
        derechohabiente=cita.derechohabiente,
    )
    assert sorted((t, e) for t, e, _, _ in bandeja.estado()) == [
        ("CITA_AGENDADA", "ENVIADA"), ("CITA_CANCELADA", "PENDIENTE")]


def test_aviso_reclamado_de_una_cita_cancelada_no_sale(session: Session, bandeja: Bandeja) -> None:
    cita = _agendar(session)
    with bandeja.factory() as s:  # cancelled by another path while the row sat in the outbox
        s.execute(update(Cita).where(Cita.id == cita.id).values(estatus="CANCELADA", lugar=None))
        s.commit()
    r = bandeja.enviar(ahora=AHORA)
    assert (r.descartadas, r.enviadas) == (1, 0)
    assert bandeja.twilio.peticiones == []


def test_dos_remitentes_a_la_vez_no_duplican(session: Session, bandeja: Bandeja) -> None:
    for i in range(6):
        _agendar(session, i=i, inicio=mx(2024, 1, 30, 9, 0) + timedelta(minutes=15 * i))
    barrera = threading.Barrier(3)

    def remitente(_: int) -> int:
        barrera.wait(timeout=30)
        return bandeja.enviar(ahora=AHORA).enviadas

    with ThreadPoolExecutor(3) as pool:
        enviadas = list(pool.map(remitente, range(3)))
    assert sum(enviadas) == 6
    destinatarios = [p["form"]["Body"][0] for p in bandeja.twilio.peticiones]  # type: ignore[index]
    assert len(destinatarios) == len(set(destinatarios)) == 6
    assert {e[1] for e in bandeja.estado()} == {"ENVIADA"}


def test_recordatorio_48_horas_antes_y_se_descarta_al_cancelar(
    session: Session, bandeja: Bandeja
) -> None:
    cita = _agendar(session, inicio=mx(2024, 1, 30, 13, 30))
    bandeja.enviar(ahora=AHORA)  # booking notice
    r = bandeja.enviar(ahora=mx(2024, 1, 28, 13, 29))
    assert r.recordatorios == 0  # 48 h and one minute before
    r = bandeja.enviar(ahora=mx(2024, 1, 28, 13, 30))
    assert (r.recordatorios, r.enviadas) == (1, 1)
    cuerpo = bandeja.twilio.peticiones[-1]["form"]["Body"][0]  # type: ignore[index]
    assert "le recordamos" in cuerpo and cita.clave in cuerpo
    assert "antes del lunes 29 de enero de 2024 a las 01:30" in cuerpo
    again = bandeja.enviar(ahora=mx(2024, 1, 29, 9, 0))
    assert (again.recordatorios, again.enviadas) == (0, 0)  # one reminder per cita

    otra = _agendar(session, i=1, inicio=mx(2024, 1, 31, 9, 0))
    with bandeja.factory() as s:
        assert notif_svc.programar_recordatorios(s, ahora=mx(2024, 1, 29, 10, 0)) == 1
    cancelacion.cancelar(
        session,
        clave=otra.clave,
        ahora=mx(2024, 1, 29, 10, 0),
        derechohabiente=otra.derechohabiente,
    )
    with bandeja.factory() as s:
        recordatorio_otra = s.scalars(select(Notificacion).where(
            Notificacion.cita_id == otra.id, Notificacion.tipo == "RECORDATORIO_CITA")).one()
        assert recordatorio_otra.estado == "DESCARTADA"


def test_sin_telefono_no_se_encola(session: Session) -> None:
    _agendar(session, telefono=None)
    assert session.scalars(select(Notificacion)).all() == []


def _entorno_sin_twilio(monkeypatch: pytest.MonkeyPatch, db_url: str) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)
    for nombre in (
        "TWILIO_ACCOUNT_SID",
        "TWILIO_AUTH_TOKEN",
        "TWILIO_FROM_SMS",
        "TWILIO_FROM_WHATSAPP",
    ):
        monkeypatch.setenv(nombre, "")


def test_worker_sin_credenciales_programa_y_guarda(
    session: Session,
    session_factory: sessionmaker[Session],
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from backend import settings as settings_mod

    # Booked long ago for the day after tomorrow: its 48 h reminder is due now.
    manana = mx(2024, 1, 24, 10, 0)
    dh = crear_dh(session, curp=curp_prueba(1))
    oficina = crear_oficina(session)
    svc.agendar(
        session,
        derechohabiente=dh,
        oficina_id=oficina.id,
        inicio=manana,
        ahora=manana - timedelta(days=9),
    )
    monkeypatch.setattr(
        "backend.notificaciones.__main__._ahora", lambda: manana - timedelta(hours=47)
    )
    _entorno_sin_twilio(monkeypatch, db_url)
    settings_mod.get_settings.cache_clear()
    try:
        with caplog.at_level(logging.INFO, logger="backend.notificaciones"):
            assert worker_main([]) == 0
    finally:
        settings_mod.get_settings.cache_clear()
    assert sorted((t, e) for t, e, _, _ in _estado(session_factory)) == [
        ("CITA_AGENDADA", "PENDIENTE"), ("RECORDATORIO_CITA", "PENDIENTE")]
    assert sum("desactivada" in m for m in caplog.messages) == 1


def _env_worker(db_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"DATABASE_URL": db_url, "PYTHONPATH": str(ROOT)})
    # Explicitly empty: these also beat any TWILIO_* a developer's .env may hold.
    env.update(
        {
            k: ""
            for k in (
                "TWILIO_ACCOUNT_SID",
                "TWILIO_AUTH_TOKEN",
                "TWILIO_FROM_SMS",
                "TWILIO_FROM_WHATSAPP",
            )
        }
    )
    return env


def _correr_worker(env: dict[str, str], hasta: object, *, limite: float = 30.0) -> tuple[int, str]:
    """Run `python -m backend.notificaciones --loop` until `hasta()` holds, then SIGTERM it."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "backend.notificaciones", "--loop", "--intervalo", "0.2"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        fin = time.monotonic() + limite
        while time.monotonic() < fin and proc.poll() is None and not hasta():  # type: ignore[operator]
            time.sleep(0.2)
        assert proc.poll() is None, "el worker terminó solo:\n" + (
            proc.stdout.read() if proc.stdout else ""
        )
        proc.send_signal(signal.SIGTERM)
        salida, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    return proc.returncode, salida


def test_worker_en_bucle_sin_twilio_no_termina_y_programa_recordatorios(
    session: Session, session_factory: sessionmaker[Session], db_url: str
) -> None:
    ahora = datetime.now(MX)
    dh = crear_dh(session, curp=curp_prueba(2))
    oficina = crear_oficina(session)
    cita = Cita(
        clave="RECO48",
        derechohabiente_id=dh.id,
        oficina_id=oficina.id,
        lugar=1,
        estatus="AGENDADA",
        inicio=ahora + timedelta(hours=40),
        fin=ahora + timedelta(hours=40, minutes=15),
        creado_en=ahora - timedelta(days=5),
        canal_notificacion="SMS",
    )
    session.add(cita)
    session.commit()

    def hay_recordatorio() -> bool:
        return any(t == "RECORDATORIO_CITA" for t, *_ in _estado(session_factory))

    codigo, salida = _correr_worker(_env_worker(db_url), hay_recordatorio)
    assert hay_recordatorio() and codigo == 0
    assert [e for t, e, _, _ in _estado(session_factory)] == ["PENDIENTE"]
    assert salida.count("desactivada") == 1, salida
    assert "Traceback" not in salida


def test_worker_en_bucle_sobrevive_sin_base_de_datos() -> None:
    env = _env_worker(f"postgresql+psycopg://nadie@127.0.0.1:{_puerto_cerrado()}/nada")
    inicio = time.monotonic()
    codigo, salida = _correr_worker(env, lambda: time.monotonic() - inicio > 3)
    assert codigo == 0
    assert salida.count("la pasada falló") >= 2, salida  # it kept trying instead of dying
    assert "Traceback" not in salida


def test_worker_de_linea_de_comandos_envia_una_pasada(
    session: Session, db_url: str, twilio: FakeTwilio, monkeypatch: pytest.MonkeyPatch,
    session_factory: sessionmaker[Session],
) -> None:
    from backend import settings as settings_mod

    cita = _agendar(session, canal="SMS")
    for nombre, valor in {
        "DATABASE_URL": db_url,
        "TWILIO_ACCOUNT_SID": SID,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_FROM_SMS": "+15005550006",
        "TWILIO_API_BASE": twilio.url,
    }.items():
        monkeypatch.setenv(nombre, valor)
    settings_mod.get_settings.cache_clear()
    try:
        assert worker_main(["--lote", "10"]) == 0
    finally:
        settings_mod.get_settings.cache_clear()
    assert len(twilio.peticiones) == 1
    assert cita.clave in twilio.peticiones[0]["form"]["Body"][0]  # type: ignore[index]
    assert _estado(session_factory)[0][1] == "ENVIADA"


def test_el_motivo_de_no_entregar_nombra_solo_lo_que_falta() -> None:
    from backend.services.envio_notificaciones import faltante_para_entregar

    base = {
        "twilio_account_sid": "",
        "twilio_auth_token": "",
        "twilio_from_sms": "",
        "twilio_from_whatsapp": "",
    }
    casos = [
        ({}, "faltan TWILIO_ACCOUNT_SID y TWILIO_AUTH_TOKEN"),
        # make run's .env has only the token
        ({"twilio_auth_token": "tok"}, "falta TWILIO_ACCOUNT_SID"),
        ({"twilio_account_sid": "AC1"}, "falta TWILIO_AUTH_TOKEN"),
        (
            {"twilio_account_sid": "AC1", "twilio_auth_token": "tok"},
            "faltan TWILIO_FROM_SMS y TWILIO_FROM_WHATSAPP",
        ),
        (
            {
                "twilio_account_sid": "AC1",
                "twilio_auth_token": "tok",
                "twilio_from_sms": "+5215500000000",
            },
            None,
        ),
    ]
    for campos, motivo in casos:
        assert faltante_para_entregar(BackendSettings(**{**base, **campos})) == motivo, campos
