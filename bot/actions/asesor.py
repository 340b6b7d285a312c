"""Hand-off to a human asesor: a response plus `{"accion": "transferir"}` so
the phone line can <Dial>. Any open form is left cleanly first."""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.comun import AccionSegura, salir_de_forma

ACCION_TRANSFERIR = {"accion": "transferir"}


class ActionTransferirAsesor(AccionSegura):
    nombre = "action_transferir_asesor"

    async def ejecutar(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        dispatcher.utter_message(response="utter_transferir_asesor")
        dispatcher.utter_message(json_message=dict(ACCION_TRANSFERIR))
        return salir_de_forma(tracker.active_loop_name)
