"""A new request in the middle of a form switches to it.

Decision: the form being filled is abandoned and the new request starts
fresh; only a FAQ, the requisitos, the menu or "¿es un robot?" are
digressions that answer and return to the form (rules.yml). The switch has
two halves:

* here, after the slots of every user message are extracted (Rasa runs
  `action_validate_slot_mappings` then, before predicting anything), a
  request forgets the values left by forms that are no longer being filled,
  keeping what the message itself said ("cita en Puebla el jueves" prefills
  the new form);
* the active form is rejected (its slot mappings do not take a request as an
  answer), the rule for the new request runs, and its first step either
  activates the new form in place of the old one or, for a plain action,
  deactivates the old form and clears it (`AccionSegura.deja_la_forma`).

The active form's own slots are not touched here: Rasa counts any slot of the
form set since the user spoke as an answer, and the form would go on instead
of being rejected. Rasa accepts only `SlotSet` events from this action, so it
cannot deactivate the form itself either.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.comun import SLOTS_DE_FORMA, slots_de_este_turno
from bot.actions.datos_simulacion import monto_dicho
from bot.actions.medicion import medir_accion

# Each request intent and the form it fills, if any.
PETICIONES: Dict[str, str] = {
    "consultar_saldo": "",
    "consultar_condiciones_prestamo": "",
    "consultar_historial_prestamos": "",
    "consultar_citas": "",
    "reimprimir_cita": "",
    "regularizar_pagos": "",
    "registro_oficina_virtual": "",
    "simular_prestamo": "simulacion_form",
    "agendar_cita": "cita_form",
    "cancelar_cita": "cancelacion_form",
    "generar_fopi": "fopi_form",
}
MONTO_MINIMO = Decimal(100)
# Identity is not a request: a CURP already given is kept for the new one.
_NO_SE_OLVIDAN = {"identificacion_form"}


class ActionValidateSlotMappings(Action):
    def name(self) -> str:
        return "action_validate_slot_mappings"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        # Rasa runs this after every user message: its time is part of every turn.
        async with medir_accion(self.name()):
            return self._olvidar(tracker) + self._monto_de_la_peticion(tracker)

    @staticmethod
    def _monto_de_la_peticion(tracker: Tracker) -> List[EventType]:
        """"kiero pagar 2000 de mi préstamo, necesito mi fopi": the amount the NLU
        did not tag prefills the pago parcial (a figure under $100 is no amount)."""
        mensaje = tracker.latest_message or {}
        if ((mensaje.get("intent") or {}).get("name") != "generar_fopi"
                or slots_de_este_turno(tracker).get("monto") is not None):
            return []
        monto = monto_dicho(mensaje.get("text"), MONTO_MINIMO)
        return [SlotSet("monto", str(monto))] if monto is not None else []

    @staticmethod
    def _olvidar(tracker: Tracker) -> List[EventType]:
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        if intent not in PETICIONES:
            return []
        activa = (tracker.active_loop or {}).get("name")
        if activa and PETICIONES[intent] == activa:
            # Asking again for what is being filled ("quiero simular a 36 quincenas"
            # while simulating): the message answers the form, nothing is forgotten.
            return []
        de_este_mensaje = slots_de_este_turno(tracker)
        return [
            SlotSet(slot, None)
            for forma, slots in SLOTS_DE_FORMA.items()
            if forma not in _NO_SE_OLVIDAN and forma != activa
            for slot in slots
            if slot not in de_este_mensaje and tracker.get_slot(slot) is not None
        ]
