"""Failover of the Rasa tier, on the production shape (tools/cluster.py):
PostgreSQL tracker store, Redis lock store, two Rasa replicas, two action
servers, two backend workers, the IVR, nginx in front.

What was lost before (one Rasa, conversations in its memory) and must not be
now: a phone call whose replica dies between the CURP and the NIP, a form in
progress when the whole tier restarts, turns of many conversations spread
over replicas, and a WhatsApp reply whose replica died mid-turn.
"""

from __future__ import annotations

import json
import os
import re
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from twilio.request_validator import RequestValidator

from ivr import locucion
from ivr.simulator import Telefono
from tests import pgcluster
from tests.e2e.stack import en_marcha, free_port
from tools.cluster import Cluster

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

P1 = {"curp": "HEGG560427MVZRRL04", "nip": "4821"}
P1_CURP_DICHA = (
    "hache e ge ge cincuenta y seis cero cuatro veintisiete eme ve de vaca zeta erre erre ele "
    "cero cuatro"
)
REST = "/webhooks/rest/webhook"
WHATSAPP = "/webhooks/whatsapp/webhook"
CUENTA = "AC" + "c" * 32
NUMERO_CAPP = "whatsapp:+14155238886"


class TwilioDeMentira:
    """A local stand-in for api.twilio.com's Messages API: records each send."""

    def __init__(self) -> None:
        self.enviados: list[dict[str, list[str]]] = []
        registro = self.enviados

        class Manejador(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                largo = int(self.headers.get("Content-Length") or 0)
                registro.append(parse_qs(self.rfile.read(largo).decode()))
                cuerpo = json.dumps({"sid": "SM" + uuid.uuid4().hex, "status": "queued"}).encode()
                self.send_response(201)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(cuerpo)))
                self.end_headers()
                self.wfile.write(cuerpo)

            def log_message(self, *args: Any) -> None:
                pass

        self.servidor = ThreadingHTTPServer(("127.0.0.1", free_port()), Manejador)
        self.url = f"http://127.0.0.1:{self.servidor.server_address[1]}"
        threading.Thread(target=self.servidor.serve_forever, daemon=True).start()

    def para(self, numero: str) -> list[str]:
        return [e["Body"][0] for e in self.enviados if e.get("To") == [numero] and e.get("Body")]


@pytest.fixture(scope="module")
def twilio() -> Iterator[TwilioDeMentira]:
    t = TwilioDeMentira()
    yield t
    t.servidor.shutdown()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, twilio: TwilioDeMentira) -> Iterator[Cluster]:
    propio = None
    url = os.environ.get("TEST_POSTGRES_URL")
    if not url:  # run alone: bring a server up rather than skip
        propio = pgcluster.start()
        url = propio.url
    trabajo = Path(tmp_path_factory.mktemp("cluster"))
    c = Cluster(
        trabajo,
        url,
        extra_env={
            "TWILIO_ACCOUNT_SID": CUENTA,
            "TWILIO_API_BASE": twilio.url,
            "TWILIO_FROM_WHATSAPP": NUMERO_CAPP,
            # Short, so the WhatsApp failover test waits seconds, not minutes.
            "WHATSAPP_ESPERA_MAXIMA": "1.5",
            "WHATSAPP_PLAZO_TURNO": "3",
            # Rasa and the action server log everything they may (privacy test).
            "LOG_LEVEL": "DEBUG",
            "IVR_REGISTRO_PATH": str(trabajo / "ivr_llamadas.jsonl"),
        },
    )
    try:
        with en_marcha(c):
            yield c
    finally:
        if propio is not None:
            propio.stop()


def _asegurar_replicas(c: Cluster) -> None:
    for i in range(len(c.rasa_ports)):
        proc = c.procs[f"rasa{i}"]
        if proc.popen is None or proc.popen.poll() is not None:
            c.arrancar(f"rasa{i}")
            c.esperar_rasa(i)


def _di(url: str, token: str, sender: str, mensaje: str) -> list[dict[str, Any]]:
    r = httpx.post(f"{url}{REST}", json={"sender": sender, "message": mensaje},
                   headers={"Authorization": f"Bearer {token}"}, timeout=60)
    r.raise_for_status()
    return r.json()


def _texto(mensajes: list[dict[str, Any]]) -> str:
    return "\n".join(m.get("text", "") for m in mensajes)


def _tracker(c: Cluster, sender: str, i: int = 0) -> dict[str, Any]:
    r = httpx.get(c.rasa_api(f"/conversations/{sender}/tracker", i), timeout=10)
    r.raise_for_status()
    return r.json()


def _usuario(tracker: dict[str, Any]) -> list[str]:
    return [e["text"] for e in tracker["events"] if e["event"] == "user"]


def _saldo(c: Cluster) -> Decimal:
    token = httpx.post(f"{c.public_url}/api/v1/identidad/verificar", json=P1, timeout=10).json()[
        "token"
    ]
    r = httpx.get(
        f"{c.public_url}/api/v1/prestamos/saldo",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    return Decimal(str(r.json()["saldo_deudor_total"]))


def test_una_replica_muere_entre_la_curp_y_el_nip_y_la_llamada_termina(cluster):
    _asegurar_replicas(cluster)
    telefono = Telefono(cluster.public_url, cluster.twilio_auth_token, cluster.public_url)
    muerta: list[float] = []

    def teclear(_: str) -> str | None:
        if not muerta:  # the CURP turn was answered: kill a replica, then key the NIP
            inicio = time.monotonic()
            cluster.matar("rasa0")
            muerta.append(time.monotonic() - inicio)
            return P1["nip"]
        return "colgar"

    inicio = time.monotonic()
    llamada = telefono.llamar(["5", "2", f"say:{P1_CURP_DICHA}"], leer=teclear)
    duracion = time.monotonic() - inicio
    assert muerta, "la llamada nunca llegó a pedir el NIP"
    despues = llamada.dicho_despues_de(3)
    assert locucion.dinero(_saldo(cluster)) in despues
    assert "no le entendí" not in despues.lower() and "curp" not in despues.lower()
    assert llamada.final in {"hangup", "dial", "enqueue", "caller_colgó"}
    print(f"\nllamada con una réplica muerta a media llamada: {duracion:.1f} s")
    # The only replica left served the NIP turn from the shared tracker.
    eventos = _tracker(cluster, llamada.call_sid, 1)["events"]
    assert sum(1 for e in eventos if e["event"] == "user") >= 2
    cluster.arrancar("rasa0")
    cluster.esperar_rasa(0)


def test_reiniciar_todo_rasa_a_media_simulacion_no_pierde_el_formulario(cluster):
    _asegurar_replicas(cluster)
    sender = f"reinicio-{uuid.uuid4().hex[:8]}"
    url = cluster.public_url
    assert (
        "sueldo"
        in _texto(
            _di(
                url,
                cluster.rasa_token,
                sender,
                "quiero simular un préstamo especial, sigo trabajando",
            )
        ).lower()
    )
    antes = _tracker(cluster, sender)
    assert antes["active_loop"]["name"]
    inicio = time.monotonic()
    for i in range(len(cluster.rasa_ports)):
        cluster.detener(f"rasa{i}")
    for i in range(len(cluster.rasa_ports)):
        cluster.arrancar(f"rasa{i}")
    for i in range(len(cluster.rasa_ports)):
        cluster.esperar_rasa(i)
    print(f"\nreinicio del nivel Rasa completo: {time.monotonic() - inicio:.1f} s")
    despues = _tracker(cluster, sender, 1)
    assert despues["active_loop"] == antes["active_loop"]
    assert _usuario(despues) == _usuario(antes)
    # The form goes on where it was: the salary is taken, the plazo asked.
    pide_plazo = _texto(_di(url, cluster.rasa_token, sender, "12690.80"))
    assert "quincenas" in pide_plazo
    resultado = _texto(_di(url, cluster.rasa_token, sender, "48"))
    esperado = httpx.post(
        f"{url}/api/v1/simulaciones",
        json={"producto": "especial", "sueldo_base_mensual": 12690.80, "plazo_quincenas": 48},
        timeout=10,
    ).json()
    assert f"{esperado['monto_maximo']:,.2f}" in resultado


def test_veinte_conversaciones_en_paralelo_alternando_replicas(cluster):
    _asegurar_replicas(cluster)
    guion = ["quiero simular un préstamo especial, sigo trabajando", "12690.80", "48"]
    esperado = httpx.post(
        f"{cluster.public_url}/api/v1/simulaciones",
        json={"producto": "especial", "sueldo_base_mensual": 12690.80, "plazo_quincenas": 48},
        timeout=10,
    ).json()

    def conversar(n: int) -> tuple[str, str]:
        sender = f"paralelo-{n}-{uuid.uuid4().hex[:6]}"
        ultima = ""
        for turno, mensaje in enumerate(guion):
            # Each turn to the other replica than the one before.
            ultima = _texto(
                _di(cluster.rasa_url((n + turno) % 2), cluster.rasa_token, sender, mensaje)
            )
        return sender, ultima

    inicio = time.monotonic()
    with ThreadPoolExecutor(max_workers=20) as grupo:
        resultados = list(grupo.map(conversar, range(20)))
    print(f"\n20 conversaciones x 3 turnos alternando réplicas: {time.monotonic() - inicio:.1f} s")
    for sender, ultima in resultados:
        assert f"{esperado['monto_maximo']:,.2f}" in ultima, (sender, ultima)
        assert _usuario(_tracker(cluster, sender)) == guion  # each turn exactly once, in order


def _whatsapp(c: Cluster, i: int, numero: str, cuerpo: str) -> httpx.Response:
    params = {"From": numero, "To": NUMERO_CAPP, "Body": cuerpo, "NumMedia": "0",
              "MessageSid": "SM" + uuid.uuid4().hex}
    firma = RequestValidator(c.twilio_auth_token).compute_signature(c.public_url + WHATSAPP, params)
    return httpx.post(
        f"{c.rasa_url(i)}{WHATSAPP}", data=params, headers={"X-Twilio-Signature": firma}, timeout=30
    )


def test_respuesta_tardia_de_whatsapp_llega_una_vez_aunque_muera_su_replica(cluster, twilio):
    _asegurar_replicas(cluster)
    numero = f"whatsapp:+52155{uuid.uuid4().int % 10**8:08d}"
    assert (
        "sueldo"
        in _whatsapp(
            cluster, 0, numero, "quiero simular un préstamo especial, sigo trabajando"
        ).text.lower()
    )
    acciones = [cluster.procs[n].popen for n in ("actions0", "actions1")]
    for p in acciones:  # the validation of the salary hangs...
        p.send_signal(signal.SIGSTOP)
    try:
        r = _whatsapp(cluster, 0, numero, "12690.80")
        assert r.status_code == 200 and "tardando" in r.text  # ...the webhook apologised in time
        cluster.matar("rasa0")  # and the replica running the turn dies
    finally:
        for p in acciones:
            p.send_signal(signal.SIGCONT)
    inicio = time.monotonic()
    while not twilio.para(numero) and time.monotonic() - inicio < 60:
        time.sleep(0.5)
    llegada = time.monotonic() - inicio
    time.sleep(4)  # more than a rescue round and a lease: nothing else may arrive
    enviados = twilio.para(numero)
    print(f"\nrespuesta rescatada por la otra réplica en {llegada:.1f} s")
    assert len(enviados) == 1, enviados
    assert "quincenas" in enviados[0]
    # The person goes on with the other replica from where the form was.
    cluster.arrancar("rasa0")
    cluster.esperar_rasa(0)
    assert _usuario(_tracker(cluster, numero, 1)) == [
        "quiero simular un préstamo especial, sigo trabajando",
        "12690.80",
    ]


# -- privacy and least privilege ------------------------------------------------------

JWT = re.compile(r"eyJ[\w-]{5,}\.[\w-]{5,}\.[\w-]{5,}")
NIP = re.compile(r"(?<!\d)4821(?!\d)")


def _sin_datos_personales(texto: str, donde: str) -> None:
    assert P1["curp"] not in texto.upper(), f"CURP en claro en {donde}"
    assert not NIP.search(texto), (
        f"NIP en {donde}: {texto[max(NIP.search(texto).start() - 80, 0) :][:160]!r}"
    )
    assert not JWT.search(texto), f"token de identidad en {donde}"


def test_ni_nip_ni_curp_ni_token_en_trackers_ni_registros(cluster, twilio):
    """Identified conversations on the three channels, Rasa and the action
    server at DEBUG: no tracker (through the API or in the SQL store) and no
    log line holds the NIP, the clear CURP or an identity token."""
    _asegurar_replicas(cluster)
    saldo = locucion.dinero(_saldo(cluster))
    # REST
    rest = f"privacidad-{uuid.uuid4().hex[:8]}"
    _di(cluster.public_url, cluster.rasa_token, rest, "quiero saber mi saldo")
    _di(cluster.public_url, cluster.rasa_token, rest, P1["curp"])
    assert "$" in _texto(_di(cluster.public_url, cluster.rasa_token, rest, P1["nip"]))
    # Phone
    llamada = Telefono(cluster.public_url, cluster.twilio_auth_token, cluster.public_url).llamar(
        ["5", "2", f"say:{P1_CURP_DICHA}", P1["nip"], "colgar"])
    assert saldo in llamada.dicho_despues_de(3)
    # WhatsApp
    numero = f"whatsapp:+52155{uuid.uuid4().int % 10**8:08d}"
    for i, texto in enumerate(["quiero saber mi saldo", P1["curp"], P1["nip"]]):
        r = _whatsapp(cluster, i % 2, numero, texto)
        assert r.status_code == 200
    assert "$" in r.text and P1["nip"] not in r.text
    for sender in (rest, llamada.call_sid, numero):
        tracker = json.dumps(_tracker(cluster, sender), ensure_ascii=False)
        assert "sellado:v1:" in tracker  # the identity is there, sealed
        _sin_datos_personales(tracker, f"el tracker de {sender} (API)")
    from sqlalchemy import create_engine, text

    engine = create_engine(cluster.tracker_url)
    with engine.connect() as con:
        filas = con.execute(text("SELECT data FROM events")).scalars().all()
    engine.dispose()
    assert len(filas) > 30
    _sin_datos_personales("\n".join(filas), "el almacén SQL de conversaciones")
    registros = sorted(cluster.workdir.glob("*.log")) + sorted(cluster.workdir.glob("*.jsonl"))
    assert any(
        "DEBUG" in r.read_text(errors="replace") for r in registros if r.name.startswith("rasa")
    )
    for registro in registros:
        _sin_datos_personales(registro.read_text(errors="replace"), registro.name)


def test_el_token_de_los_canales_no_abre_la_api_de_rasa(cluster):
    _asegurar_replicas(cluster)
    url = cluster.rasa_url(0)
    for peticion in (
        httpx.get(f"{url}/status?token={cluster.rasa_token}", timeout=10),
        httpx.get(
            f"{url}/status", headers={"Authorization": f"Bearer {cluster.rasa_token}"}, timeout=10
        ),
        httpx.get(f"{url}/conversations/x/tracker?token={cluster.rasa_token}", timeout=10),
    ):
        assert peticion.status_code in (401, 403)
    assert httpx.get(cluster.rasa_api("/status"), timeout=10).status_code == 200
    # The action server answers only Rasa.
    acciones = f"http://127.0.0.1:{cluster.actions_ports[0]}"
    assert (
        httpx.post(
            f"{acciones}/webhook", json={"next_action": "action_consultar_saldo"}, timeout=10
        ).status_code
        == 401
    )
    assert httpx.get(f"{acciones}/health", timeout=10).status_code == 200
