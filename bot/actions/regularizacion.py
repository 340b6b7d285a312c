"""Regularización: quincenas the dependencia did not discount, and a FOPI to
pay them (adeudo + interés moratorio, computed by the backend)."""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import backend_client as bc
from actions.comun import dinero, responder_error, token_o_aviso
from actions.fopi import presentar_fopi


class ActionConsultarRegularizacion(Action):
    def name(self) -> str:
        return "action_consultar_regularizacion"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[EventType]:
        token = token_o_aviso(dispatcher, tracker)
        if not token:
            return [SlotSet("regularizacion_pendiente", False)]
        try:
            async with bc.cliente(token) as api:
                reg = await api.regularizacion()
        except bc.BackendError as error:
            if error.status == 404:
                dispatcher.utter_message(response="utter_sin_prestamo", detalle=error.detail)
                return [SlotSet("regularizacion_pendiente", False)]
            return responder_error(dispatcher, error) + [SlotSet("regularizacion_pendiente", False)]
        except bc.BackendNoDisponible as error:
            return responder_error(dispatcher, error) + [SlotSet("regularizacion_pendiente", False)]
        if not reg.get("pendiente"):
            dispatcher.utter_message(response="utter_regularizacion_al_corriente")
            return [SlotSet("regularizacion_pendiente", False)]
        quincenas = reg.get("quincenas") or []
        dispatcher.utter_message(
            response="utter_regularizacion_pendiente",
            quincenas=len(quincenas) if isinstance(quincenas, list) else quincenas,
            adeudo=dinero(reg.get("adeudo")),
            interes=dinero(reg.get("interes_moratorio")),
            total=dinero(reg.get("total")),
        )
        return [SlotSet("regularizacion_pendiente", True)]


class ActionGenerarFopiRegularizacion(Action):
    def name(self) -> str:
        return "action_generar_fopi_regularizacion"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[EventType]:
        token = token_o_aviso(dispatcher, tracker)
        if not token:
            return [SlotSet("regularizacion_pendiente", False)]
        try:
            async with bc.cliente(token) as api:
                fopi = await api.fopi_regularizacion()
        except bc.BackendError as error:
            if error.status in (404, 409, 422):
                dispatcher.utter_message(response="utter_fopi_no_generado", detalle=error.detail)
                return [SlotSet("regularizacion_pendiente", False)]
            return responder_error(dispatcher, error) + [SlotSet("regularizacion_pendiente", False)]
        except bc.BackendNoDisponible as error:
            return responder_error(dispatcher, error)
        presentar_fopi(dispatcher, fopi)
        return [SlotSet("regularizacion_pendiente", False)]
