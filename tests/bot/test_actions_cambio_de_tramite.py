"""A new request in the middle of a form: the old form's values are forgotten
(only what the new message said is kept) and its own action leaves the form."""

from __future__ import annotations

import pytest
from rasa_sdk.executor import CollectingDispatcher
from test_actions_apoyo import BackendFalso, respuestas, slots_de, tracker

from bot.actions.cambio_de_tramite import ActionValidateSlotMappings
from bot.actions.saldo import ActionConsultarSaldo

A_MEDIA_CITA = {
    "token": "tok",
    "oficina": "3",
    "oficina_nombre": "Delegación Jalisco",
    "fecha": "2027-03-10",
    "curp": "HEGG560427MVZRRL04",
    "requested_slot": "inicio_cita",
}


@pytest.mark.asyncio
async def test_otra_peticion_olvida_lo_que_dejaron_otras_formas_pero_no_toca_la_activa():
    # A simulation left earlier; a cita being filled now.
    t = tracker({**A_MEDIA_CITA, "sueldo": "9000.00", "renovacion": True}, intent="consultar_saldo",
                active_loop="cita_form")
    slots = slots_de(await ActionValidateSlotMappings().run(CollectingDispatcher(), t, {}))
    assert slots == {"sueldo": None, "renovacion": None}
    # Not the cita's own slots: Rasa would take a cleared one as an answer and
    # the form would go on instead of giving way to the saldo (its action clears
    # them). Nor the CURP: identity is kept for the new request.


@pytest.mark.asyncio
async def test_lo_que_dice_la_nueva_peticion_se_conserva_para_prellenar():
    # "mejor una cita en Puebla" after an abandoned simulation: Puebla came in this message.
    t = tracker(
        {"sueldo": "9000.00", "renovacion": False, "oficina": "Puebla"},
        intent="agendar_cita",
        eventos_extra=[{"event": "slot", "name": "oficina", "value": "Puebla"}],
    )
    slots = slots_de(await ActionValidateSlotMappings().run(CollectingDispatcher(), t, {}))
    assert slots == {"sueldo": None, "renovacion": None}


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "intent,forma",
    [
        ("simular_prestamo", "simulacion_form"),
        ("agendar_cita", "cita_form"),
        ("generar_fopi", "fopi_form"),
    ],
)
async def test_pedir_lo_mismo_que_se_esta_llenando_no_olvida_nada(intent, forma):
    # "liquidación" to the FOPI question looks like generar_fopi; "simular a 36" answers the form.
    t = tracker(
        {"sueldo": "9000.00", "oficina": "3", "tipo_fopi": None}, intent=intent, active_loop=forma
    )
    assert await ActionValidateSlotMappings().run(CollectingDispatcher(), t, {}) == []


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "intent", ["informar", "afirmar", "faq", "detener", "consultar_requisitos", "nlu_fallback"]
)
async def test_respuestas_y_digresiones_no_son_peticiones(intent):
    t = tracker(A_MEDIA_CITA, intent=intent, active_loop="cita_form")
    assert await ActionValidateSlotMappings().run(CollectingDispatcher(), t, {}) == []


@pytest.mark.asyncio
async def test_sin_forma_activa_tambien_olvida_lo_que_quedo_de_antes():
    # A cita request that died with a locked NIP left "Puebla": the next request does not inherit
    # it.
    t = tracker({"oficina": "Puebla", "fecha": "jueves"}, intent="agendar_cita")
    slots = slots_de(await ActionValidateSlotMappings().run(CollectingDispatcher(), t, {}))
    assert slots == {"oficina": None, "fecha": None}


@pytest.mark.asyncio
async def test_la_accion_de_la_nueva_peticion_deja_la_forma_rechazada():
    BackendFalso(
        {("GET", "/api/v1/prestamos/saldo"): {"saldo_deudor_total": 10.0, "al": "2026-03-01"}}
    ).instalar()
    d = CollectingDispatcher()
    eventos = await ActionConsultarSaldo().run(d, tracker(A_MEDIA_CITA, intent="consultar_saldo",
                                                          active_loop="cita_form", canal="ivr"), {})
    assert eventos[0] == {"event": "active_loop", "name": None, "timestamp": None}
    assert slots_de(eventos)["requested_slot"] is None and slots_de(eventos)["oficina"] is None
    assert respuestas(d)[0] == "utter_saldo"


@pytest.mark.asyncio
async def test_sin_forma_activa_la_accion_no_toca_el_bucle():
    BackendFalso(
        {("GET", "/api/v1/prestamos/saldo"): {"saldo_deudor_total": 10.0, "al": "2026-03-01"}}
    ).instalar()
    eventos = await ActionConsultarSaldo().run(
        CollectingDispatcher(), tracker({"token": "tok"}, canal="ivr"), {}
    )
    assert eventos == []


@pytest.mark.asyncio
@pytest.mark.parametrize("texto,monto", [
    ("kiero pagar 2000 de mi prestamo, necesito mi fopi", "2000.00"),
    ("quiero un fopi por dos mil quinientos pesos", "2500.00"),
    ("quiero mi fopi", None),
    ("mi fopi de la quincena 3", None),  # a figure under $100 is no amount
])
async def test_el_monto_de_la_peticion_de_fopi_prellena_el_pago_parcial(texto, monto):
    eventos = await ActionValidateSlotMappings().run(
        CollectingDispatcher(), tracker(intent="generar_fopi", texto=texto), {})
    assert slots_de(eventos).get("monto") == monto
