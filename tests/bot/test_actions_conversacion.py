"""Conversations as people talk: every simulation value read wherever it is
said (with its negation), a loose "sí" or value understood from what came
before it, a correction after a result, a form resumed with a value."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Dict, List, Tuple

import pytest
from rasa_sdk.executor import CollectingDispatcher
from test_actions_apoyo import (
    SIMULACION_48,
    BackendFalso,
    respuesta_en_forma,
    respuestas,
    slots_de,
    tracker,
)

from bot.actions.contexto import ActionInterpretarDato, ActionRetomarTramite, ultima_respuesta
from bot.actions.datos_simulacion import leer_datos, leer_renovacion_dicha, leer_tipo, resumen
from bot.actions.formulario_simulacion import ValidateSimulacionForm
from bot.actions.simulacion import ActionPrepararSimulacion

DOMINIO_SIM = {"forms": {"simulacion_form": {"required_slots": [
    "sueldo", "tipo_derechohabiente", "renovacion", "anios_cotizacion", "plazo"]}}}
SIM = ("POST", "/api/v1/simulaciones")


@pytest.mark.parametrize(
    "texto,esperado",
    [
        (
            "si cobro 14 mil al mes, ¿cuánto me dan a 48 quincenas? ya estoy jubilado",
            {"sueldo": Decimal("14000.00"), "plazo": 48, "tipo": "pensionado"},
        ),
        ("mi sueldo es de 12690.80 al mes", {"sueldo": Decimal("12690.80")}),
        (
            "doce mil seiscientos noventa pesos con ochenta centavos",
            {"sueldo": Decimal("12690.80")},
        ),
        ("gano siete mil a la quincena", {"sueldo": Decimal("14000.00")}),
        ("gano veinte mil quinientos a 48 quincenas", {"sueldo": Decimal("20500.00"), "plazo": 48}),
        (
            "gano $15,500.00 mensuales, quiero a dieciocho meses",
            {"sueldo": Decimal("15500.00"), "plazo": 36},
        ),
        ("bueno, continuamos: gano 11 mil", {"sueldo": Decimal("11000.00")}),
        ("36 quincenas", {"plazo": 36}),
        ("mejor a 72", {"plazo": 72}),
        ("a 3 años", {"plazo": 72}),
        ("tengo 12 años cotizando", {"anios": 12}),
        ("llevo quince años trabajando en el issste", {"anios": 15}),
        ("es el primero, no es renovación", {"renovacion": False}),
        ("no es el primero", {"renovacion": True}),
        ("ya tuve uno antes, es renovación", {"renovacion": True}),
        ("no, la primera", {"renovacion": False}),
        ("soy pensionada", {"tipo": "pensionado"}),
        ("no soy pensionado", {"tipo": "asegurado"}),
        ("sigo trabajando", {"tipo": "asegurado"}),
        ("36 quincenas, soy pensionado", {"plazo": 36, "tipo": "pensionado"}),
        # Nothing a simulation needs: a CURP's digits, an age, a bare option, a product.
        ("HEGG560427MVZRRL04", {}),
        ("tengo 45 años", {}),
        ("2", {}),
        ("crédito complementario", {}),
        ("/simular_prestamo", {}),
    ],
)
def test_lee_cada_dato_donde_se_diga(texto: str, esperado: Dict[str, Any]):
    assert leer_datos(texto) == esperado


def test_las_entidades_del_nlu_completan_lo_que_el_texto_no_dice_claro():
    entidades = [
        {"entity": "tipo_derechohabiente", "value": "pensionado"},
        {"entity": "tipo_prestamo", "value": "renovacion"},
        {"entity": "anios", "value": "doce"},
    ]
    assert leer_datos("pues eso", entidades) == {
        "tipo": "pensionado",
        "renovacion": True,
        "anios": 12,
    }
    # What the text says beats the entity (the NLU tags "renovación" also when negated).
    assert leer_datos("no es renovación", [{"entity": "tipo_prestamo", "value": "renovacion"}]) == {
        "renovacion": False}


def test_negaciones_sueltas():
    assert leer_tipo("no, no estoy jubilada") == "asegurado"
    assert leer_renovacion_dicha("nunca he pedido uno") is False
    assert leer_renovacion_dicha("hola") is None


def test_resumen_en_una_linea():
    assert resumen(renovacion=False, tipo="pensionado", plazo=36, sueldo="12690.80") == (
        "primer préstamo, pensionado, 36 quincenas, sueldo mensual de $12,690.80")
    assert resumen(renovacion=True, tipo="pensionado", plazo=72, sueldo="9000", sexo="M") == (
        "renovación, pensionada, 72 quincenas, sueldo mensual de $9,000.00")


def _bot(utter_action: str) -> Dict[str, Any]:
    return {"event": "bot", "text": "…", "metadata": {"utter_action": utter_action}}


def _usuario(texto: str, intent: str = "informar") -> Dict[str, Any]:
    return {
        "event": "user",
        "text": texto,
        "parse_data": {"intent": {"name": intent}, "entities": [], "text": texto},
    }


async def _interpretar_tras(
    antes: str, intent: str, texto: str
) -> Tuple[CollectingDispatcher, List[Dict[str, Any]]]:
    """action_interpretar_dato on `texto`, said after a greeting and the bot's `antes`."""
    t = tracker(intent=intent, texto=texto, anteriores=[_usuario("hola", "saludar"), _bot(antes)])
    d = CollectingDispatcher()
    return d, await ActionInterpretarDato().run(d, t, {})


@pytest.mark.asyncio
@pytest.mark.parametrize("intent,texto,antes", [
    ("afirmar", "sí, por favor", "utter_faq/tasa_interes"),
    ("informar", "gano doce mil", "utter_faq/prestamos_simultaneos"),
    ("informar", "soy pensionada", "utter_simulacion_resultado"),
    ("informar", "si cobro 14 mil, a 48 quincenas", "utter_saludo"),
])
async def test_un_si_o_un_dato_que_responde_algo_se_entiende_como_la_peticion(intent, texto, antes):
    d, eventos = await _interpretar_tras(antes, intent, texto)
    assert respuestas(d) == []
    assert [e["event"] for e in eventos] == ["action", "user"]
    assert eventos[1]["parse_data"]["intent"]["name"] == "simular_prestamo"
    assert eventos[1]["text"] == texto


@pytest.mark.asyncio
@pytest.mark.parametrize("intent,texto,antes", [
    ("afirmar", "sí", "utter_saludo"),
    ("informar", "36 quincenas", "utter_saludo"),
    ("informar", "CC3QZ8", "utter_faq/tasa_interes"),
])
async def test_sin_nada_que_responda_pregunta_que_tramite(intent, texto, antes):
    d, eventos = await _interpretar_tras(antes, intent, texto)
    assert eventos == []
    assert respuestas(d) == ["utter_que_tramite"]


def test_la_ultima_respuesta_cuenta_el_mensaje_reinterpretado_una_vez():
    t = tracker(
        intent="simular_prestamo",
        texto="soy pensionada",
        anteriores=[
            _usuario("36"),
            _bot("utter_simulacion_resultado"),
            _usuario("soy pensionada"),
            {"event": "action", "name": "action_interpretar_dato"},
            {"event": "action", "name": "action_listen"},
        ],
    )
    assert ultima_respuesta(t) == "utter_simulacion_resultado"
    dos_seguidos = tracker(
        texto="otra cosa", anteriores=[_bot("utter_simulacion_resultado"), _usuario("algo")]
    )
    assert ultima_respuesta(dos_seguidos) is None


def _tras_el_resultado(slots: Dict[str, Any], texto: str) -> Any:
    """A new simulation request right after a result was shown."""
    return tracker(slots, intent="simular_prestamo", texto=texto,
                   anteriores=[_usuario("36"), _bot("utter_simulacion_resultado")])


def _respuesta_a_renovacion(texto: str) -> Any:
    """`texto` said when the form asked primer préstamo o renovación (the sueldo already given)."""
    return respuesta_en_forma("renovacion", texto, {"sueldo": "12690.80"})


@pytest.mark.asyncio
async def test_una_correccion_tras_el_resultado_conserva_lo_demas():
    previa = {
        "sueldo": "12690.80",
        "renovacion": False,
        "tipo_derechohabiente": "asegurado",
        "plazo": 36,
        "producto": "credito_complementario",
    }
    t = _tras_el_resultado(
        {"ultima_simulacion": previa, "producto": "credito_complementario"}, "soy pensionada"
    )
    BackendFalso({}).instalar()
    slots = slots_de(await ActionPrepararSimulacion().run(CollectingDispatcher(), t, {}))
    assert slots["tipo_derechohabiente"] == "pensionado"
    assert (slots["sueldo"], slots["renovacion"], slots["plazo"]) == ("12690.80", False, 36)


@pytest.mark.asyncio
async def test_una_peticion_nueva_sin_datos_tras_el_resultado_empieza_de_cero():
    previa = {
        "sueldo": "12690.80",
        "renovacion": False,
        "tipo_derechohabiente": "asegurado",
        "plazo": 36,
    }
    t = _tras_el_resultado(
        {"ultima_simulacion": previa, "sueldo": "12690.80"}, "quiero otra simulación"
    )
    BackendFalso({}).instalar()
    slots = slots_de(await ActionPrepararSimulacion().run(CollectingDispatcher(), t, {}))
    assert slots["sueldo"] is None and slots["plazo"] is None


@pytest.mark.asyncio
async def test_retomar_la_simulacion_conserva_lo_dado_y_toma_el_valor_nuevo():
    """"bueno, continuamos: gano 11 mil" after the requisitos, taken as a new request."""
    t = tracker(
        {"renovacion": False, "tipo_derechohabiente": "pensionado", "requested_slot": "sueldo"},
        intent="simular_prestamo",
        texto="bueno, continuamos: gano 11 mil",
        active_loop="simulacion_form",
    )
    BackendFalso({}).instalar()
    slots = slots_de(await ActionPrepararSimulacion().run(CollectingDispatcher(), t, {}))
    assert slots["sueldo"] == "11000.00"
    assert "renovacion" not in slots and "tipo_derechohabiente" not in slots


@pytest.mark.asyncio
async def test_respuestas_fuera_de_orden_llenan_la_forma_sin_regaño():
    """Asked primer préstamo o renovación, the person gives the plazo and the tipo."""
    for texto in ("36 quincenas", "soy pensionado"):
        d = CollectingDispatcher()
        eventos = slots_de(
            await ValidateSimulacionForm().run(d, _respuesta_a_renovacion(texto), DOMINIO_SIM)
        )
        assert respuestas(d) == []  # no "no me quedó claro"
        assert eventos["renovacion"] is None
        assert eventos.get("plazo") == 36 or eventos.get("tipo_derechohabiente") == "pensionado"


@pytest.mark.asyncio
async def test_varios_valores_en_una_respuesta_simulan_una_sola_vez():
    resultado = {"descuento_quincenal": 1015.26, "monto_maximo": 39745.43, "tasa_anual": 0.16,
                 "plazo_quincenas": 36, "renovacion": False, "tipo": "pensionado"}
    backend = BackendFalso({SIM: resultado}).instalar()
    texto = "es el primero, no es renovación, soy pensionado, a 36 quincenas"
    t = _respuesta_a_renovacion(texto)
    eventos = slots_de(await ValidateSimulacionForm().run(CollectingDispatcher(), t, DOMINIO_SIM))
    assert eventos["simulacion"] == resultado and eventos["requested_slot"] is None
    assert len(backend.peticiones) == 1
    assert backend.cuerpo()["tipo"] == "pensionado" and backend.cuerpo()["renovacion"] is False


@pytest.mark.asyncio
async def test_sin_tipo_la_forma_lo_pregunta_antes_de_simular():
    backend = BackendFalso({}).instalar()
    t = respuesta_en_forma("plazo", "36", {"sueldo": "12690.80", "renovacion": False})
    eventos = slots_de(await ValidateSimulacionForm().run(CollectingDispatcher(), t, DOMINIO_SIM))
    assert eventos["requested_slot"] == "tipo_derechohabiente" and backend.peticiones == []


@pytest.mark.asyncio
async def test_retomar_dice_donde_iba():
    d = CollectingDispatcher()
    await ActionRetomarTramite().run(d, tracker(active_loop="simulacion_form"), {})
    assert respuestas(d) == ["utter_retomar_simulacion"]
    d2 = CollectingDispatcher()
    await ActionRetomarTramite().run(d2, tracker(), {})
    assert respuestas(d2) == []


def _con_pregunta(texto: str, clave: str, confianza: float) -> Any:
    t = tracker(intent="simular_prestamo", texto=texto)
    t.latest_message["response_selector"] = {"faq": {"response": {
        "intent_response_key": clave, "confidence": confianza}}}
    return t


@pytest.mark.parametrize("texto,clave,confianza,esperado", [
    ("Quiero simular un préstamo, ¿cuánto tardan en depositar?", "faq/tiempo_deposito", 0.97,
     "utter_faq/tiempo_deposito"),
    ("quiero simular un préstamo y cuánto tardan en depositar", "faq/tiempo_deposito", 0.97,
     "utter_faq/tiempo_deposito"),
    # unsure
    ("Quiero simular un préstamo, ¿cuánto tardan en depositar?", "faq/tiempo_deposito", 0.5, None),
    ("quiero simular un préstamo", "faq/tiempo_deposito", 0.99, None),  # nothing asked
    # the request's own question
    ("cuánto me prestan, gano 14 mil", "faq/tasa_interes", 0.99, None),
])
def test_una_pregunta_junto_a_la_peticion(texto, clave, confianza, esperado):
    from bot.actions.contexto import pregunta_de_paso

    assert pregunta_de_paso(_con_pregunta(texto, clave, confianza)) == esperado


@pytest.mark.asyncio
async def test_la_pregunta_de_paso_se_contesta_antes_de_simular():
    BackendFalso({}).instalar()
    d = CollectingDispatcher()
    await ActionPrepararSimulacion().run(
        d,
        _con_pregunta(
            "Quiero simular un préstamo, ¿cuánto tardan en depositar?", "faq/tiempo_deposito", 0.97
        ),
        {},
    )
    assert respuestas(d)[0] == "utter_faq/tiempo_deposito"


@pytest.mark.asyncio
@pytest.mark.parametrize("texto,respuesta", [
    ("asdf qwerty ñlkj", "utter_no_entendi"),
    ("el complementario", "utter_que_tramite"),
])
async def test_un_dato_suelto_sin_nada_no_se_entendio(texto, respuesta):
    d = CollectingDispatcher()
    await ActionInterpretarDato().run(d, tracker(intent="informar", texto=texto), {})
    assert respuestas(d) == [respuesta]


@pytest.mark.asyncio
async def test_los_anios_pedidos_simulan_con_el_plazo_ya_dicho():
    """Asked for 48 quincenas without años: the form asks the años and, once
    given, simulates those 48 quincenas without asking the plazo again."""
    resultado = SIMULACION_48
    backend = BackendFalso({SIM: resultado}).instalar()
    t = respuesta_en_forma(
        "anios_cotizacion",
        "15",
        {
            "sueldo": "12000.00",
            "tipo_derechohabiente": "asegurado",
            "renovacion": False,
            "plazo": 48,
            "pedir_anios": True,
        },
        texto="Tengo 15 años cotizando.",
    )
    eventos = slots_de(await ValidateSimulacionForm().run(CollectingDispatcher(), t, DOMINIO_SIM))
    assert eventos["simulacion"] == resultado and eventos["requested_slot"] is None
    assert backend.cuerpo()["plazo_quincenas"] == 48 and backend.cuerpo()["anios_cotizacion"] == 15


@pytest.mark.asyncio
async def test_el_producto_dicho_al_pedir_el_sueldo_no_se_regaña():
    catalogo = {"productos": [{"clave": "credito_complementario", "renovable": True},
                              {"clave": "ordinario", "renovable": False}]}
    BackendFalso({("GET", "/api/v1/productos"): catalogo}).instalar()
    from bot.actions import producto_simulado

    producto_simulado._catalogo.update(productos=None, hasta=0.0)
    t = respuesta_en_forma("sueldo", "el ordinario")
    d = CollectingDispatcher()
    eventos = slots_de(await ValidateSimulacionForm().run(d, t, DOMINIO_SIM))
    assert respuestas(d) == []
    assert (
        eventos["producto"] == "ordinario"
        and eventos["renovacion"] is False
        and eventos["sueldo"] is None
    )
