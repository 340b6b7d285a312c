"""WhatsApp end to end: the simulator (tools/whatsapp.py, Twilio's validator
from twilio 9) talking to the channel (bot/channels/whatsapp.py, twilio 8).

* with the scripted Rasa (tests/web/rasa_guion.py): signatures across the two
  twilio versions, the CLI, numbered options, media, non-text messages;
* with the whole stack: P3 simulates a loan; P1 gets her hoja de cita as a PDF
  she can download while the link is valid and not after it expires (proved
  in-process with a clock override and against the live backend with links
  signed by the backend's own helper and the stack's TOKEN_SECRET).
"""

from __future__ import annotations

import io
import re
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from tests.web.conftest import PUBLICO_GUION, TOKEN_GUION, rasa_guion  # noqa: F401  (fixture)
from tools.whatsapp import ErrorSimulador, Mensaje, TelefonoWhatsApp, main

CURP_P1, NIP_P1 = "HEGG560427MVZRRL04", "4821"
CURP_P3 = "PEGL890909MJCRMS08"


def opcion(mensajes: list[Mensaje], titulo: str) -> str:
    """The number the channel gave to the option with this title."""
    for m in mensajes:
        for linea in m.cuerpo.splitlines():
            coincide = re.fullmatch(r"(\d+)\. (.+)", linea.strip())
            if coincide and coincide.group(2).strip() == titulo:
                return coincide.group(1)
    raise AssertionError(f"no hay opción «{titulo}» en {[m.cuerpo for m in mensajes]}")


def texto(mensajes: list[Mensaje]) -> str:
    return "\n".join(m.cuerpo for m in mensajes)


# -- against the scripted Rasa ---------------------------------------------------------


@pytest.fixture
def telefono(rasa_guion: str) -> TelefonoWhatsApp:  # noqa: F811
    return TelefonoWhatsApp(
        rasa_url=rasa_guion,
        public_base_url=PUBLICO_GUION,
        auth_token=TOKEN_GUION,
        numero="+5215500000001",
    )


def test_simulator_signatures_are_accepted_by_the_channel(telefono: TelefonoWhatsApp) -> None:
    assert [m.cuerpo for m in telefono.decir("¡Hola!")] == ["¡Entendido! Usted escribió: ¡Hola!"]


def test_a_wrong_token_or_origin_is_refused(rasa_guion: str) -> None:  # noqa: F811
    for token, publico in (("otro-token", PUBLICO_GUION), (TOKEN_GUION, "https://otro.example")):
        intruso = TelefonoWhatsApp(rasa_url=rasa_guion, public_base_url=publico, auth_token=token)
        with pytest.raises(ErrorSimulador, match="403"):
            intruso.decir("saldo")
    sin_firma = TelefonoWhatsApp(
        rasa_url=rasa_guion, public_base_url=PUBLICO_GUION, auth_token=TOKEN_GUION
    )
    r = sin_firma.publicar(sin_firma.parametros("saldo"), firma="")
    assert r.status_code == 403 and "firma" in r.json()["detail"].lower()


def test_numbered_options_media_and_non_text(telefono: TelefonoWhatsApp) -> None:
    respuesta = telefono.decir("quiero simular")
    assert "¿A cuántas quincenas?" in texto(respuesta)
    assert (
        telefono.decir(opcion(respuesta, "48 quincenas"))[0].cuerpo
        == 'Recibí: /informar{"plazo": 48}'
    )
    (hoja, pdf) = telefono.decir("mi hoja de cita")
    assert hoja.cuerpo == "Aquí está su hoja de cita." and pdf.medios == [
        "/chat/static/vendor/socket.io-client.LICENSE"
    ]
    assert "imagen" in texto(telefono.enviar_imagen())
    assert "voz" in texto(telefono.enviar_audio())
    assert "ubicación" in texto(telefono.enviar_ubicacion())


def test_cli_scripted_conversation(rasa_guion: str, monkeypatch, capsys) -> None:  # noqa: F811
    monkeypatch.setenv("RASA_URL", rasa_guion)
    monkeypatch.setenv("PUBLIC_BASE_URL", PUBLICO_GUION)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", TOKEN_GUION)
    assert main(["--numero", "+5215500000002", "--say", "quiero simular", "--say", "uno"]) == 0
    salida = capsys.readouterr().out.splitlines()
    assert "Usted> quiero simular" in salida
    assert "      1. 24 quincenas" in salida
    assert 'CAPP> Recibí: /informar{"plazo": 24}' in salida

    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "equivocado")
    assert main(["--say", "hola"]) == 1
    assert "403" in capsys.readouterr().err


# -- against the whole stack -----------------------------------------------------------


def _telefono_del_stack(stack: Any, numero: str) -> TelefonoWhatsApp:
    return TelefonoWhatsApp(rasa_url=stack.rasa_url, public_base_url=stack.public_base_url,
                            auth_token=stack.twilio_auth_token, numero=numero)


def _sin_datos_personales(mensajes: list[Mensaje], *secretos: str) -> None:
    for m in mensajes:
        for secreto in secretos:
            assert secreto not in m.cuerpo, f"se repitió {secreto!r} en {m.cuerpo!r}"


@pytest.mark.e2e
def test_p3_simulates_a_loan(stack: Any) -> None:
    from sqlalchemy import select

    from backend.models import Derechohabiente

    with stack.session() as s:
        p3 = s.scalars(select(Derechohabiente).where(Derechohabiente.curp == CURP_P3)).one()
        sueldo, telefono_p3 = p3.sueldo_base_mensual, p3.telefono
    tel = _telefono_del_stack(stack, telefono_p3)

    menu = tel.decir("Hola")
    respuesta = tel.decir(opcion(menu, "Simular un préstamo"))
    assert "sueldo" in texto(respuesta).lower()
    respuesta = tel.decir(f"{sueldo}")
    extra = {}
    if "En activo" in texto(respuesta):  # "¿en activo o pensionado?": P3 is asegurada
        respuesta = tel.decir(opcion(respuesta, "En activo"))
        extra["tipo"] = "asegurado"
    if "Primer préstamo" in texto(respuesta):  # "¿primer préstamo o renovación?", if the bot asks
        respuesta = tel.decir(opcion(respuesta, "Primer préstamo"))
        extra["renovacion"] = False
    respuesta = tel.decir(opcion(respuesta, "36 quincenas"))
    resultado = texto(respuesta)
    assert "36 quincenas" in resultado

    esperado = httpx.post(
        f"{stack.backend_url}/api/v1/simulaciones",
        json={
            "producto": "credito_complementario",
            "sueldo_base_mensual": float(sueldo),
            "plazo_quincenas": 36,
            **extra,
        },
        timeout=10,
    ).json()
    montos = [Decimal(m.replace(",", "")) for m in re.findall(r"\$\s?([\d,]+\.\d{2})", resultado)]
    assert Decimal(str(esperado["monto_maximo"])) in montos, resultado
    assert Decimal(str(esperado["descuento_quincenal"])) in montos, resultado


@pytest.mark.e2e
def test_p1_gets_her_hoja_de_cita_as_a_pdf(stack: Any) -> None:
    from backend.deps import reloj
    from backend.main import create_app
    from backend.services.enlaces import sign, verify
    from backend.settings import BackendSettings

    tel = _telefono_del_stack(stack, "+5212295550142")
    conversacion = [tel.decir("Hola"), tel.decir("Quiero que me reenvíen mi hoja de cita")]
    assert "CURP" in texto(conversacion[-1])
    conversacion.append(tel.decir(CURP_P1))
    conversacion.append(tel.decir(NIP_P1))
    medios = [url for m in conversacion[-1] for url in m.medios]
    assert len(medios) == 1, [m.cuerpo for m in conversacion[-1]]
    assert "CC3QZ8" in texto(conversacion[-1])
    for turno in conversacion:
        _sin_datos_personales(turno, CURP_P1, NIP_P1)

    # Twilio fetches the media with no credentials: a real PDF of that cita.
    r = httpx.get(medios[0], timeout=20)
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF")
    contenido = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(r.content)).pages)
    assert "CC3QZ8" in contenido

    # After its expiry the same link is refused (the clock moved, not the link).
    settings = BackendSettings(database_url=stack.db_url, token_secret=stack.token_secret,
                               backend_public_url=stack.backend_url)
    firma = medios[0].rsplit("/", 1)[1]
    expira = verify(settings, firma).expira_en
    app = create_app(settings)
    with TestClient(app) as c:
        ruta = f"/api/v1/archivos/{firma}"
        app.dependency_overrides[reloj] = lambda: expira - timedelta(seconds=1)
        assert c.get(ruta).status_code == 200
        app.dependency_overrides[reloj] = lambda: expira + timedelta(seconds=1)
        r = c.get(ruta)
    assert r.status_code == 410
    assert "expiró" in r.json()["detail"]

    # The live backend too: the same file, linked with the backend's own signing
    # helper and the stack's secret (read-only), with an expiry in the past...
    enlace = verify(settings, firma)
    archivo = f"{stack.backend_url}/api/v1/archivos/"
    vencido, _ = sign(
        settings, kind=enlace.kind, id_=enlace.id, ahora=datetime.now(UTC) - timedelta(days=2)
    )
    r = httpx.get(archivo + vencido, timeout=20)
    assert r.status_code == 410 and "expiró" in r.json()["detail"]
    assert r.headers["content-type"].startswith("application/json")
    # ...and with a short life: fetchable before its expiry, refused after it.
    breve, expira_breve = sign(settings, kind=enlace.kind, id_=enlace.id, ttl=timedelta(seconds=4))
    r = httpx.get(archivo + breve, timeout=20)
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    time.sleep(max(0.0, (expira_breve - datetime.now(UTC)).total_seconds()) + 1)
    r = httpx.get(archivo + breve, timeout=20)
    assert r.status_code == 410 and "expiró" in r.json()["detail"]
    # A link signed with another secret is refused as invalid, not expired.
    ajeno = BackendSettings(database_url=stack.db_url, token_secret="otro-" + stack.token_secret,
                            backend_public_url=stack.backend_url)
    falso, _ = sign(ajeno, kind=enlace.kind, id_=enlace.id)
    r = httpx.get(archivo + falso, timeout=20)
    assert r.status_code == 403 and "no es válido" in r.json()["detail"]
    # The link Twilio got is still good: the clock moved only for the short one.
    assert httpx.get(medios[0], timeout=20).status_code == 200


# -- body size, against the real Rasa ------------------------------------------------


def _rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as estado:
        for linea in estado:
            if linea.startswith("VmRSS:"):
                return int(linea.split()[1])
    raise AssertionError("sin VmRSS")


def test_a_20_mb_body_gets_413_and_rasa_does_not_grow(stack: Any) -> None:
    import socket
    from urllib.parse import urlsplit

    pid = stack.procs["rasa"].popen.pid
    antes = _rss_kib(pid)
    ruta = "/webhooks/whatsapp/webhook"
    partes = urlsplit(stack.rasa_url)
    # Declared 20 MB: answered at once, before the body is read.
    with socket.create_connection((partes.hostname, partes.port), timeout=10) as s:
        s.sendall(
            (
                f"POST {ruta} HTTP/1.1\r\nHost: x\r\nContent-Type: "
                f"application/x-www-form-urlencoded\r\n"
                f"Content-Length: {20 * 1024 * 1024}\r\nX-Twilio-Signature: x\r\n\r\n"
            ).encode()
            + b"x" * 65536
        )
        primera = s.recv(4096).decode("latin-1").split("\r\n", 1)[0]
    assert primera.split()[1] == "413", primera
    # Streamed 20 MB without a length: cut at the limit (the server may close
    # the connection while the rest is still being sent).
    def veinte_megas():
        for _ in range(320):
            yield b"x" * 65536

    try:
        r = httpx.post(
            stack.rasa_url + ruta,
            content=veinte_megas(),
            timeout=30,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": "x",
            },
        )
        assert r.status_code == 413 and "demasiado grande" in r.json()["detail"]
    except (httpx.WriteError, httpx.RemoteProtocolError, httpx.ReadError):
        pass  # closed early: the body was not read either
    assert _rss_kib(pid) - antes < 8 * 1024, "Rasa leyó el cuerpo en memoria"
    # And it still answers ordinary messages.
    assert httpx.get(stack.rasa_url + "/webhooks/whatsapp/", timeout=10).status_code == 200
