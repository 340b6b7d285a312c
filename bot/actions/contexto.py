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

import re
from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import ActionExecuted, EventType, UserUttered
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.comun import AccionSegura
from bot.actions.datos_simulacion import datos_del_mensaje
from bot.texto import sin_acentos

# The bot's messages that end with an offer, and the request a "sí" accepts.
OFERTAS: Dict[str, str] = {
    "utter_faq/credito_complementario": "simular_prestamo",
    "utter_sin_prestamo": "simular_prestamo",
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
    otra_vez = UserUttered(
        mensaje.get("text"), parse_data=parse_data, input_channel=tracker.get_latest_input_channel()
    )
    otra_vez["metadata"] = (
        mensaje.get("metadata") or {}
    )  # the turn's key and deadline (comun.turno_de)
    return [ActionExecuted("action_listen"), otra_vez]


def peticion_implicita(tracker: Tracker) -> Optional[str]:
    """The request a loose "sí" or value answers, or None."""
    intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
    anterior = ultima_respuesta(tracker)
    datos = datos_del_mensaje(tracker)
    if anterior in OFERTAS and (intent == "afirmar" or datos):
        return OFERTAS[anterior]
    if (
        intent == "informar"
        and datos
        and (anterior in RESULTADOS_DE_SIMULACION or "sueldo" in datos or len(datos) >= 2)
    ):
        return "simular_prestamo"
    return None


# Words of this trámite ("el complementario", "un préstamo"): understood, if loose.
_DE_PRESTAMOS = re.compile(r"complementario|ordinario|especial|credito|prestamo|cita|fopi|saldo")


def _trae_algo(tracker: Tracker) -> bool:
    """A "sí", an entity, a figure or a value: something to ask a trámite for.
    Without any ("asdf qwerty"), the message was not understood."""
    mensaje = tracker.latest_message or {}
    intent = (mensaje.get("intent") or {}).get("name")
    texto = str(mensaje.get("text") or "")
    return (
        intent != "informar"
        or bool(mensaje.get("entities"))
        or bool(re.search(r"\d", texto))
        or bool(_DE_PRESTAMOS.search(sin_acentos(texto.lower())))
        or bool(datos_del_mensaje(tracker))
    )


# A request with a question in the same breath ("quiero simular un préstamo,
# ¿cuánto tardan en depositar?"): the NLU names one intent, the request; the
# ResponseSelector, which reads every message, names the question.
_PREGUNTA = re.compile(r"\b(cuanto|cuando|donde|como|que|cual|puedo|se puede|hay|piden|tardan?)\b")
_DE_LA_PETICION = re.compile(r"simul|prest|sueldo|gano|cobro|quincena")
CONFIANZA_PREGUNTA = 0.85


def pregunta_de_paso(tracker: Tracker) -> Optional[str]:
    """The FAQ answer (`utter_faq/...`) for a question asked along with a
    request, or None. Only a clause of its own that asks something, and only
    when the ResponseSelector is sure of it."""
    mensaje = tracker.latest_message or {}
    texto = sin_acentos(str(mensaje.get("text") or "").lower())
    clausulas = [c for c in re.split(r"[,;.?¿!]| y ", texto) if c.strip()]
    if len(clausulas) < 2 or not any(
        _PREGUNTA.search(c) and not _DE_LA_PETICION.search(c) for c in clausulas
    ):
        return None
    elegida = ((mensaje.get("response_selector") or {}).get("faq") or {}).get("response") or {}
    clave = elegida.get("intent_response_key") or ""
    try:
        confianza = float(elegida.get("confidence") or 0.0)
    except (TypeError, ValueError):
        return None
    if not clave.startswith("faq/") or clave in ("faq/credito_complementario", "faq/tasa_interes") \
            or confianza < CONFIANZA_PREGUNTA:
        return None
    return f"utter_{clave}"


class ActionInterpretarDato(AccionSegura):
    """A "sí" or a value with no form being filled."""

    nombre = "action_interpretar_dato"

    async def ejecutar(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        peticion = peticion_implicita(tracker)
        if peticion:
            return entendido_como(tracker, peticion)
        dispatcher.utter_message(
            response="utter_que_tramite" if _trae_algo(tracker) else "utter_no_entendi"
        )
        return []


class ActionRetomarTramite(AccionSegura):
    """One short line before a form asks its question again after a digression."""

    nombre = "action_retomar_tramite"

    async def ejecutar(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        respuesta = RETOMAR.get(tracker.active_loop_name or "")
        if respuesta:
            dispatcher.utter_message(response=respuesta)
        return []
