"""identificacion_form: CURP + NIP against the backend, kindly and safely."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import yaml
from rasa_sdk.executor import CollectingDispatcher
from test_actions_apoyo import (
    DOMINIO,
    BackendFalso,
    caido,
    error,
    lento,
    mensaje,
    respuestas,
    slots_de,
    tracker,
)

from bot.actions import boveda
from bot.actions.identidad import ValidateIdentificacionForm

CURP = "HEGG560427MVZRRL04"
VERIFICAR = ("POST", "/api/v1/identidad/verificar")


def _tracker_nip(nip: str = "4821"):
    return tracker(
        {"curp": CURP, "nip": nip, "requested_slot": "nip"},
        texto=nip,
        active_loop="identificacion_form",
        eventos_extra=[{"event": "slot", "name": "nip", "value": nip}],
    )


@pytest.mark.asyncio
async def test_nip_correcto_guarda_token_y_olvida_el_nip(caplog):
    caplog.set_level(logging.DEBUG)
    backend = BackendFalso({VERIFICAR: {"token": "tok-123", "expira_en": "2030-01-01T00:00:00Z",
                                        "nombre": "Guadalupe", "tipo": "pensionado"}}).instalar()
    d = CollectingDispatcher()
    eventos = await ValidateIdentificacionForm().run(d, _tracker_nip(), DOMINIO)
    slots = slots_de(eventos)
    # Sealed for the action server: the tracker never holds the token in clear.
    assert slots["token"].startswith(boveda.PREFIJO) and "tok-123" not in slots["token"]
    assert boveda.abrir(slots["token"]) == "tok-123"
    assert slots["identificado"] is True
    assert slots["nip"] is None and slots["curp"] is None
    assert slots["requested_slot"] is None  # the form ends: identity confirmed
    assert backend.cuerpo() == {"curp": CURP, "nip": "4821"}
    assert mensaje(d, "utter_identificado")["nombre"] == "Guadalupe"
    # Neither the token nor the NIP is ever shown or logged in clear.
    assert "tok-123" not in str(d.messages)
    assert CURP not in caplog.text and "4821" not in caplog.text
    assert "HEGG************04" in caplog.text


GENERICO = (
    "La CURP o el NIP no coinciden con nuestros registros. Verifique sus datos e intente de nuevo; "
    "por su seguridad, tras 3 intentos fallidos el acceso se bloquea temporalmente."
)


@pytest.mark.asyncio
async def test_nip_incorrecto_y_curp_desconocida_se_dicen_igual():
    dichos = []
    for extra in ({"intentos_restantes": 2}, {}):  # even if a backend sent a count, it is not said
        BackendFalso({VERIFICAR: error(401, GENERICO, **extra)}).instalar()
        d = CollectingDispatcher()
        slots = slots_de(await ValidateIdentificacionForm().run(d, _tracker_nip("1111"), DOMINIO))
        assert slots == {"curp": None, "nip": None}  # both asked again, no token
        dichos.append(d.messages)
    assert dichos[0] == dichos[1]
    assert mensaje(d, "utter_identidad_rechazada")["detalle"] == GENERICO
    assert "intentos_restantes" not in str(dichos)


@pytest.mark.asyncio
async def test_demasiados_intentos_se_dice_con_amabilidad_y_termina_la_forma():
    BackendFalso({VERIFICAR: error(429, "Por su seguridad hicimos una pausa.")}).instalar()
    d = CollectingDispatcher()
    slots = slots_de(await ValidateIdentificacionForm().run(d, _tracker_nip("1111"), DOMINIO))
    assert (
        slots["requested_slot"] is None and slots["identificado"] is False and "token" not in slots
    )
    assert [m.get("response") for m in d.messages] == ["utter_demasiados_intentos"]
    dominio = yaml.safe_load(
        (Path(__file__).resolve().parents[2] / "domain.yml").read_text(encoding="utf-8")
    )
    textos = [v["text"] for v in dominio["responses"]["utter_demasiados_intentos"]]
    assert textos and all("minutos" in t and "Traceback" not in t for t in textos)


@pytest.mark.asyncio
async def test_bloqueo_dice_hasta_cuando_y_termina_la_forma():
    detalle = (
        "Por su seguridad, el acceso con esta CURP quedó bloqueado. Podrá intentarlo a partir de "
        "las 10:45 horas."
    )
    BackendFalso(
        {VERIFICAR: error(423, detalle, bloqueado_hasta="2030-01-01T16:45:00Z")}
    ).instalar()
    d = CollectingDispatcher()
    slots = slots_de(await ValidateIdentificacionForm().run(d, _tracker_nip("1111"), DOMINIO))
    assert slots["requested_slot"] is None and slots["identificado"] is False
    assert "token" not in slots and slots["curp"] is None
    m = mensaje(d, "utter_identidad_bloqueada")
    assert "10:45" in m["detalle"]


@pytest.mark.asyncio
async def test_curp_rechazada_por_el_backend_se_pide_de_nuevo():
    BackendFalso(
        {VERIFICAR: error(422, "La CURP no es válida: revise el dígito verificador.")}
    ).instalar()
    d = CollectingDispatcher()
    slots = slots_de(await ValidateIdentificacionForm().run(d, _tracker_nip(), DOMINIO))
    assert slots == {"curp": None, "nip": None}
    assert "dígito verificador" in mensaje(d, "utter_identidad_rechazada")["detalle"]


@pytest.mark.asyncio
@pytest.mark.parametrize("falla", [caido, lento])
async def test_backend_caido_o_lento_disculpa_sin_slots_a_medias(falla):
    backend = BackendFalso({VERIFICAR: falla}).instalar()
    d = CollectingDispatcher()
    slots = slots_de(await ValidateIdentificacionForm().run(d, _tracker_nip(), DOMINIO))
    assert respuestas(d) == ["utter_servicio_no_disponible"]
    assert "token" not in slots and slots["identificado"] is False
    assert slots["curp"] is None and slots["nip"] is None and slots["requested_slot"] is None
    assert len(backend.peticiones) == 1  # a POST is never retried


@pytest.mark.asyncio
async def test_nip_mal_formado_no_llega_al_backend():
    backend = BackendFalso({}).instalar()
    d = CollectingDispatcher()
    slots = slots_de(await ValidateIdentificacionForm().run(d, _tracker_nip("48"), DOMINIO))
    assert slots == {"nip": None}
    assert respuestas(d) == ["utter_nip_no_valido"]
    assert backend.peticiones == []


def test_curp_se_normaliza_y_se_valida_su_forma():
    d = CollectingDispatcher()
    v = ValidateIdentificacionForm()
    sellada = v.validate_curp("hegg 5604 27mvzrrl04", d, tracker(), {})["curp"]
    assert CURP not in sellada and boveda.abrir(sellada) == CURP  # kept sealed until the NIP
    assert boveda.abrir(boveda.sellar(CURP)[:-4] + "AAA=") is None  # tampered: opens as nothing
    assert v.validate_curp("HEGG5604", d, tracker(), {}) == {"curp": None}
    assert respuestas(d) == ["utter_curp_no_valida"]


@pytest.mark.parametrize("dicho,respuesta", [
    ("HEGG560427MVZRRL05", "utter_curp_verificador"),  # one typo: the check digit says so
    ("no mejor ya no gracias", "utter_curp_no_valida"),  # 18 letters, but no CURP
    ("HEGG561327MVZRRL04", "utter_curp_no_valida"),  # month 13
])
def test_una_curp_mal_escrita_se_rechaza_antes_de_gastar_un_nip(dicho, respuesta):
    d = CollectingDispatcher()
    assert ValidateIdentificacionForm().validate_curp(dicho, d, tracker(), {}) == {"curp": None}
    assert respuestas(d) == [respuesta]


@pytest.mark.asyncio
async def test_con_token_la_forma_no_pide_nada():
    d = CollectingDispatcher()
    v = ValidateIdentificacionForm()
    assert await v.required_slots(["curp", "nip"], d, tracker({"token": "t"}), DOMINIO) == []
    assert await v.required_slots(["curp", "nip"], d, tracker({}), DOMINIO) == ["curp", "nip"]
