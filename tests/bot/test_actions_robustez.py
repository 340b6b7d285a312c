"""No silence and no half-set slots: whatever the backend answers (down, not
JSON, JSON of the wrong shape) or whatever goes wrong inside an action, the
user hears something and the slots are left clean."""

from __future__ import annotations

import logging
from typing import Any, Dict

import httpx
import pytest
from rasa_sdk import utils
from rasa_sdk.executor import ActionExecutor, CollectingDispatcher
from test_actions_apoyo import BackendFalso, caido, respuestas, slots_de, tracker

from bot.actions import backend_client as bc
from bot.actions.citas import ActionAgendarCita, ValidateCitaForm
from bot.actions.comun import SLOTS_DE_FORMA
from bot.actions.regularizacion import ActionGenerarFopiRegularizacion
from bot.actions.saldo import ActionConsultarSaldo

HORARIOS = [
    {"inicio": "2027-03-10T09:00:00-06:00", "hora": "09:00", "rango": "09:00 hrs-09:15 hrs"}
]
# A conversation where every action has what it needs to call the backend.
SLOTS_COMPLETOS: Dict[str, Any] = {
    "token": "tok",
    "identificado": True,
    "oficina": "3",
    "oficina_nombre": "Delegación",
    "fecha": "2027-03-10",
    "inicio_cita": HORARIOS[0]["inicio"],
    "horarios_ofrecidos": HORARIOS,
    "confirmar_cita": True,
    "clave_cita": "CC3QZ8",
    "fecha_nacimiento": "1956-04-27",
    "confirmar_cancelacion": True,
    "tipo_fopi": "parcial",
    "monto": "1500.00",
    "sueldo": "9000.00",
    "renovacion": False,
    "plazo": "36",
    "producto": "credito_complementario",
    "requested_slot": None,
}
DOMINIO = {"forms": {f: {"required_slots": s} for f, s in {
    "identificacion_form": ["curp", "nip"],
    "simulacion_form": ["sueldo", "renovacion", "anios_cotizacion", "plazo"],
    "cita_form": ["oficina", "fecha", "inicio_cita", "confirmar_cita"],
    "cancelacion_form": ["clave_cita", "fecha_nacimiento", "confirmar_cancelacion"],
    "fopi_form": ["tipo_fopi", "monto"],
}.items()}, "slots": {}}


def _acciones():
    executor = ActionExecutor()
    executor.register_package("bot.actions")
    return executor.actions


ACCIONES = _acciones()


@pytest.fixture(autouse=True)
def _sin_pausa(monkeypatch):
    monkeypatch.setattr(bc, "PAUSA_REINTENTO", 0)


def _backend_que_responde(respuesta):
    peticiones = []

    def manejador(request: httpx.Request) -> httpx.Response:
        peticiones.append(request)
        if callable(respuesta):
            return respuesta(request)
        return httpx.Response(200, **respuesta)

    bc.usar_transporte(httpx.MockTransport(manejador))
    return peticiones


RESPUESTAS_RARAS = {
    "caido": lambda r: caido(r),
    "html": {"text": "<html>mantenimiento</html>"},
    "vacio": {"json": {}},
    "lista": {"json": [{"x": 1}]},
    "tipos_raros": {
        "json": {
            "clave": 12,
            "horarios": "ninguno",
            "saldo_deudor_total": "n/a",
            "token": 5,
            "referencia": None,
            "pendiente": True,
            "quincenas": "tres",
            "url": 3,
            "monto_maximo": None,
            "sueldo_base_mensual": "x",
        }
    },
}


@pytest.mark.asyncio
@pytest.mark.parametrize("caso", sorted(RESPUESTAS_RARAS))
@pytest.mark.parametrize("nombre", sorted(ACCIONES))
async def test_ninguna_accion_se_queda_callada_ni_truena(nombre, caso):
    peticiones = _backend_que_responde(RESPUESTAS_RARAS[caso])
    slots = dict(SLOTS_COMPLETOS)
    eventos_extra = []
    validador = nombre.startswith("validate_")
    if validador:
        # A fresh answer to validate for the form's first slots, by someone not yet identified.
        forma = nombre.replace("validate_", "")
        slots["token"] = None
        for slot in DOMINIO["forms"][forma]["required_slots"][:2]:
            valor = {
                "curp": "HEGG560427MVZRRL04",
                "nip": "4821",
                "oficina": "Puebla",
                "fecha": "jueves",
                "clave_cita": "CC3QZ8",
                "fecha_nacimiento": "27/04/1956",
                "tipo_fopi": "parcial",
                "monto": "1500",
                "sueldo": "9000",
                "renovacion": "1",
            }[slot]
            slots[slot] = valor
            eventos_extra.append({"event": "slot", "name": slot, "value": valor})
        slots["requested_slot"] = DOMINIO["forms"][forma]["required_slots"][0]
    d = CollectingDispatcher()
    t = tracker(slots, active_loop=nombre.replace("validate_", "") if validador else None,
                eventos_extra=eventos_extra, canal="whatsapp")
    eventos = await ACCIONES[nombre](d, t, DOMINIO)  # never raises
    assert isinstance(eventos, list)
    dijo = [m for m in d.messages if m.get("response") or m.get("json_message")]
    # Silent by design: preparing (the form asks next), forgetting slots,
    # presenting a simulation the form did not get (the form said why), and the
    # reminder before a form resumes (no form here: the form asks next).
    silenciosas = {
        "action_preparar_simulacion",
        "action_validate_slot_mappings",
        "action_simular_prestamo",
        "action_retomar_tramite",
    }
    if not validador and nombre not in silenciosas:
        # Backend-less actions answer anyway; the others apologise at least.
        assert dijo, f"{nombre} se quedó callada con '{caso}'"
    if caso == "caido" and peticiones and nombre != "action_preparar_simulacion":
        # Whoever asked the backend and got nothing tells the user so.
        assert "utter_servicio_no_disponible" in respuestas(d), nombre
    if validador and peticiones and caso != "caido":
        # A validator that asked and got nonsense either says so or refuses the value.
        assert dijo or any(e.get("value") is None for e in eventos if e.get("event") == "slot"), (
            nombre
        )


@pytest.mark.asyncio
async def test_un_fallo_inesperado_se_disculpa_limpia_la_forma_y_no_registra_datos(
    monkeypatch, caplog
):
    async def truena(self, dispatcher, tracker, domain):
        raise ValueError("invalid literal for int(): 'HEGG560427MVZRRL04'")

    monkeypatch.setattr(ActionAgendarCita, "ejecutar", truena)
    d = CollectingDispatcher()
    caplog.set_level(logging.DEBUG)
    eventos = await ActionAgendarCita().run(d, tracker(SLOTS_COMPLETOS), {})
    assert respuestas(d) == ["utter_servicio_no_disponible"]
    assert slots_de(eventos) == {s: None for s in SLOTS_DE_FORMA["cita_form"]}
    assert "ValueError" in caplog.text and "HEGG560427MVZRRL04" not in caplog.text


@pytest.mark.asyncio
async def test_un_validador_que_truena_sale_de_la_forma(monkeypatch):
    async def truena(self, value, dispatcher, tracker, domain):
        raise KeyError("id")

    monkeypatch.setattr(ValidateCitaForm, "validate_oficina", truena)
    d = CollectingDispatcher()
    t = tracker(
        {"token": "tok", "oficina": "Puebla", "requested_slot": "oficina"},
        texto="Puebla",
        active_loop="cita_form",
        eventos_extra=[{"event": "slot", "name": "oficina", "value": "Puebla"}],
    )
    eventos = await ValidateCitaForm().run(d, t, DOMINIO)
    assert respuestas(d) == ["utter_servicio_no_disponible"]
    assert {"event": "active_loop", "name": None, "timestamp": None} in eventos
    assert all(v is None for v in slots_de(eventos).values())


@pytest.mark.asyncio
async def test_oficina_que_no_es_un_id_no_truena_al_agendar():
    backend = BackendFalso({}).instalar()
    d = CollectingDispatcher()
    eventos = await ActionAgendarCita().run(
        d, tracker({**SLOTS_COMPLETOS, "oficina": "Puebla"}), {}
    )
    assert respuestas(d) == ["utter_servicio_no_disponible"]
    assert backend.peticiones == []
    assert all(v is None for v in slots_de(eventos).values())


@pytest.mark.asyncio
async def test_regularizacion_con_backend_caido_no_deja_la_pregunta_pendiente():
    BackendFalso({("POST", "/api/v1/regularizacion/fopi"): caido}).instalar()
    d = CollectingDispatcher()
    eventos = await ActionGenerarFopiRegularizacion().run(
        d, tracker({"token": "tok", "regularizacion_pendiente": True}), {}
    )
    assert respuestas(d) == ["utter_servicio_no_disponible"]
    assert slots_de(eventos) == {"regularizacion_pendiente": False}


@pytest.mark.asyncio
async def test_saldo_sin_cifra_no_dice_none():
    BackendFalso({("GET", "/api/v1/prestamos/saldo"): {"al": "2026-03-01"}}).instalar()
    d = CollectingDispatcher()
    await ActionConsultarSaldo().run(d, tracker({"token": "tok"}), {})
    assert respuestas(d) == ["utter_servicio_no_disponible"]


# ------------------------------------- an entity that is only part of the answer
@pytest.mark.parametrize(
    "mensaje,entidad,validador,slot,esperado",
    [
        # DIET tagged the cents as the amount: the whole answer is read.
        (
            "dos mil quinientos pesos con cincuenta centavos",
            "cincuenta",
            "fopi",
            "monto",
            "2500.50",
        ),
        (
            "doce mil seiscientos noventa con ochenta centavos",
            "doce mil seiscientos noventa",
            "sim",
            "sueldo",
            "12690.80",
        ),
        # DIET split the spoken birth date: the year is in the whole answer.
        (
            "veintisiete de abril del cincuenta y seis",
            "veintisiete de abril",
            "cancel",
            "fecha_nacimiento",
            "1956-04-27",
        ),
    ],
)
@pytest.mark.asyncio
async def test_la_respuesta_completa_gana_a_una_entidad_parcial(
    mensaje, entidad, validador, slot, esperado
):
    from bot.actions.cancelacion import ValidateCancelacionForm
    from bot.actions.fopi import ValidateFopiForm
    from bot.actions.formulario_simulacion import ValidateSimulacionForm

    formulario = {
        "fopi": ValidateFopiForm,
        "sim": ValidateSimulacionForm,
        "cancel": ValidateCancelacionForm,
    }[validador]()
    t = tracker({"requested_slot": slot}, texto=mensaje)
    resultado = await utils.call_potential_coroutine(
        getattr(formulario, f"validate_{slot}")(entidad, CollectingDispatcher(), t, {}))
    assert resultado[slot] == esperado


@pytest.mark.asyncio
async def test_fecha_de_cita_prefiere_la_entidad_y_si_no_la_frase():
    from datetime import timedelta

    from bot.actions.lectura import hoy_mx

    dia = hoy_mx() + timedelta(days=1)
    backend = BackendFalso({("GET", "/api/v1/oficinas/3/disponibilidad"): {"horarios": [
        {"inicio": f"{dia}T09:00:00-06:00", "hora": "09:00 hrs-09:15 hrs"}]}}).instalar()
    # "mañana en la tarde": the entity is the day; the words around it are not.
    t = tracker(
        {"oficina": "3", "requested_slot": "fecha"}, texto="mañana en la tarde de preferencia"
    )
    slots = await ValidateCitaForm().validate_fecha("mañana", CollectingDispatcher(), t, {})
    assert slots["fecha"] == dia.isoformat() and len(backend.peticiones) == 1
