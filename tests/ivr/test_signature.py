"""X-Twilio-Signature on every Twilio endpoint: fail closed."""

from __future__ import annotations

import httpx
import pytest
from fastapi.testclient import TestClient
from twilio.request_validator import RequestValidator

from ivr.main import crear_app
from ivr.rasa import ClienteRasa
from tests.ivr.conftest import PUBLIC, TOKEN, firmar

ENDPOINTS = [
    "/ivr/voice",
    "/ivr/menu?nodo=capp&i=0&n=1",
    "/ivr/conversacion?desde=capp&n=2",
    "/ivr/asesor/fin",
    "/ivr/asesor/espera",
    "/ivr/fallback",
    "/ivr/estado",
]
PARAMS = {"CallSid": "CA123", "From": "+525512345678", "Digits": "5"}


@pytest.mark.parametrize("path", ENDPOINTS)
def test_sin_firma_403(client, path):
    r = client.post(path, data=PARAMS)
    assert r.status_code == 403
    assert r.json()["detail"] == "Firma de Twilio inválida."


@pytest.mark.parametrize("path", ENDPOINTS)
def test_firma_de_otro_token_403(client, path):
    firma = RequestValidator("otro-token").compute_signature(PUBLIC + path, PARAMS)
    assert client.post(path, data=PARAMS, headers={"X-Twilio-Signature": firma}).status_code == 403


@pytest.mark.parametrize("path", ENDPOINTS)
def test_firma_correcta_pasa(client, path):
    r = client.post(path, data=PARAMS, headers={"X-Twilio-Signature": firmar(path, PARAMS)})
    assert r.status_code in {200, 204}


@pytest.mark.parametrize(
    ("ruta", "datos"),
    [
        ("/ivr/menu?nodo=capp&i=0&n=1", PARAMS | {"Digits": "0"}),  # form parameters altered
        # The state lives in the query string, so it is signed too.
        ("/ivr/menu?nodo=citas&i=0&n=1", PARAMS),
    ],
    ids=["parametros", "query"],
)
def test_peticion_alterada_403(client, ruta, datos):
    firma = firmar("/ivr/menu?nodo=capp&i=0&n=1", PARAMS)
    r = client.post(ruta, data=datos, headers={"X-Twilio-Signature": firma})
    assert r.status_code == 403


def test_firma_sobre_otra_base_publica_403(client):
    firma = RequestValidator(TOKEN).compute_signature("http://localhost:8001/ivr/voice", PARAMS)
    assert (
        client.post("/ivr/voice", data=PARAMS, headers={"X-Twilio-Signature": firma}).status_code
        == 403
    )


@pytest.mark.parametrize("token", [None, ""])
def test_token_sin_configurar_rechaza_todo_incluso_bien_firmado(ivr_settings, token):
    ivr_settings.twilio_auth_token = token
    rasa = ClienteRasa(
        "http://rasa.test",
        timeout=0.5,
        transport=httpx.MockTransport(lambda r: httpx.Response(500)),
    )
    with TestClient(crear_app(ivr_settings, rasa=rasa)) as c:
        for path in ENDPOINTS:
            r = c.post(path, data=PARAMS, headers={"X-Twilio-Signature": firmar(path, PARAMS)})
            assert r.status_code == 403
            assert "firma" in r.json()["detail"].lower()
