"""What a loose answer means, from what was said before it.

A "sí" or a value with no form being filled is not always a stray: it may
answer an offer ("¿Le hago una simulación?" → "sí" / "gano 14 mil"), correct
a result just given ("soy pensionada", "mejor a 72") or carry a whole request
in values ("si cobro 14 mil, ¿cuánto me dan a 48 quincenas?"). Then the
message is understood again as the request it answers: the action returns
the user's message once more with that intent (as Rasa's own two-stage
fallback does after an affirmation), and the request's rule runs with the
message's values. Anything else is asked "¿Qué trámite desea realizar?".

After a digression inside a form (a FAQ, the requisitos, the menu), the form
resumes with a short reminder of where it was (`action_retomar_tramite`).
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import ActionExecuted, EventType, UserUttered
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.comun import AccionSegura
from bot.actions.datos_simulacion import datos_del_mensaje

# The bot's messages that end with an offer, and the request a "sí" accepts.
OFERTAS: Dict[str, str] = {
    "utter_faq/tasa_interes": "simular_prestamo",
    "utter_faq/prestamos_simultaneos": "simular_prestamo",
}
# The bot's messages that give a simulation's result (a correction may follow).
RESULTADOS_DE_SIMULACION = {"utter_simulacion_resultado", "utter_simulacion_aviso"}

# The reminder each form resumes with after a digression.
RETOMAR: Dict[str, str] = {
    "simulacion_form": "utter_retomar_simulacion",
    "cita_form": "utter_retomar_cita",
    "cancelacion_form": "utter_retomar_cancelacion",
    "fopi_form": "utter_retomar_fopi",
    "identificacion_form": "utter_retomar_identificacion",
}


def ultima_respuesta(tracker: Tracker) -> Optional[str]:
    """The response name of the bot's last message before the latest user
    message (the same message understood again counts once)."""
    texto: Optional[str] = None
    for evento in reversed(tracker.events):
        tipo = evento.get("event")
        if tipo == "user":
            if texto is not None and evento.get("text") != texto:
                return None  # two user messages in a row: the bot said nothing in between
            texto = evento.get("text")
        elif tipo == "bot" and texto is not None:
            return (evento.get("metadata") or {}).get("utter_action")
    return None


def entendido_como(tracker: Tracker, intent: str) -> List[EventType]:
    """The latest user message again, with `intent`: the request's rule then runs."""
    mensaje = tracker.latest_message or {}
    parse_data = {
        "text": mensaje.get("text"),
        "intent": {"name": intent, "confidence": 1.0},
        "entities": mensaje.get("entities") or [],
        "intent_ranking": [{"name": intent, "confidence": 1.0}],
    }
    otra_vez = UserUttered(mensaje.get("text"), parse_data=parse_data, input_channel=tracker.get_latest_input_channel())
    otra_vez["metadata"] = mensaje.get("metadata") or {}  # the turn's key and deadline (comun.turno_de)
    return [ActionExecuted("action_listen"), otra_vez]


def peticion_implicita(tracker: Tracker) -> Optional[str]:
    """The request a loose "sí" or value answers, or None."""
    intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
    anterior = ultima_respuesta(tracker)
    datos = datos_del_mensaje(tracker)
    if anterior in OFERTAS and (intent == "afirmar" or datos):
        return OFERTAS[anterior]
    if intent == "informar" and datos and (anterior in RESULTADOS_DE_SIMULACION or "sueldo" in datos or len(datos) >= 2):
        return "simular_prestamo"
    return None


class ActionInterpretarDato(AccionSegura):
    """A "sí" or a value with no form being filled."""

    def name(self) -> str:
        return "action_interpretar_dato"

    async def ejecutar(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[EventType]:
        peticion = peticion_implicita(tracker)
        if peticion:
            return entendido_como(tracker, peticion)
        dispatcher.utter_message(response="utter_que_tramite")
        return []


class ActionRetomarTramite(AccionSegura):
    """One short line before a form asks its question again after a digression."""

    def name(self) -> str:
        return "action_retomar_tramite"

    async def ejecutar(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[EventType]:
        respuesta = RETOMAR.get(tracker.active_loop_name or "")
        if respuesta:
            dispatcher.utter_message(response=respuesta)
        return []
