"""FOPI, regularización, asesor, detener, despedida y fallback."""

from __future__ import annotations

import pytest
from rasa_sdk.executor import CollectingDispatcher
from test_actions_apoyo import (
    DOMINIO,
    BackendFalso,
    caido,
    error,
    mensaje,
    respuestas,
    slots_de,
    tracker,
)

from bot.actions.asesor import ActionTransferirAsesor
from bot.actions.ayuda import ActionDespedir, ActionDetener
from bot.actions.fallback import ActionFallback
from bot.actions.fopi import ActionGenerarFopi, ValidateFopiForm
from bot.actions.oficina_virtual import ActionRegistroOficinaVirtual
from bot.actions.regularizacion import (
    ActionConsultarRegularizacion,
    ActionGenerarFopiRegularizacion,
)

FOPI = {
    "referencia": "20000000126112700145",
    "referencia_formateada": "2000 0000 1261 1270 0145",
    "monto": 1500,
    "vigencia": "2026-03-09",
    "bancos": ["BBVA", "Banorte"],
    "pdf_enlace": "http://b/archivos/f",
}


@pytest.mark.asyncio
async def test_fopi_parcial():
    backend = BackendFalso({("POST", "/api/v1/pagos/fopi"): FOPI}).instalar()
    d = CollectingDispatcher()
    eventos = await ActionGenerarFopi().run(
        d, tracker({"token": "tok", "tipo_fopi": "parcial", "monto": "1500.00"}), {}
    )
    assert backend.cuerpo() == {"tipo": "parcial", "monto": 1500.0}
    m = mensaje(d, "utter_fopi_generado")
    assert (m["monto"], m["vigencia"], m["bancos"]) == ("$1,500.00", "09/03/2026", "BBVA, Banorte")
    assert any(x.get("attachment") == "http://b/archivos/f" for x in d.messages)
    assert slots_de(eventos) == {"tipo_fopi": None, "monto": None}


@pytest.mark.asyncio
async def test_fopi_monto_mayor_al_saldo():
    detalle = "El monto no puede ser mayor que su saldo deudor de $10,000.00."
    BackendFalso({("POST", "/api/v1/pagos/fopi"): error(422, detalle)}).instalar()
    d = CollectingDispatcher()
    await ActionGenerarFopi().run(
        d, tracker({"token": "tok", "tipo_fopi": "parcial", "monto": "99999"}), {}
    )
    assert mensaje(d, "utter_fopi_no_generado")["detalle"] == detalle


@pytest.mark.asyncio
async def test_liquidacion_no_pide_monto():
    d = CollectingDispatcher()
    v = ValidateFopiForm()
    assert v.validate_tipo_fopi("Liquidación total", d, tracker(), {}) == {
        "tipo_fopi": "liquidacion"
    }
    assert v.validate_tipo_fopi("un abono", d, tracker(), {}) == {"tipo_fopi": "parcial"}
    slots = DOMINIO["forms"]["fopi_form"]["required_slots"]
    assert await v.required_slots(slots, d, tracker({"tipo_fopi": "liquidacion"}), DOMINIO) == [
        "tipo_fopi"
    ]
    assert await v.required_slots(slots, d, tracker({"tipo_fopi": "parcial"}), DOMINIO) == [
        "tipo_fopi",
        "monto",
    ]


@pytest.mark.asyncio
async def test_fopi_backend_caido():
    backend = BackendFalso({("POST", "/api/v1/pagos/fopi"): caido}).instalar()
    d = CollectingDispatcher()
    eventos = await ActionGenerarFopi().run(
        d, tracker({"token": "tok", "tipo_fopi": "liquidacion"}), {}
    )
    assert respuestas(d) == ["utter_servicio_no_disponible"]
    assert slots_de(eventos) == {"tipo_fopi": None, "monto": None}
    assert len(backend.peticiones) == 1


@pytest.mark.asyncio
async def test_regularizacion_pendiente_y_su_fopi():
    BackendFalso(
        {
            ("GET", "/api/v1/regularizacion"): {
                "pendiente": True,
                "quincenas": [{}, {}, {}],
                "adeudo": 3045.5,
                "total": 3045.5,
            },
            ("POST", "/api/v1/regularizacion/fopi"): FOPI,
        }
    ).instalar()
    d = CollectingDispatcher()
    eventos = await ActionConsultarRegularizacion().run(d, tracker({"token": "tok"}), {})
    assert slots_de(eventos) == {"regularizacion_pendiente": True}
    m = mensaje(d, "utter_regularizacion_pendiente")
    assert (m["quincenas"], m["total"]) == ("3 quincenas", "$3,045.50")
    assert "interes" not in m  # regularising avoids moratorium interest (seed 001): none is told
    d2 = CollectingDispatcher()
    eventos = await ActionGenerarFopiRegularizacion().run(d2, tracker({"token": "tok"}), {})
    assert "utter_fopi_generado" in respuestas(d2)
    assert slots_de(eventos) == {"regularizacion_pendiente": False}


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "reg,respuesta",
    [
        ({"pendiente": False, "quincenas": []}, "utter_regularizacion_al_corriente"),
        ({"pendiente": True}, "utter_servicio_no_disponible"),  # incomplete: nothing to offer
    ],
    ids=["al_corriente", "respuesta_incompleta"],
)
async def test_regularizacion_sin_fopi_que_ofrecer_no_deja_la_pregunta(reg, respuesta):
    BackendFalso({("GET", "/api/v1/regularizacion"): reg}).instalar()
    d = CollectingDispatcher()
    eventos = await ActionConsultarRegularizacion().run(d, tracker({"token": "tok"}), {})
    assert respuestas(d) == [respuesta]
    assert slots_de(eventos) == {"regularizacion_pendiente": False}


@pytest.mark.asyncio
async def test_asesor_transfiere_y_sale_de_la_forma():
    d = CollectingDispatcher()
    t = tracker({"curp": "X"}, active_loop="identificacion_form")
    eventos = await ActionTransferirAsesor().run(d, t, {})
    assert respuestas(d) == ["utter_transferir_asesor"]
    assert {"accion": "transferir"} in [m.get("custom") for m in d.messages]
    assert {"event": "active_loop", "name": None} in [
        {k: e.get(k) for k in ("event", "name")} for e in eventos
    ]
    assert slots_de(eventos)["curp"] is None


@pytest.mark.asyncio
async def test_detener_limpia_la_forma_y_despedir_cuelga():
    d = CollectingDispatcher()
    eventos = await ActionDetener().run(
        d, tracker({"tipo_fopi": "parcial"}, active_loop="fopi_form"), {}
    )
    slots = slots_de(eventos)
    assert slots["tipo_fopi"] is None and slots["monto"] is None and slots["requested_slot"] is None
    assert any(e.get("event") == "active_loop" and e.get("name") is None for e in eventos)
    assert respuestas(d) == ["utter_detenido"]
    d2 = CollectingDispatcher()
    await ActionDespedir().run(d2, tracker({}), {})
    assert respuestas(d2) == ["utter_despedida"]
    assert {"accion": "colgar"} in [m.get("custom") for m in d2.messages]


@pytest.mark.asyncio
async def test_dos_fallbacks_seguidos_ofrecen_menu_y_asesor():
    no_entendido = {
        "event": "user",
        "text": "asdf",
        "parse_data": {"intent": {"name": "nlu_fallback"}},
    }
    entendido = {"event": "user", "text": "hola", "parse_data": {"intent": {"name": "saludar"}}}
    d = CollectingDispatcher()
    await ActionFallback().run(d, tracker(intent="nlu_fallback", anteriores=[entendido]), {})
    assert respuestas(d) == ["utter_no_entendi"]
    d2 = CollectingDispatcher()
    await ActionFallback().run(
        d2, tracker(intent="nlu_fallback", anteriores=[entendido, no_entendido]), {}
    )
    assert respuestas(d2) == ["utter_fallback_menu"]
    # Keyboard mashing counts as not understood too.
    tecleo = {
        "event": "user",
        "text": "asdf qwerty",
        "parse_data": {"intent": {"name": "sin_sentido"}},
    }
    d3 = CollectingDispatcher()
    await ActionFallback().run(
        d3, tracker(intent="sin_sentido", texto="ñlkj", anteriores=[entendido, tecleo]), {}
    )
    assert respuestas(d3) == ["utter_fallback_menu"]


@pytest.mark.asyncio
async def test_oficina_virtual_nunca_pide_contrasena():
    d = CollectingDispatcher()
    await ActionRegistroOficinaVirtual().run(d, tracker(), {})
    assert respuestas(d) == [
        "utter_registro_oficina_virtual",
        "utter_contrasena_privada",
        "utter_oficina_virtual_servicios",
    ]
