"""The bridge to Rasa: its own timeout (<= 8 s, Twilio waits 15 s), and an
apology with the asesor option instead of silence whenever Rasa fails."""

from __future__ import annotations

import asyncio
import time
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from ivr.main import crear_app
from ivr.rasa import ClienteRasa, ErrorRasa, Interpretacion
from ivr.settings import IVRSettings
from tests.ivr.conftest import RASA_TOKEN, FakeRasa, post_twiml, texto_dicho


def test_el_timeout_de_rasa_no_puede_pasar_de_8_segundos():
    with pytest.raises(ValidationError):
        IVRSettings(_env_file=None, ivr_rasa_timeout=9)
    assert IVRSettings(_env_file=None).ivr_rasa_timeout <= 8


CASOS = [
    ("/ivr/menu?nodo=citas&i=0&n=2", {"CallSid": "CA1", "Digits": "1"}),  # leaf start
    # interpret
    ("/ivr/menu?nodo=capp&i=0&n=2", {"CallSid": "CA1", "SpeechResult": "quiero cancelar mi cita"}),
    (
        "/ivr/conversacion?desde=citas&slot=clave_cita&i=0&n=3",
        {"CallSid": "CA1", "SpeechResult": "ce ce tres cu zeta ocho"},
    ),
    # silence -> repeat
    ("/ivr/conversacion?desde=citas&slot=clave_cita&i=0&n=3", {"CallSid": "CA1"}),
]
# An empty answer cannot happen on "repeat" (nothing was said before), so that
# pair is left out; every other failure mode meets every kind of turn.
PARES = [
    (modo, path, params)
    for modo in ["lento", "caido", "error", "vacio"]
    for path, params in CASOS
    if not (modo == "vacio" and "SpeechResult" not in params and "Digits" not in params)
]


@pytest.mark.parametrize(("modo", "path", "params"), PARES)
def test_falla_de_rasa_da_disculpa_y_opcion_de_asesor(
    client, fake_rasa, ivr_settings, modo, path, params
):
    fake_rasa.interpretaciones["quiero cancelar mi cita"] = ("cancelar_cita", 0.9)
    fake_rasa.modo = modo
    inicio = time.monotonic()
    raiz = post_twiml(client, path, params)
    assert time.monotonic() - inicio < ivr_settings.ivr_rasa_timeout + 1.5
    dicho = texto_dicho(raiz)
    assert "Una disculpa" in dicho and "asesor, marque cero" in dicho
    gather = raiz.find("Gather")
    assert gather is not None and raiz[-1].tag == "Redirect"
    q = {k: v[0] for k, v in parse_qs(urlsplit(gather.get("action")).query).items()}
    assert int(q["i"]) == ivr_settings.ivr_reintentos + 1  # next silence ends the call politely


def test_tras_la_disculpa_el_silencio_cuelga_y_el_cero_transfiere(telefono, fake_rasa):
    fake_rasa.modo = "caido"
    llamada = telefono.llamar(["5", "1", "1", "-"])
    assert llamada.final == "hangup" and "Una disculpa" in llamada.dicho()
    llamada = telefono.llamar(["5", "2", "0"])
    assert llamada.final == "dial"


def test_silencio_sin_respuesta_previa_no_es_silencio(client, fake_rasa):
    raiz = post_twiml(client, "/ivr/conversacion?desde=capp&i=0&n=3", {"CallSid": "CA-nuevo"})
    assert "No escuché su respuesta" in texto_dicho(raiz)
    assert raiz.find("Gather") is not None


def test_cliente_respeta_su_timeout():
    async def lento(request):
        await asyncio.sleep(3)
        return httpx.Response(200, json={})

    async def probar():
        cliente = ClienteRasa("http://rasa.test", timeout=0.2, transport=httpx.MockTransport(lento))
        try:
            with pytest.raises(ErrorRasa):
                await cliente.enviar("CA1", "hola")
        finally:
            await cliente.aclose()

    inicio = time.monotonic()
    asyncio.run(probar())
    assert time.monotonic() - inicio < 1.5


def test_cliente_lee_la_respuesta_del_canal():
    asyncio.run(_lee_la_respuesta())


async def _lee_la_respuesta():
    fake = FakeRasa()
    cliente = ClienteRasa(
        "http://rasa.test", timeout=1, token=RASA_TOKEN, transport=httpx.MockTransport(fake)
    )
    antes = time.time()
    r = await cliente.enviar("CA9", "/cancelar_cita", {"canal": "telefono"})
    assert r.requested_slot == "clave_cita" and r.active_loop == "cancelar_cita_form"
    assert r.mensajes == ["Con gusto. ¿Cuál es la clave de su cita?"]
    recibido = fake.recibidos[0]
    metadata = recibido.pop("metadata")
    assert recibido == {
        "path": "/webhooks/ivr/webhook",
        "sender": "CA9",
        "message": "/cancelar_cita",
    }
    # Each turn: its own key and the moment the IVR stops waiting (its timeout).
    assert metadata["canal"] == "telefono" and metadata["idempotencia"].startswith("ivr-")
    assert antes + 1 - 0.001 <= metadata["vence"] <= time.time() + 1
    await cliente.enviar("CA9", "/cancelar_cita", {"canal": "telefono"})
    assert fake.recibidos[-1]["metadata"]["idempotencia"] != metadata["idempotencia"]
    assert (await cliente.repetir("CA9")).mensajes == r.mensajes
    assert await cliente.repetir("CA-otro") is None
    await cliente.aclose()


def test_cliente_envia_el_token_del_canal_en_cada_ruta():
    vistos: list[tuple[str, str | None]] = []

    async def rasa(request: httpx.Request) -> httpx.Response:
        vistos.append((request.url.path, request.headers.get("Authorization")))
        if request.url.path.endswith("/interpretar"):
            return httpx.Response(200, json={"intent": "faq", "confidence": 0.8, "entities": [
                {"entity": "clave_cita", "value": "CC3QZ8"}, {"entity": "monto", "value": None}]})
        return httpx.Response(200, json={"mensajes": ["hola"]})

    async def probar():
        cliente = ClienteRasa(
            "http://rasa.test", timeout=1, token="s3creto", transport=httpx.MockTransport(rasa)
        )
        try:
            await cliente.enviar("CA1", "hola")
            assert await cliente.interpretar("x") == Interpretacion("faq", 0.8)
            await cliente.repetir("CA1")
        finally:
            await cliente.aclose()

    asyncio.run(probar())
    assert [p for p, _ in vistos] == [
        "/webhooks/ivr/webhook",
        "/webhooks/ivr/interpretar",
        "/webhooks/ivr/repetir",
    ]
    assert {a for _, a in vistos} == {"Bearer s3creto"}


@pytest.mark.parametrize("token_del_ivr", [None, "otro-token"])
def test_token_ausente_o_distinto_da_disculpa_y_un_error_en_el_log(
    ivr_settings, fake_rasa, caplog, token_del_ivr
):
    """RASA_TOKEN unset in the ivr, or different from Rasa's: Rasa refuses (401/403);
    the caller hears the apology with the asesor, and the log says why."""
    ivr_settings.rasa_token = token_del_ivr
    rasa = ClienteRasa(
        "http://rasa.test",
        timeout=0.5,
        token=token_del_ivr,
        transport=httpx.MockTransport(fake_rasa),
    )
    with TestClient(crear_app(ivr_settings, rasa=rasa), base_url="http://testserver") as c:
        raiz = post_twiml(c, "/ivr/menu?nodo=citas&i=0&n=2", {"CallSid": "CA1", "Digits": "1"})
    assert "Una disculpa" in texto_dicho(raiz) and "asesor, marque cero" in texto_dicho(raiz)
    assert raiz.find("Gather") is not None and raiz[-1].tag == "Redirect"
    assert fake_rasa.rechazados == 1 and fake_rasa.mensajes() == []
    assert any("RASA_TOKEN" in r.getMessage() for r in caplog.records if r.levelname == "ERROR")


def test_sin_token_el_cliente_no_inventa_cabecera():
    async def probar():
        fake = FakeRasa()
        cliente = ClienteRasa(
            "http://rasa.test", timeout=1, token=None, transport=httpx.MockTransport(fake)
        )
        try:
            with pytest.raises(ErrorRasa, match="401"):
                await cliente.enviar("CA1", "hola")
        finally:
            await cliente.aclose()
        assert fake.rechazados == 1

    asyncio.run(probar())


def test_segunda_falla_seguida_pasa_al_asesor(telefono, fake_rasa):
    """After the apology (the last chance), a second failure in a row is no reason
    to apologise again and again: the caller goes to an asesor."""
    fake_rasa.modo = "caido"
    llamada = telefono.llamar(["5", "1", "1", "say:quiero cancelar mi cita", "-"])
    assert llamada.final == "dial"
    assert llamada.dicho().count("Una disculpa") == 2
    assert "Le comunico con un asesor" in llamada.dicho_despues_de(3)
