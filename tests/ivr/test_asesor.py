"""The way to a human (never back into ISSSTETEL) and the fallback that depends on nothing."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from ivr import respaldo
from ivr.main import crear_app
from ivr.motor import comando_hablado
from ivr.rasa import ClienteRasa
from ivr.settings import IVRSettings
from ivr.simulator import Telefono
from tests.ivr.conftest import (
    PUBLIC,
    RASA_TOKEN,
    TOKEN,
    post_firmado,
    post_twiml,
    texto_dicho,
    twiml,
)


@pytest.mark.parametrize(
    "numero", ["+525540001000", "+52 55 4000 1000", "+52 (55) 4000-1000", "+5215540001000"]
)
def test_issstetel_no_puede_ser_el_numero_del_asesor(numero):
    with pytest.raises(ValidationError, match="ISSSTETEL"):
        IVRSettings(_env_file=None, ivr_asesor_numero=numero)


@pytest.mark.parametrize("numero", ["5512345678", "asesor", "+52"])
def test_el_numero_del_asesor_es_e164(numero):
    with pytest.raises(ValidationError, match="E.164"):
        IVRSettings(_env_file=None, ivr_asesor_numero=numero)


def test_el_numero_se_normaliza_y_vacio_es_sin_numero():
    assert (
        IVRSettings(_env_file=None, ivr_asesor_numero="+52 55 1234 5678").ivr_asesor_numero
        == "+525512345678"
    )
    assert IVRSettings(_env_file=None, ivr_asesor_numero="  ").ivr_asesor_numero is None


def test_ivr_asesor_numero_del_entorno_tambien_se_valida(monkeypatch):
    monkeypatch.setenv("IVR_ASESOR_NUMERO", "+525540001000")
    with pytest.raises(ValidationError, match="ISSSTETEL"):
        IVRSettings(_env_file=None)


@pytest.fixture
def por_defecto(tmp_path, fake_rasa):
    """The ivr with the defaults for the transfer (no number configured)."""
    settings = IVRSettings(
        _env_file=None, twilio_auth_token=TOKEN, public_base_url=PUBLIC, rasa_token=RASA_TOKEN,
        ivr_rasa_timeout=0.5, ivr_registro_path=str(tmp_path / "r.jsonl"),
    )
    rasa = ClienteRasa(
        "http://rasa.test", timeout=0.5, token=RASA_TOKEN, transport=httpx.MockTransport(fake_rasa)
    )
    with TestClient(crear_app(settings, rasa=rasa), base_url="http://testserver") as c:
        yield c, settings


def test_por_defecto_el_asesor_es_una_cola_que_no_regresa_al_menu(por_defecto):
    client, settings = por_defecto
    assert settings.ivr_asesor_numero is None
    raiz = post_twiml(client, "/ivr/menu?nodo=capp&i=0&n=1", {"CallSid": "CA1", "Digits": "0"})
    assert [v.tag for v in raiz] == ["Say", "Enqueue"]
    enqueue = raiz[-1]
    assert enqueue.text == "capp_asesores"
    assert urlsplit(enqueue.get("waitUrl")).path == "/ivr/asesor/espera"
    assert urlsplit(enqueue.get("action")).path == "/ivr/asesor/fin"
    assert raiz.find("Dial") is None


def test_la_espera_habla_en_espanol_y_suelta_la_llamada_al_limite(por_defecto):
    client, settings = por_defecto
    for segundos in (0, 20, settings.ivr_asesor_espera_max - 1):
        raiz = post_twiml(
            client, "/ivr/asesor/espera", {"CallSid": "CA2", "QueueTime": str(segundos)}
        )
        assert [v.tag for v in raiz] == ["Say", "Pause"]
        assert raiz[0].get("language") == "es-MX" and "asesor" in texto_dicho(raiz)
    raiz = post_twiml(
        client,
        "/ivr/asesor/espera",
        {"CallSid": "CA2", "QueueTime": str(settings.ivr_asesor_espera_max)},
    )
    assert [v.tag for v in raiz] == ["Say", "Leave"]
    fin = post_twiml(client, "/ivr/asesor/fin", {"CallSid": "CA2", "QueueResult": "leave"})
    assert fin[-1].tag == "Hangup" and "no fue posible comunicarle con un asesor" in texto_dicho(
        fin
    )


@pytest.mark.parametrize(
    ("contesta", "oye"), [(True, "Gracias por llamar"), (False, "no fue posible")]
)
def test_llamada_completa_a_la_cola(por_defecto, contesta, oye):
    client, settings = por_defecto
    llamada = Telefono(
        "http://testserver", TOKEN, PUBLIC, http=client, asesor_contesta=contesta
    ).llamar(["5", "0"])
    assert llamada.final == "enqueue"
    assert "Gracias por esperar" in llamada.dicho() and oye in llamada.dicho()
    assert ET.fromstring(llamada.respuestas[-1])[-1].tag == "Hangup"
    if not contesta:  # waited until the limit, then let go
        assert "todos nuestros asesores están ocupados" in llamada.dicho().lower()


# ------------------------------------------------------------------ the fallback

def test_fallback_es_el_documento_estatico_y_no_toca_rasa(client, fake_rasa, ivr_settings):
    fake_rasa.modo = "caido"
    r = post_firmado(client, "/ivr/fallback", {"CallSid": "CA3", "ErrorCode": "11200"})
    assert r.content == respaldo.documento(ivr_settings)
    raiz = twiml(r)
    assert raiz[-1].tag == "Dial" and "falla técnica" in texto_dicho(raiz)
    assert fake_rasa.recibidos == []


def test_fallback_responde_aunque_no_se_pueda_escribir_el_registro(
    ivr_settings, tmp_path, fake_rasa
):
    (tmp_path / "archivo").write_text("no soy un directorio")
    ivr_settings.ivr_registro_path = str(tmp_path / "archivo" / "r.jsonl")
    rasa = ClienteRasa(
        "http://rasa.test", timeout=0.5, token=RASA_TOKEN, transport=httpx.MockTransport(fake_rasa)
    )
    with TestClient(crear_app(ivr_settings, rasa=rasa), base_url="http://testserver") as c:
        raiz = post_twiml(c, "/ivr/fallback", {"CallSid": "CA4"})
        assert raiz[-1].tag == "Dial"
        # and the rest of the call too: a log that cannot be written never cuts a call
        assert post_twiml(c, "/ivr/voice", {"CallSid": "CA4"}).find("Gather") is not None


def test_un_error_inesperado_responde_con_el_documento_de_respaldo(
    ivr_settings, fake_rasa, monkeypatch
):
    rasa = ClienteRasa(
        "http://rasa.test", timeout=0.5, token=RASA_TOKEN, transport=httpx.MockTransport(fake_rasa)
    )
    app = crear_app(ivr_settings, rasa=rasa)
    with TestClient(app, raise_server_exceptions=False, base_url="http://testserver") as c:

        async def revienta(*_a, **_k):
            raise RuntimeError("falla inesperada")

        monkeypatch.setattr(app.state.llamada, "menu", revienta)
        r = post_firmado(c, "/ivr/menu?nodo=capp&i=0&n=1", {"CallSid": "CA5", "Digits": "1"})
    assert r.content == app.state.respaldo == respaldo.documento(ivr_settings)
    assert twiml(r)[-1].tag == "Dial"


def test_fallback_sigue_pidiendo_firma(client):
    assert client.post("/ivr/fallback", data={"CallSid": "CA6"}).status_code == 403


def test_documento_para_alojar_fuera_del_proceso(ivr_settings, capsys, monkeypatch):
    """The external copy (TwiML Bin / static host) relies on nothing of ours."""
    ivr_settings.ivr_asesor_numero = None
    externo = ET.fromstring(respaldo.documento(ivr_settings, externo=True))
    assert [v.tag for v in externo] == ["Say", "Hangup"]
    assert "vuelva a llamar" in " ".join(externo[0].itertext())
    ivr_settings.ivr_asesor_numero = "+525512345678"
    con_numero = ET.fromstring(respaldo.documento(ivr_settings, externo=True))
    assert con_numero[-1].tag == "Dial" and con_numero[-1].text == "+525512345678"
    minimo = ET.fromstring(respaldo.MINIMO)
    assert [v.tag for v in minimo] == ["Say", "Hangup"] and minimo[0].get("language") == "es-MX"
    monkeypatch.setattr("ivr.settings.get_settings", lambda: ivr_settings)
    assert respaldo.main() == 0
    assert ET.fromstring(capsys.readouterr().out)[-1].tag == "Dial"


@pytest.mark.parametrize("dicho,comando", [
    ("quiero hablar con una persona", "asesor"),
    ("paseme con un asesor", "asesor"),
    ("asesor", "asesor"),
    # Asking whether this is a person is a question for the bot, not a transfer.
    ("estoy hablando con una persona o es una grabación", None),
    ("¿eres una persona?", None),
    ("es una grabación o una persona, quiero hablar con una persona", "asesor"),
])
def test_preguntar_si_es_una_persona_no_transfiere(dicho, comando):
    assert comando_hablado(dicho) == comando
