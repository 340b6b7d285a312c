"""Formato de Pago de Individuales (FOPI): pago parcial (con monto) o
liquidación. The backend issues the reference and the signed PDF link."""

from __future__ import annotations

from abc import ABC
from typing import Any, Collection, Dict, List, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions import backend_client as bc
from bot.actions.comun import (
    SLOTS_DE_FORMA,
    AccionDeConsulta,
    ValidacionFormulario,
    leer_primero,
    limpiar,
    respuestas_posibles,
)
from bot.actions.formato import deletrear, dinero, fecha_texto
from bot.actions.lectura import leer_monto, texto_de
from bot.texto import sin_acentos

# What people answer to "¿parcial o liquidación?" (typed, tapped or said).
_PALABRAS_TIPO = {
    "parcial": ("parcial", "abono", "una parte", "parte", "1"),
    "liquidacion": ("liquidacion", "liquidar", "total", "todo", "completo", "2"),
}


def leer_tipo_fopi(valor: Any) -> Optional[str]:
    texto = sin_acentos(texto_de(valor).lower())
    for tipo, palabras in _PALABRAS_TIPO.items():
        if any(texto == p or (len(p) > 1 and p in texto) for p in palabras):
            return tipo
    return None


class ValidateFopiForm(ValidacionFormulario):
    def name(self) -> str:
        return "validate_fopi_form"

    def slots_omitidos(self, tracker: Tracker, domain_slots: List[str]) -> Collection[str]:
        # A liquidación pays the whole saldo: no monto to ask.
        return ("monto",) if tracker.get_slot("tipo_fopi") == "liquidacion" else ()

    def validate_tipo_fopi(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        tipo = leer_tipo_fopi(value)
        if tipo is None:
            dispatcher.utter_message(response="utter_tipo_fopi_no_valido")
            return {"tipo_fopi": None}
        return {"tipo_fopi": tipo}

    def validate_monto(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        monto = leer_primero(
            leer_monto, respuestas_posibles(tracker, "monto", value, texto_primero=True)
        )
        if monto is None:
            dispatcher.utter_message(response="utter_monto_no_valido")
            return {"monto": None}
        return {"monto": str(monto)}


def presentar_fopi(dispatcher: CollectingDispatcher, fopi: Dict[str, Any]) -> None:
    """The issued FOPI in words, plus its signed PDF link as an attachment."""
    referencia = str(fopi.get("referencia") or "")
    if not referencia:
        # A FOPI without its reference cannot be paid: do not present half of it.
        dispatcher.utter_message(response="utter_servicio_no_disponible")
        return
    dispatcher.utter_message(
        response="utter_fopi_generado",
        referencia=fopi.get("referencia_formateada") or referencia,
        referencia_deletreada=deletrear(referencia),
        monto=dinero(fopi.get("monto")),
        vigencia=fecha_texto(fopi.get("vigencia")),
        bancos=", ".join(fopi.get("bancos") or []),
    )
    url = fopi.get("pdf_enlace") or fopi.get("url")
    if url:
        dispatcher.utter_message(response="utter_enlace_fopi", url=url)
        dispatcher.utter_message(attachment=url)
    else:
        dispatcher.utter_message(response="utter_fopi_en_oficina_virtual")


class AccionDeFopi(AccionDeConsulta, ABC):
    """An action that issues a FOPI (`consultar`) and presents it. No loan (404),
    nothing to pay (409) or a monto out of range (422) is an answer of its own:
    the backend's `detail` says which. Abstract."""

    deja_la_forma = False

    def sin_resultado(self, dispatcher: CollectingDispatcher, error: bc.BackendError) -> bool:
        if error.status in (404, 409, 422):
            dispatcher.utter_message(response="utter_fopi_no_generado", detalle=error.detail)
            return True
        return False

    def mostrar(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, fopi: Any
    ) -> List[EventType]:
        presentar_fopi(dispatcher, fopi)
        return []


class ActionGenerarFopi(AccionDeFopi):
    nombre = "action_generar_fopi"
    forma = "fopi_form"

    def al_final(self) -> List[EventType]:
        return limpiar(*SLOTS_DE_FORMA["fopi_form"])

    async def ejecutar(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        tipo, monto = tracker.get_slot("tipo_fopi"), tracker.get_slot("monto")
        if tipo not in ("parcial", "liquidacion") or (tipo == "parcial" and not monto):
            return self.al_final()  # the form was left; it already said why
        return await super().ejecutar(dispatcher, tracker, domain)

    async def consultar(self, api: bc.BackendClient, tracker: Tracker) -> Any:
        tipo = tracker.get_slot("tipo_fopi")
        return await api.fopi(tipo, float(tracker.get_slot("monto")) if tipo == "parcial" else None)
