"""Loan simulation: the backend does the maths and says which plazo is allowed.

When the user is identified the form is prefilled from the profile (sueldo,
tipo, años de cotización, sexo). The plazo is checked by the backend itself:
a 422 `detail` explains the product rule and the form asks again. Without a
profile, a plazo longer than the shortest limit needs the años de cotización:
the backend says so (`faltan_anios_cotizacion`) and the form asks for them
before asking the plazo again.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import backend_client as bc
from actions.comun import ValidacionFormulario, dinero, leer_entero, leer_monto, porcentaje

ANIOS_MAXIMOS = 50

_PERFIL_A_SLOTS = {
    "sueldo_base_mensual": "sueldo",
    "tipo": "tipo_derechohabiente",
    "anios_cotizacion": "anios_cotizacion",
    "sexo": "sexo",
}


class ActionPrepararSimulacion(Action):
    """Clears the last simulation; with identity, prefills from the profile."""

    def name(self) -> str:
        return "action_preparar_simulacion"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[EventType]:
        eventos: List[EventType] = [SlotSet("plazo", None), SlotSet("simulacion", None),
                                    SlotSet("pedir_anios", None)]
        token = tracker.get_slot("token")
        if not token:
            return eventos + [SlotSet("sueldo", None)]
        try:
            async with bc.cliente(token) as api:
                perfil = await api.perfil()
        except (bc.BackendError, bc.BackendNoDisponible):
            # Not fatal: the form simply asks for the salary.
            return eventos + [SlotSet("sueldo", None)]
        for campo, slot in _PERFIL_A_SLOTS.items():
            valor = perfil.get(campo)
            eventos.append(SlotSet(slot, str(valor) if slot == "sueldo" and valor is not None else valor))
        if perfil.get("sueldo_base_mensual") is not None:
            dispatcher.utter_message(response="utter_simulacion_con_perfil",
                                     sueldo=dinero(perfil["sueldo_base_mensual"]))
        return eventos


class ValidateSimulacionForm(ValidacionFormulario):
    def name(self) -> str:
        return "validate_simulacion_form"

    async def required_slots(
        self, domain_slots: List[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[str]:
        # Años de cotización are asked only after the backend said it needs them,
        # and stay required until validate_anios_cotizacion accepts an answer and
        # clears pedir_anios (rasa_sdk validates only required slots, so dropping
        # it as soon as the raw text arrives would skip its validation).
        if tracker.get_slot("pedir_anios"):
            return domain_slots
        return [s for s in domain_slots if s != "anios_cotizacion"]

    def validate_anios_cotizacion(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        if tracker.get_slot("requested_slot") != "anios_cotizacion":
            return {"anios_cotizacion": value}  # prefilled from the profile: kept as is
        anios = leer_entero(value)
        if anios is None or not 1 <= anios <= ANIOS_MAXIMOS:
            dispatcher.utter_message(response="utter_anios_no_valido")
            return {"anios_cotizacion": None}
        return {"anios_cotizacion": anios, "pedir_anios": None}

    def validate_sueldo(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        monto = leer_monto(value)
        if monto is None:
            dispatcher.utter_message(response="utter_sueldo_no_valido")
            return {"sueldo": None}
        return {"sueldo": str(monto)}

    async def validate_plazo(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        plazo = leer_entero(value)
        if plazo is None or plazo <= 0:
            dispatcher.utter_message(response="utter_plazo_no_valido")
            return {"plazo": None}
        sueldo = tracker.get_slot("sueldo")
        if not sueldo:
            return {"plazo": plazo}
        try:
            async with bc.cliente() as api:
                resultado = await api.simular(
                    producto=tracker.get_slot("producto") or None,
                    sueldo_base_mensual=float(sueldo),
                    plazo_quincenas=plazo,
                    tipo=tracker.get_slot("tipo_derechohabiente"),
                    anios_cotizacion=tracker.get_slot("anios_cotizacion"),
                    sexo=tracker.get_slot("sexo"),
                )
        except bc.BackendNoDisponible:
            dispatcher.utter_message(response="utter_servicio_no_disponible")
            return {"plazo": None, "simulacion": None, "requested_slot": None}
        except bc.BackendError as error:
            if error.status == 422:
                dispatcher.utter_message(response="utter_simulacion_regla", detalle=error.detail)
                if error.data.get("codigo") == "faltan_anios_cotizacion":
                    return {"plazo": None, "pedir_anios": True}
                campos = error.data.get("campos") or []
                if "sueldo_base_mensual" in campos:
                    return {"plazo": None, "sueldo": None}
                return {"plazo": None}
            dispatcher.utter_message(response="utter_aviso_backend", detalle=error.detail)
            return {"plazo": None, "simulacion": None, "requested_slot": None}
        return {"plazo": plazo, "simulacion": resultado}


class ActionSimularPrestamo(Action):
    """Presents the simulation the form obtained (nothing to say if it was abandoned)."""

    def name(self) -> str:
        return "action_simular_prestamo"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[EventType]:
        sim: Optional[Dict[str, Any]] = tracker.get_slot("simulacion")
        if not sim:
            return [SlotSet("plazo", None)]
        dispatcher.utter_message(
            response="utter_simulacion_resultado",
            monto=dinero(sim.get("monto_maximo")),
            descuento=dinero(sim.get("descuento_quincenal")),
            plazo=sim.get("plazo_quincenas", ""),
            tasa=porcentaje(sim.get("tasa_anual")),
            sueldo=dinero(sim.get("sueldo_base_mensual", tracker.get_slot("sueldo"))),
            plazo_maximo=sim.get("plazo_maximo_permitido", sim.get("plazo_quincenas", "")),
        )
        return [SlotSet("plazo", None), SlotSet("simulacion", None)]
