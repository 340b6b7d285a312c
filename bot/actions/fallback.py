"""When the NLU is not sure (nlu_fallback): the first time ask to rephrase,
the second time in a row offer the menu and an asesor."""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.comun import AccionSegura

# Not understood: the NLU was unsure, or it was keyboard mashing (sin_sentido).
FALLBACK = {"nlu_fallback", "sin_sentido"}


def fallbacks_seguidos(tracker: Tracker) -> int:
    """How many user messages in a row, ending with the latest, were not understood."""
    seguidos = 0
    for evento in reversed(tracker.events):
        if evento.get("event") != "user":
            continue
        intent = ((evento.get("parse_data") or {}).get("intent") or {}).get("name")
        if intent not in FALLBACK:
            break
        seguidos += 1
    return seguidos


class ActionFallback(AccionSegura):
    nombre = "action_fallback"

    async def ejecutar(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        if fallbacks_seguidos(tracker) >= 2:
            dispatcher.utter_message(response="utter_fallback_menu")
        else:
            dispatcher.utter_message(response="utter_no_entendi")
        return []
