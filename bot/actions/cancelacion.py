"""Cancelar una cita: clave + fecha de nacimiento (or the identity token),
then an explicit confirmation. The 36-hour rule is the backend's: its 409
`detail` says until when the cita could be cancelled."""

from __future__ import annotations

import re
from typing import Any, Collection, Dict, List

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions import backend_client as bc
from bot.actions.boveda import token_de
from bot.actions.comun import (
    SLOTS_DE_FORMA,
    AccionSegura,
    ValidacionFormulario,
    leer_primero,
    limpiar,
    origen,
    responder_error,
    respuestas_posibles,
    turno_de,
)
from bot.actions.formato import deletrear
from bot.actions.lectura import leer_fecha, normalizar_codigo, texto_de
from bot.texto import sin_acentos

_CLAVE = re.compile(r"[A-Z0-9]{6}")
_PREGUNTA_POR_LA_CLAVE = re.compile(
    r"\?|\b(donde|cual|como|no se|no la (?:tengo|encuentro)|no tengo)\b"
)


class ValidateCancelacionForm(ValidacionFormulario):
    def name(self) -> str:
        return "validate_cancelacion_form"

    def slots_omitidos(self, tracker: Tracker, domain_slots: List[str]) -> Collection[str]:
        # Identified callers already proved who they are: no birth date needed.
        return ("fecha_nacimiento",) if token_de(tracker) else ()

    def validate_clave_cita(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        clave = normalizar_codigo(value)
        if not _CLAVE.fullmatch(clave):
            # "¿Dónde viene la clave?" is a question, not a mistyped clave.
            pregunta = _PREGUNTA_POR_LA_CLAVE.search(sin_acentos(texto_de(value).lower()))
            dispatcher.utter_message(
                response="utter_donde_esta_la_clave" if pregunta else "utter_clave_no_valida"
            )
            return {"clave_cita": None, "clave_deletreada": None}
        # The phone line reads the clave back character by character.
        return {"clave_cita": clave, "clave_deletreada": deletrear(clave)}

    def validate_fecha_nacimiento(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        fecha = leer_primero(
            lambda v: leer_fecha(v, hacia="pasado"),
            respuestas_posibles(tracker, "fecha_nacimiento", value, texto_primero=True),
        )
        if fecha is None:
            dispatcher.utter_message(response="utter_fecha_nacimiento_no_valida")
            return {"fecha_nacimiento": None}
        return {"fecha_nacimiento": fecha.isoformat()}

    def validate_confirmar_cancelacion(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        return self.confirmacion(
            "confirmar_cancelacion", value, dispatcher, "utter_cancelacion_desistida"
        )


class ActionCancelarCita(AccionSegura):
    nombre = "action_cancelar_cita"
    forma = "cancelacion_form"

    async def ejecutar(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        limpieza = limpiar(*SLOTS_DE_FORMA["cancelacion_form"])
        clave = tracker.get_slot("clave_cita")
        token = token_de(tracker)
        fecha = tracker.get_slot("fecha_nacimiento")
        if (
            tracker.get_slot("confirmar_cancelacion") is not True
            or not clave
            or not (token or fecha)
        ):
            return limpieza  # the form was left; it already said why
        clave_turno, vence = turno_de(tracker)
        try:
            async with bc.cliente(token, conversacion=tracker.sender_id) as api:
                resultado = await api.cancelar_cita(
                    clave,
                    None if token else fecha,
                    origen=origen(tracker),
                    idempotency_key=clave_turno,
                    vence=vence,
                )
        except bc.BackendError as error:
            if (
                error.codigo == "turno_vencido"
            ):  # nobody waits for this answer any more; nothing changed
                dispatcher.utter_message(response="utter_aviso_backend", detalle=error.detail)
            elif error.status == 409:
                dispatcher.utter_message(
                    response="utter_cancelacion_rechazada", detalle=error.detail
                )
            elif (
                error.status == 423
            ):  # too many wrong birth dates for this clave: wait or use CURP + NIP
                dispatcher.utter_message(
                    response="utter_cancelacion_bloqueada", detalle=error.detail
                )
            elif error.status == 429:  # too many failures from this source or overall: a pause
                dispatcher.utter_message(response="utter_demasiados_intentos")
            elif error.status in (403, 404, 422):
                dispatcher.utter_message(
                    response="utter_cancelacion_no_posible", detalle=error.detail
                )
            else:
                return responder_error(dispatcher, error) + limpieza
            return limpieza
        except bc.BackendNoDisponible as error:
            return responder_error(dispatcher, error) + limpieza
        respuesta = (
            "utter_cita_ya_cancelada"
            if resultado.get("ya_estaba_cancelada")
            else "utter_cita_cancelada"
        )
        dispatcher.utter_message(response=respuesta, clave=clave, clave_deletreada=deletrear(clave))
        return limpieza
