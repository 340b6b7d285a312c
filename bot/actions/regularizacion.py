"""Regularización: quincenas the dependencia did not discount, and a FOPI to
pay them: the missed descuentos, computed by the backend (regularising avoids
moratorium interest, seed 001, so none is charged)."""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import backend_client as bc
from bot.actions.comun import AccionDeConsulta, sin_prestamo
from bot.actions.fopi import AccionDeFopi
from bot.actions.formato import cantidad, dinero


def _sin_pendiente() -> List[EventType]:
    return [SlotSet("regularizacion_pendiente", False)]


class ActionConsultarRegularizacion(AccionDeConsulta):
    def name(self) -> str:
        return "action_consultar_regularizacion"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        # Even after an unexpected failure the "¿le genero el FOPI?" question was not asked.
        eventos = await super().run(dispatcher, tracker, domain)
        if not any(e.get("name") == "regularizacion_pendiente" for e in eventos):
            eventos = eventos + _sin_pendiente()
        return eventos

    # Every answer but "pendiente" ends with regularizacion_pendiente False (run above).
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


class ActionGenerarFopiRegularizacion(AccionDeFopi):
    def name(self) -> str:
        return "action_generar_fopi_regularizacion"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        # Whatever happens, the question was answered: nothing stays pending.
        eventos = await super().run(dispatcher, tracker, domain)
        return [
            e for e in eventos if e.get("name") != "regularizacion_pendiente"
        ] + _sin_pendiente()

    async def consultar(self, api: bc.BackendClient, tracker: Tracker) -> Any:
        return await api.fopi_regularizacion()
