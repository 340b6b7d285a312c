"""Simulación: the backend's rule (422 detail) is explained and the plazo asked again."""

from __future__ import annotations

import pytest
from actions import backend_client as bc
from actions.simulacion import (
    ActionPrepararSimulacion,
    ActionSimularPrestamo,
    ValidateSimulacionForm,
)
from rasa_sdk.executor import CollectingDispatcher
from test_actions_apoyo import BackendFalso, caido, error, mensaje, respuestas, slots_de, tracker

SIM = ("POST", "/api/v1/simulaciones")


@pytest.fixture(autouse=True)
def _sin_red():
    yield
    bc.usar_transporte(None)


@pytest.mark.asyncio
async def test_plazo_no_permitido_explica_la_regla_del_backend():
    regla = "Con menos de 10 años de cotización el plazo máximo es de 36 quincenas."
    backend = BackendFalso({SIM: error(422, regla, campos=["plazo_quincenas"])}).instalar()
    d = CollectingDispatcher()
    t = tracker({"sueldo": "12690.80", "producto": "credito_complementario", "tipo_derechohabiente": "asegurado",
                 "anios_cotizacion": 8, "sexo": "H"})
    assert await ValidateSimulacionForm().validate_plazo("72 quincenas", d, t, {}) == {"plazo": None}
    assert mensaje(d, "utter_simulacion_regla")["detalle"] == regla
    assert backend.cuerpo() == {"producto": "credito_complementario", "sueldo_base_mensual": 12690.8,
                                "plazo_quincenas": 72, "tipo": "asegurado", "anios_cotizacion": 8, "sexo": "H"}


@pytest.mark.asyncio
async def test_plazo_permitido_guarda_el_resultado_y_se_presenta():
    resultado = {"descuento_quincenal": 1269.08, "monto_maximo": 39745.43, "tasa_anual": 0.16,
                 "plazo_quincenas": 36, "sueldo_base_mensual": 12690.8}
    BackendFalso({SIM: resultado}).instalar()
    d = CollectingDispatcher()
    slots = await ValidateSimulacionForm().validate_plazo("36", d, tracker({"sueldo": "12690.80"}), {})
    assert slots == {"plazo": 36, "simulacion": resultado}
    d2 = CollectingDispatcher()
    eventos = await ActionSimularPrestamo().run(d2, tracker({"simulacion": resultado, "sueldo": "12690.80"}), {})
    m = mensaje(d2, "utter_simulacion_resultado")
    assert (m["monto"], m["descuento"], m["plazo"], m["tasa"]) == ("$39,745.43", "$1,269.08", 36, "16 %")
    assert slots_de(eventos) == {"plazo": None, "simulacion": None}


@pytest.mark.asyncio
async def test_backend_caido_termina_la_forma_con_disculpa():
    BackendFalso({SIM: caido}).instalar()
    d = CollectingDispatcher()
    slots = await ValidateSimulacionForm().validate_plazo("36", d, tracker({"sueldo": "9000"}), {})
    assert slots == {"plazo": None, "simulacion": None, "requested_slot": None}
    assert respuestas(d) == ["utter_servicio_no_disponible"]
    d2 = CollectingDispatcher()
    await ActionSimularPrestamo().run(d2, tracker({}), {})
    assert d2.messages == []  # nothing half-done to present


@pytest.mark.parametrize("texto,esperado", [("15500", "15500.00"), ("$15,500.00", "15500.00"), ("15 mil", "15000.00"),
                                            ("doce mil pesos", "12000.00"), ("nada", None)])
def test_sueldo_en_varias_formas(texto, esperado):
    d = CollectingDispatcher()
    assert ValidateSimulacionForm().validate_sueldo(texto, d, tracker(), {}) == {"sueldo": esperado}


@pytest.mark.asyncio
async def test_prepara_con_el_perfil_si_esta_identificado():
    BackendFalso({("GET", "/api/v1/identidad/perfil"): {"sueldo_base_mensual": 20761.58, "tipo": "asegurado",
                                                         "anios_cotizacion": 12, "sexo": "M", "nombre": "Laura"}}).instalar()
    d = CollectingDispatcher()
    slots = slots_de(await ActionPrepararSimulacion().run(d, tracker({"token": "tok"}), {}))
    assert slots["sueldo"] == "20761.58" and slots["anios_cotizacion"] == 12 and slots["sexo"] == "M"
    assert slots["plazo"] is None
    assert mensaje(d, "utter_simulacion_con_perfil")["sueldo"] == "$20,761.58"


@pytest.mark.asyncio
async def test_slots_limpiados_al_activar_la_forma_no_se_validan():
    # action_preparar_simulacion clears sueldo and plazo right after "/simular_prestamo";
    # the form must ask for them, not complain that the (absent) answers are wrong.
    d = CollectingDispatcher()
    t = tracker(
        {"sueldo": None, "plazo": None, "producto": "credito_complementario"},
        intent="simular_prestamo",
        texto="/simular_prestamo",
        active_loop="simulacion_form",
        eventos_extra=[{"event": "slot", "name": "plazo", "value": None},
                       {"event": "slot", "name": "sueldo", "value": None}],
    )
    domain = {"forms": {"simulacion_form": {"required_slots": ["sueldo", "plazo"]}},
              "slots": {"sueldo": {"mappings": []}, "plazo": {"mappings": []}}}
    eventos = await ValidateSimulacionForm().get_validation_events(d, t, domain)
    assert respuestas(d) == []
    assert eventos == []
    # A real answer is still validated.
    t2 = tracker({"sueldo": "abc"}, texto="abc", active_loop="simulacion_form",
                 eventos_extra=[{"event": "slot", "name": "sueldo", "value": "abc"}])
    eventos = await ValidateSimulacionForm().get_validation_events(d, t2, domain)
    assert respuestas(d) == ["utter_sueldo_no_valido"]
    assert eventos == [{"event": "slot", "timestamp": None, "name": "sueldo", "value": None}]


@pytest.mark.asyncio
async def test_sin_anios_de_cotizacion_el_plazo_largo_los_pide_y_luego_los_usa():
    regla = "Sin sus años de cotización podemos simular hasta 24 quincenas; díganos cuántos años ha cotizado."
    BackendFalso({SIM: error(422, regla, codigo="faltan_anios_cotizacion")}).instalar()
    d = CollectingDispatcher()
    formulario = ValidateSimulacionForm()
    assert await formulario.validate_plazo("48", d, tracker({"sueldo": "9000"}), {}) == {
        "plazo": None, "pedir_anios": True}
    assert mensaje(d, "utter_simulacion_regla")["detalle"] == regla

    # The form now asks the años before the plazo, and only while they are missing.
    del_dominio = ["sueldo", "anios_cotizacion", "plazo"]
    pendiente = tracker({"sueldo": "9000", "pedir_anios": True})
    assert await formulario.required_slots(del_dominio, d, pendiente, {}) == del_dominio
    con_anios = tracker({"sueldo": "9000", "pedir_anios": None, "anios_cotizacion": 20})
    assert await formulario.required_slots(del_dominio, d, con_anios, {}) == ["sueldo", "plazo"]
    assert await formulario.required_slots(del_dominio, d, tracker({"sueldo": "9000"}), {}) == [
        "sueldo", "plazo"]

    preguntando = tracker({"sueldo": "9000", "pedir_anios": True, "requested_slot": "anios_cotizacion"})
    assert formulario.validate_anios_cotizacion("veinte años", d, preguntando, {}) == {
        "anios_cotizacion": 20, "pedir_anios": None}
    for malo in ("muchos", "0", "80"):
        d2 = CollectingDispatcher()
        assert formulario.validate_anios_cotizacion(malo, d2, preguntando, {}) == {"anios_cotizacion": None}
        assert respuestas(d2) == ["utter_anios_no_valido"]

    resultado = {"descuento_quincenal": 900.0, "monto_maximo": 31000.0, "tasa_anual": 0.16, "plazo_quincenas": 48}
    backend = BackendFalso({SIM: resultado}).instalar()
    slots = await formulario.validate_plazo("48", CollectingDispatcher(), tracker(
        {"sueldo": "9000", "anios_cotizacion": 20, "producto": "credito_complementario"}), {})
    assert slots == {"plazo": 48, "simulacion": resultado}
    assert backend.cuerpo()["anios_cotizacion"] == 20


def test_anios_del_perfil_no_se_validan_como_respuesta():
    d = CollectingDispatcher()
    t = tracker({"anios_cotizacion": 31, "requested_slot": "sueldo"})
    assert ValidateSimulacionForm().validate_anios_cotizacion(31, d, t, {}) == {"anios_cotizacion": 31}
    assert respuestas(d) == []


@pytest.mark.asyncio
async def test_la_respuesta_de_anios_se_valida_y_luego_se_pide_el_plazo():
    """Through rasa_sdk's own run(): the raw text Rasa extracted ("veinte años")
    is validated into a number, then the form asks for the plazo."""
    domain = {"forms": {"simulacion_form": {"required_slots": ["sueldo", "anios_cotizacion", "plazo"]}},
              "slots": {"sueldo": {"mappings": []}, "anios_cotizacion": {"mappings": []},
                        "plazo": {"mappings": []}, "pedir_anios": {"mappings": []}}}
    t = tracker({"sueldo": "9000", "pedir_anios": True, "requested_slot": "anios_cotizacion",
                 "anios_cotizacion": "veinte años"},
                texto="veinte años", active_loop="simulacion_form",
                eventos_extra=[{"event": "slot", "name": "anios_cotizacion", "value": "veinte años"}])
    d = CollectingDispatcher()
    eventos = await ValidateSimulacionForm().run(d, t, domain)
    assert slots_de(eventos) == {"anios_cotizacion": 20, "pedir_anios": None, "requested_slot": "plazo"}
    assert respuestas(d) == []
