"""Registro en la Oficina Virtual del ISSSTE (seeds 001-002): the guided steps
and the warning that the password is the user's own. We never ask for it."""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.comun import AccionSegura


class ActionRegistroOficinaVirtual(AccionSegura):
    nombre = "action_registro_oficina_virtual"
    deja_la_forma = True

    async def ejecutar(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        dispatcher.utter_message(response="utter_registro_oficina_virtual")
        dispatcher.utter_message(response="utter_contrasena_privada")
        dispatcher.utter_message(response="utter_oficina_virtual_servicios")
        return []
