"""Simulación: the backend's rule (422 detail) is explained and the plazo asked again."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rasa_sdk.executor import CollectingDispatcher
from test_actions_apoyo import (
    SIMULACION_48,
    BackendFalso,
    caido,
    error,
    mensaje,
    respuesta_en_forma,
    respuestas,
    slots_de,
    tracker,
)

from bot.actions import producto_simulado
from bot.actions.datos_simulacion import leer_renovacion
from bot.actions.formulario_simulacion import ValidateSimulacionForm
from bot.actions.producto_simulado import producto_nombrado
from bot.actions.simulacion import ActionPrepararSimulacion, ActionSimularPrestamo

SIM = ("POST", "/api/v1/simulaciones")
PERFIL = ("GET", "/api/v1/identidad/perfil")
# What the backend knows of an identified asegurada: the simulation starts from it.
DATOS_DE_PERFIL = {
    "sueldo_base_mensual": 20761.58,
    "tipo": "asegurado",
    "anios_cotizacion": 12,
    "sexo": "M",
}


@pytest.mark.asyncio
async def test_plazo_no_permitido_explica_la_regla_del_backend():
    regla = "Con menos de 10 años de cotización el plazo máximo es de 36 quincenas."
    backend = BackendFalso({SIM: error(422, regla, campos=["plazo_quincenas"])}).instalar()
    d = CollectingDispatcher()
    t = tracker(
        {
            "sueldo": "12690.80",
            "producto": "credito_complementario",
            "tipo_derechohabiente": "asegurado",
            "anios_cotizacion": 8,
            "sexo": "H",
            "renovacion": False,
        }
    )
    assert await ValidateSimulacionForm().validate_plazo("72 quincenas", d, t, {}) == {
        "plazo": None
    }
    assert mensaje(d, "utter_simulacion_regla")["detalle"] == regla
    assert backend.cuerpo() == {
        "producto": "credito_complementario",
        "sueldo_base_mensual": 12690.8,
        "plazo_quincenas": 72,
        "renovacion": False,
        "tipo": "asegurado",
        "anios_cotizacion": 8,
        "sexo": "H",
    }


@pytest.mark.asyncio
async def test_plazo_permitido_guarda_el_resultado_y_se_presenta():
    resultado = {"descuento_quincenal": 1269.08, "monto_maximo": 39745.43, "tasa_anual": 0.16,
                 "plazo_quincenas": 36, "sueldo_base_mensual": 12690.8, "renovacion": False,
                 "nombre_producto": "Crédito complementario"}
    backend = BackendFalso({SIM: resultado}).instalar()
    d = CollectingDispatcher()
    slots = await ValidateSimulacionForm().validate_plazo(
        "36",
        d,
        tracker({"tipo_derechohabiente": "asegurado", "sueldo": "12690.80", "renovacion": False}),
        {},
    )
    assert slots == {"plazo": 36, "simulacion": resultado}
    # Without a product named, the seed product is simulated.
    assert backend.cuerpo()["producto"] == "credito_complementario"
    d2 = CollectingDispatcher()
    eventos = await ActionSimularPrestamo().run(
        d2, tracker({"simulacion": resultado, "sueldo": "12690.80"}), {}
    )
    # Which product and which modality come first, then the figures.
    assert respuestas(d2) == ["utter_simulacion_entendido", "utter_simulacion_resultado"]
    assert mensaje(d2, "utter_simulacion_entendido")["producto"] == "Crédito complementario"
    m = mensaje(d2, "utter_simulacion_resultado")
    assert (m["monto"], m["descuento"], m["plazo"], m["tasa"]) == (
        "$39,745.43",
        "$1,269.08",
        "36 quincenas",
        "16 %",
    )
    assert slots_de(eventos) == {
        "plazo": None,
        "simulacion": None,
        "ultima_simulacion": {
            "sueldo": "12690.8",
            "renovacion": False,
            "tipo_derechohabiente": None,
            "plazo": 36,
            "producto": None,
        },
    }


@pytest.mark.asyncio
async def test_backend_caido_termina_la_forma_con_disculpa():
    BackendFalso({SIM: caido}).instalar()
    d = CollectingDispatcher()
    slots = await ValidateSimulacionForm().validate_plazo(
        "36",
        d,
        tracker({"tipo_derechohabiente": "asegurado", "sueldo": "9000", "renovacion": True}),
        {},
    )
    assert slots == {"plazo": None, "simulacion": None, "requested_slot": None}
    assert respuestas(d) == ["utter_servicio_no_disponible"]
    d2 = CollectingDispatcher()
    await ActionSimularPrestamo().run(d2, tracker({}), {})
    assert d2.messages == []  # nothing half-done to present


@pytest.mark.parametrize(
    "texto,esperado",
    [
        ("15500", "15500.00"),
        ("$15,500.00", "15500.00"),
        ("15 mil", "15000.00"),
        ("doce mil pesos", "12000.00"),
        ("nada", None),
    ],
)
@pytest.mark.asyncio
async def test_sueldo_en_varias_formas(texto, esperado):
    d = CollectingDispatcher()
    assert await ValidateSimulacionForm().validate_sueldo(texto, d, tracker(), {}) == {
        "sueldo": esperado
    }


@pytest.mark.asyncio
async def test_prepara_con_el_perfil_si_esta_identificado():
    BackendFalso({PERFIL: DATOS_DE_PERFIL | {"nombre": "Laura"}}).instalar()
    d = CollectingDispatcher()
    slots = slots_de(await ActionPrepararSimulacion().run(d, tracker({"token": "tok"}), {}))
    assert (
        slots["sueldo"] == "20761.58" and slots["anios_cotizacion"] == 12 and slots["sexo"] == "M"
    )
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
    regla = (
        "Sin sus años de cotización podemos simular hasta 24 quincenas; díganos cuántos años ha "
        "cotizado."
    )
    BackendFalso({SIM: error(422, regla, codigo="faltan_anios_cotizacion")}).instalar()
    d = CollectingDispatcher()
    formulario = ValidateSimulacionForm()
    # The plazo said is kept: simulated once the años are given.
    assert await formulario.validate_plazo(
        "48",
        d,
        tracker({"tipo_derechohabiente": "asegurado", "sueldo": "9000", "renovacion": False}),
        {},
    ) == {"plazo": 48, "pedir_anios": True}
    assert mensaje(d, "utter_simulacion_regla")["detalle"] == regla

    # The form now asks the años before the plazo, and only while they are missing.
    del_dominio = ["sueldo", "anios_cotizacion", "plazo"]
    pendiente = tracker({"sueldo": "9000", "pedir_anios": True})
    assert await formulario.required_slots(del_dominio, d, pendiente, {}) == del_dominio
    con_anios = tracker({"sueldo": "9000", "pedir_anios": None, "anios_cotizacion": 20})
    assert await formulario.required_slots(del_dominio, d, con_anios, {}) == ["sueldo", "plazo"]
    assert await formulario.required_slots(del_dominio, d, tracker({"sueldo": "9000"}), {}) == [
        "sueldo", "plazo"]

    preguntando = tracker(
        {"sueldo": "9000", "pedir_anios": True, "requested_slot": "anios_cotizacion"}
    )
    assert await formulario.validate_anios_cotizacion("veinte años", d, preguntando, {}) == {
        "anios_cotizacion": 20, "pedir_anios": None}
    for malo in ("muchos", "0", "80"):
        d2 = CollectingDispatcher()
        assert await formulario.validate_anios_cotizacion(malo, d2, preguntando, {}) == {
            "anios_cotizacion": None
        }
        assert respuestas(d2) == ["utter_anios_no_valido"]

    resultado = SIMULACION_48
    backend = BackendFalso({SIM: resultado}).instalar()
    slots = await formulario.validate_plazo(
        "48",
        CollectingDispatcher(),
        tracker(
            {
                "sueldo": "9000",
                "anios_cotizacion": 20,
                "producto": "credito_complementario",
                "renovacion": False,
                "tipo_derechohabiente": "asegurado",
            }
        ),
        {},
    )
    assert slots == {"plazo": 48, "simulacion": resultado}
    assert backend.cuerpo()["anios_cotizacion"] == 20


@pytest.mark.asyncio
async def test_anios_del_perfil_no_se_validan_como_respuesta():
    d = CollectingDispatcher()
    t = tracker({"anios_cotizacion": 31, "requested_slot": "sueldo"})
    assert await ValidateSimulacionForm().validate_anios_cotizacion(31, d, t, {}) == {
        "anios_cotizacion": 31
    }
    assert respuestas(d) == []


@pytest.mark.asyncio
async def test_la_respuesta_de_anios_se_valida_y_luego_se_pide_el_plazo():
    """Through rasa_sdk's own run(): the raw text Rasa extracted ("veinte años")
    is validated into a number, then the form asks for the plazo."""
    domain = {
        "forms": {"simulacion_form": {"required_slots": ["sueldo", "anios_cotizacion", "plazo"]}},
        "slots": {
            "sueldo": {"mappings": []},
            "anios_cotizacion": {"mappings": []},
            "plazo": {"mappings": []},
            "pedir_anios": {"mappings": []},
        },
    }
    t = respuesta_en_forma(
        "anios_cotizacion", "veinte años", {"sueldo": "9000", "pedir_anios": True}
    )
    d = CollectingDispatcher()
    eventos = await ValidateSimulacionForm().run(d, t, domain)
    assert slots_de(eventos) == {
        "anios_cotizacion": 20,
        "pedir_anios": None,
        "requested_slot": "plazo",
    }
    assert respuestas(d) == []


# ------------------------------------------------------------ renovación
DOMINIO_SIM = {
    "forms": {
        "simulacion_form": {"required_slots": ["sueldo", "renovacion", "anios_cotizacion", "plazo"]}
    },
    "slots": {
        s: {"mappings": []}
        for s in ("sueldo", "renovacion", "anios_cotizacion", "plazo", "pedir_anios", "simulacion")
    },
}


@pytest.mark.parametrize(
    "texto,esperado",
    [
        ("1", False),
        ("2", True),
        ("primer préstamo", False),
        ("es el primero", False),
        ("primero", False),
        ("renovación", True),
        ("renovacion", True),
        ("quiero renovar", True),
        ("ya tuve uno", True),
        ("dos", True),
        ("uno", False),
        (True, True),
        (False, False),
        ("sí", None),
        ("no", None),
        ("no sé", None),
        ("", None),
    ],
)
def test_primer_prestamo_o_renovacion(texto, esperado):
    assert leer_renovacion(texto) is esperado


@pytest.mark.asyncio
async def test_respuesta_de_renovacion_no_clara_se_pregunta_de_nuevo():
    d = CollectingDispatcher()
    assert await ValidateSimulacionForm().validate_renovacion(
        "sí", d, tracker({"sueldo": "9000"}), {}
    ) == {"renovacion": None}
    assert respuestas(d) == ["utter_renovacion_no_valida"]


@pytest.mark.asyncio
async def test_la_renovacion_va_al_backend_y_se_dice_en_el_resultado():
    resultado = {
        "descuento_quincenal": 1586.35,
        "monto_maximo": 40000.0,
        "tasa_anual": 0.17,
        "plazo_quincenas": 36,
        "renovacion": True,
        "nombre_producto": "Crédito complementario",
    }
    backend = BackendFalso({SIM: resultado}).instalar()
    slots = await ValidateSimulacionForm().validate_plazo(
        "36",
        CollectingDispatcher(),
        tracker({"tipo_derechohabiente": "asegurado", "sueldo": "12690.80", "renovacion": True}),
        {},
    )
    assert backend.cuerpo()["renovacion"] is True
    d = CollectingDispatcher()
    await ActionSimularPrestamo().run(d, tracker({"simulacion": slots["simulacion"]}), {})
    assert respuestas(d) == ["utter_simulacion_entendido", "utter_simulacion_resultado"]
    assert mensaje(d, "utter_simulacion_resultado")["tasa"] == "17 %"


@pytest.mark.asyncio
async def test_los_avisos_del_backend_se_dicen_despues_del_resultado():
    aviso = (
        "Con 36 quincenas, si usted tiene más de 28 años de cotización (hombres) o más de 26 años "
        "de "
        "cotización (mujeres), ese plazo no le corresponde; díganos sus años de cotización."
    )
    minimo = "Para el crédito complementario se necesita al menos 1 año de cotización."
    sim = {
        "descuento_quincenal": 1269.08,
        "monto_maximo": 30000.0,
        "tasa_anual": 0.16,
        "plazo_quincenas": 36,
        "avisos": [minimo, aviso, "  "],
    }
    d = CollectingDispatcher()
    await ActionSimularPrestamo().run(d, tracker({"simulacion": sim}), {})
    assert respuestas(d) == ["utter_simulacion_entendido", "utter_simulacion_resultado",
                             "utter_simulacion_aviso"]  # one message, however many caveats
    assert mensaje(d, "utter_simulacion_aviso")["aviso"] == f"{minimo} {aviso}"

    d = CollectingDispatcher()
    await ActionSimularPrestamo().run(d, tracker({"simulacion": {**sim, "avisos": []}}), {})
    assert "utter_simulacion_aviso" not in respuestas(d)


@pytest.mark.asyncio
async def test_sueldo_y_plazo_dichos_al_pedir_la_simulacion_llenan_la_forma():
    """"simular con sueldo de 20 mil a 48 quincenas": at activation Rasa hands the
    values over as prefilled slots; the form keeps them, asks only the
    modality, and simulates as soon as it is answered."""
    backend = BackendFalso(
        {
            SIM: {
                "descuento_quincenal": 2000.0,
                "monto_maximo": 60000.0,
                "tasa_anual": 0.16,
                "plazo_quincenas": 48,
                "nombre_producto": "Crédito complementario",
            }
        }
    ).instalar()
    formulario = ValidateSimulacionForm()
    activando = tracker({"sueldo": "20 mil", "plazo": "48 quincenas"}, intent="simular_prestamo",
                        texto="simular con sueldo de 20 mil a 48 quincenas",
                        eventos_extra=[{"event": "slot", "name": "sueldo", "value": "20 mil"},
                                       {"event": "slot", "name": "plazo", "value": "48 quincenas"}])
    d = CollectingDispatcher()
    eventos = slots_de(await formulario.run(d, activando, DOMINIO_SIM))
    assert eventos == {"sueldo": "20000.00", "plazo": 48, "requested_slot": "renovacion"}
    assert respuestas(d) == [] and backend.peticiones == []  # nothing to simulate yet

    responde = respuesta_en_forma(
        "renovacion",
        "primer préstamo",
        {"tipo_derechohabiente": "asegurado", "sueldo": "20000.00", "plazo": 48},
    )
    eventos = slots_de(await formulario.run(CollectingDispatcher(), responde, DOMINIO_SIM))
    assert eventos["renovacion"] is False and eventos["plazo"] == 48
    assert eventos["simulacion"]["monto_maximo"] == 60000.0
    assert eventos["requested_slot"] is None  # complete: the rule presents the result
    assert backend.cuerpo() == {
        "producto": "credito_complementario",
        "sueldo_base_mensual": 20000.0,
        "plazo_quincenas": 48,
        "renovacion": False,
        "tipo": "asegurado",
    }


@pytest.mark.asyncio
async def test_plazo_dicho_antes_que_no_se_permite_se_vuelve_a_preguntar():
    regla = "Con menos de 10 años de cotización el plazo máximo es de 36 quincenas."
    BackendFalso({SIM: error(422, regla, campos=["plazo_quincenas"])}).instalar()
    responde = respuesta_en_forma(
        "renovacion", "2", {"tipo_derechohabiente": "asegurado", "sueldo": "9000.00", "plazo": 72}
    )
    d = CollectingDispatcher()
    eventos = slots_de(await ValidateSimulacionForm().run(d, responde, DOMINIO_SIM))
    assert eventos == {"renovacion": True, "plazo": None, "requested_slot": "plazo"}
    assert mensaje(d, "utter_simulacion_regla")["detalle"] == regla


@pytest.mark.asyncio
async def test_backend_caido_a_media_forma_la_termina_de_verdad():
    """With required_slots overridden rasa_sdk appends the next slot to ask; the
    form must end anyway (ActiveLoop(None)) instead of asking after the apology."""
    BackendFalso({SIM: caido}).instalar()
    t = respuesta_en_forma(
        "plazo",
        "36",
        {"tipo_derechohabiente": "asegurado", "sueldo": "9000.00", "renovacion": False},
    )
    d = CollectingDispatcher()
    eventos = await ValidateSimulacionForm().run(d, t, DOMINIO_SIM)
    assert respuestas(d) == ["utter_servicio_no_disponible"]
    assert {"event": "active_loop", "name": None, "timestamp": None} in eventos
    assert slots_de(eventos)["plazo"] is None and slots_de(eventos)["simulacion"] is None


@pytest.mark.asyncio
async def test_preparar_conserva_lo_dicho_en_la_peticion_y_limpia_lo_demas():
    t = tracker(
        {
            "tipo_derechohabiente": "asegurado",
            "sueldo": "5000",
            "plazo": "48 quincenas",
            "renovacion": True,
            "simulacion": {"x": 1},
        },
        intent="simular_prestamo",
        texto="simular a 48 quincenas",
        eventos_extra=[{"event": "slot", "name": "plazo", "value": "48 quincenas"}],
    )
    slots = slots_de(await ActionPrepararSimulacion().run(CollectingDispatcher(), t, {}))
    assert slots["plazo"] == 48  # said now: read from the message, kept for the form
    assert slots["sueldo"] is None and slots["renovacion"] is None and slots["simulacion"] is None


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "prestamos,renovacion", [([], False), ([{"folio": "A", "estatus": "VIGENTE"}], None)]
)
async def test_sin_prestamos_registrados_es_primer_prestamo(prestamos, renovacion):
    BackendFalso({PERFIL: DATOS_DE_PERFIL, ("GET", "/api/v1/prestamos"): prestamos}).instalar()
    slots = slots_de(
        await ActionPrepararSimulacion().run(CollectingDispatcher(), tracker({"token": "tok"}), {})
    )
    # With a loan on record it may be either: the form asks.
    assert slots["renovacion"] is renovacion


@pytest.mark.asyncio
async def test_a_media_forma_otra_peticion_deja_la_forma():
    """The rule for the new request runs the request's own action, which leaves
    the rejected form (see cambio_de_tramite.py)."""
    BackendFalso({PERFIL: error(404, "x"), ("GET", "/api/v1/prestamos"): []}).instalar()
    t = tracker(
        {"token": "tok", "sueldo": "9000.00", "requested_slot": "plazo"},
        intent="simular_prestamo",
        active_loop="cita_form",
    )
    eventos = await ActionPrepararSimulacion().run(CollectingDispatcher(), t, {})
    assert eventos[0] == {"event": "active_loop", "name": None, "timestamp": None}
    assert slots_de(eventos)["oficina"] is None  # the cita form's slots go with it


# ------------------------------------------------------------ the product named
CATALOGO = json.loads(
    (Path(__file__).resolve().parents[2] / "backend" / "data" / "productos.json").read_text()
)
PRODUCTOS = ("GET", "/api/v1/productos")


@pytest.mark.parametrize("texto,clave", [
    ("quiero simular un prestamo especial", "especial"),
    ("cuanto me prestan en el ordinario", "ordinario"),
    ("simular el préstamo de emergencia", "emergente"),
    ("soy damnificado del sismo cuanto me dan", "damnificados"),
    ("kiero simular el complementario xfa", "credito_complementario"),
    ("simular el conmemorativo a 48 quincenas", "conmemorativo"),
    ("quiero simular un prestamo", None),
    ("simular el ordinario o el especial", None),  # two named: none chosen
])
def test_producto_nombrado_en_el_catalogo_real(texto, clave):
    producto = producto_nombrado(texto, CATALOGO["productos"])
    assert (producto or {}).get("clave") == clave


@pytest.mark.asyncio
async def test_la_peticion_que_nombra_un_producto_sin_renovacion_no_pregunta_renovacion():
    backend = BackendFalso({PRODUCTOS: CATALOGO}).instalar()
    t = tracker(
        {"producto": "credito_complementario", "renovacion": True},
        intent="simular_prestamo",
        texto="quiero simular un préstamo especial como renovación",
        eventos_extra=[{"event": "slot", "name": "renovacion", "value": True}],
    )
    slots = slots_de(await ActionPrepararSimulacion().run(CollectingDispatcher(), t, {}))
    assert slots["producto"] == "especial"
    assert slots["renovacion"] is False  # the especial has no renovación: simulated as a first loan
    # The catalogue is kept: a second request does not ask for it again.
    await ActionPrepararSimulacion().run(CollectingDispatcher(), t, {})
    assert [r.url.path for r in backend.peticiones] == ["/api/v1/productos"]


@pytest.mark.asyncio
async def test_el_producto_nombrado_va_al_backend():
    backend = BackendFalso(
        {
            PRODUCTOS: CATALOGO,
            SIM: error(422, "El plazo del Préstamo personal ordinario es de 24 a 48 quincenas."),
        }
    ).instalar()
    t = tracker(intent="simular_prestamo", texto="simular préstamo ordinario")
    slots = slots_de(await ActionPrepararSimulacion().run(CollectingDispatcher(), t, {}))
    assert (
        slots["producto"] == "ordinario" and "renovacion" in slots and slots["renovacion"] is False
    )
    d = CollectingDispatcher()
    t2 = tracker(
        {
            "tipo_derechohabiente": "asegurado",
            "sueldo": "12000.00",
            "producto": slots["producto"],
            "renovacion": False,
        }
    )
    assert await ValidateSimulacionForm().validate_plazo("12", d, t2, {}) == {"plazo": None}
    assert backend.cuerpo()["producto"] == "ordinario"
    assert mensaje(d, "utter_simulacion_regla")["detalle"].startswith(
        "El plazo del Préstamo personal ordinario"
    )


@pytest.mark.asyncio
async def test_sin_nombrar_producto_o_sin_catalogo_se_simula_el_complementario():
    BackendFalso({PRODUCTOS: caido}).instalar()
    t = tracker(intent="simular_prestamo", texto="quiero simular el especial")
    slots = slots_de(await ActionPrepararSimulacion().run(CollectingDispatcher(), t, {}))
    assert slots["producto"] == "credito_complementario"
    assert "renovacion" in slots and slots["renovacion"] is None  # cleared, so the form asks it
    # A renovable product named keeps the question.
    producto_simulado._catalogo.update(productos=None, hasta=0.0)
    BackendFalso({PRODUCTOS: CATALOGO}).instalar()
    t = tracker(
        {"producto": "especial"}, intent="simular_prestamo", texto="mejor el complementario"
    )
    slots = slots_de(await ActionPrepararSimulacion().run(CollectingDispatcher(), t, {}))
    assert slots["producto"] == "credito_complementario" and slots["renovacion"] is None
