"""Leaving things: `detener` (quit the current form cleanly) and `despedir`
(goodbye plus `{"accion": "colgar"}` so the phone line hangs up)."""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.comun import AccionSegura, salir_de_forma

ACCION_COLGAR = {"accion": "colgar"}


class ActionDetener(AccionSegura):
    nombre = "action_detener"

    async def ejecutar(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        dispatcher.utter_message(response="utter_detenido")
        return salir_de_forma(tracker.active_loop_name) + [SlotSet("pendiente", None)]


class ActionDespedir(AccionSegura):
    nombre = "action_despedir"

    async def ejecutar(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        nombre = (tracker.get_slot("nombre") or "").strip()
        if nombre:
            dispatcher.utter_message(response="utter_despedida_nombre", nombre=nombre)
        else:
            dispatcher.utter_message(response="utter_despedida")
        dispatcher.utter_message(json_message=dict(ACCION_COLGAR))
        forma = tracker.active_loop_name
        return salir_de_forma(forma) if forma else []
