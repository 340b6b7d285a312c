"""Regularización: quincenas the dependencia did not discount, and a FOPI to
pay them: the missed descuentos, computed by the backend (regularising avoids
moratorium interest, seed 001, so none is charged)."""

from __future__ import annotations

from abc import ABC
from typing import Any, Dict, List

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import backend_client as bc
from bot.actions.comun import AccionDeConsulta, AccionSegura, sin_prestamo
from bot.actions.fopi import AccionDeFopi
from bot.actions.formato import cantidad, dinero


def _sin_pendiente() -> List[EventType]:
    return [SlotSet("regularizacion_pendiente", False)]


class _SinPreguntaAbierta(AccionSegura, ABC):
    """Whatever happened, even an unexpected failure, "¿le genero el FOPI?" is left
    pending (`regularizacion_pendiente`) only by the answer that asks it."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        eventos = await super().run(dispatcher, tracker, domain)
        if any(e.get("name") == "regularizacion_pendiente" for e in eventos):
            return eventos
        return eventos + _sin_pendiente()


class ActionConsultarRegularizacion(_SinPreguntaAbierta, AccionDeConsulta):
    nombre = "action_consultar_regularizacion"

    async def consultar(self, api: bc.BackendClient, tracker: Tracker) -> Any:
        return await api.regularizacion()

    def sin_resultado(self, dispatcher: CollectingDispatcher, error: bc.BackendError) -> bool:
        return sin_prestamo(dispatcher, error)

    def mostrar(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, reg: Any
    ) -> List[EventType]:
        if not reg.get("pendiente"):
            dispatcher.utter_message(response="utter_regularizacion_al_corriente")
            return _sin_pendiente()
        quincenas = reg.get("quincenas") or []
        if not isinstance(quincenas, (list, int)) or reg.get("total") is None:
            dispatcher.utter_message(response="utter_servicio_no_disponible")
            return _sin_pendiente()
        dispatcher.utter_message(
            response="utter_regularizacion_pendiente",
            quincenas=cantidad(len(quincenas) if isinstance(quincenas, list) else quincenas,
                               "quincena", "quincenas"),
            adeudo=dinero(reg.get("adeudo")),
            total=dinero(reg.get("total")),
        )
        return [SlotSet("regularizacion_pendiente", True)]


class ActionGenerarFopiRegularizacion(_SinPreguntaAbierta, AccionDeFopi):
    """The answer to "¿le genero el FOPI?": whatever happens, nothing stays pending."""

    nombre = "action_generar_fopi_regularizacion"

    async def consultar(self, api: bc.BackendClient, tracker: Tracker) -> Any:
        return await api.fopi_regularizacion()
