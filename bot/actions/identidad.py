"""Identity before anything personal: CURP + NIP -> backend token.

The CURP (between its turn and the NIP's) and then the token are kept in
their slots sealed for the action server (actions/boveda.py): the tracker,
its store and Rasa's HTTP API never hold them in clear. The NIP slot is
emptied right after the backend answers, and the tracker store masks it.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Collection, Dict, List

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from stdnum.exceptions import InvalidChecksum, ValidationError
from stdnum.mx import curp as stdnum_curp

from bot.actions import backend_client as bc
from bot.actions.boveda import abrir, sellar, token_de
from bot.actions.comun import ValidacionFormulario
from bot.actions.lectura import normalizar_codigo, solo_digitos
from bot.texto import mascara_curp

logger = logging.getLogger(__name__)

_FORMA_NIP = re.compile(r"\d{4}")

# Ends the form without identity: the rules then wait for the user.
_TERMINAR_SIN_IDENTIDAD = {"curp": None, "nip": None, "requested_slot": None, "identificado": False}


class ValidateIdentificacionForm(ValidacionFormulario):
    def name(self) -> str:
        return "validate_identificacion_form"

    def slots_omitidos(self, tracker: Tracker, domain_slots: List[str]) -> Collection[str]:
        # Already identified: the form completes at once.
        return domain_slots if token_de(tracker) else ()

    def validate_curp(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        # RENAPO's structure and check digit (python-stdnum, as the backend checks it):
        # a typo is caught here, before a NIP attempt is spent on it.
        try:
            curp = str(stdnum_curp.validate(normalizar_codigo(value)))
        except InvalidChecksum:
            dispatcher.utter_message(response="utter_curp_verificador")
            return {"curp": None}
        except ValidationError:
            dispatcher.utter_message(response="utter_curp_no_valida")
            return {"curp": None}
        return {"curp": sellar(curp)}

    async def validate_nip(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        nip = solo_digitos(value)
        if not _FORMA_NIP.fullmatch(nip):
            dispatcher.utter_message(response="utter_nip_no_valido")
            return {"nip": None}
        curp = abrir(tracker.get_slot("curp"))
        if not curp:
            return {"nip": None}
        try:
            async with bc.cliente(conversacion=tracker.sender_id) as api:
                datos = await api.verificar(curp, nip)
        except bc.BackendNoDisponible:
            logger.warning("identificación sin backend para %s", mascara_curp(curp))
            dispatcher.utter_message(response="utter_servicio_no_disponible")
            return dict(_TERMINAR_SIN_IDENTIDAD)
        except bc.BackendError as error:
            return self._rechazo(error, curp, dispatcher)
        token = datos.get("token")
        if not token:
            dispatcher.utter_message(response="utter_servicio_no_disponible")
            return dict(_TERMINAR_SIN_IDENTIDAD)
        logger.info("identificación correcta %s", mascara_curp(curp))
        nombre = datos.get("nombre") or ""
        dispatcher.utter_message(response="utter_identificado", nombre=nombre)
        return {
            "curp": None,
            "nip": None,
            "token": sellar(token),
            "nombre": nombre,
            "tipo_derechohabiente": datos.get("tipo"),
            "identificado": True,
        }

    @staticmethod
    def _rechazo(
        error: bc.BackendError, curp: str, dispatcher: CollectingDispatcher
    ) -> Dict[str, Any]:
        if error.status == 401:
            # A wrong NIP and an unknown CURP get the same words and both are asked
            # again: saying which one failed, or how many attempts are left, would
            # tell whether the CURP has an account.
            logger.info("identificación rechazada para %s", mascara_curp(curp))
            dispatcher.utter_message(response="utter_identidad_rechazada", detalle=error.detail)
            return {"curp": None, "nip": None}
        if error.status == 429:
            logger.info("demasiados intentos fallidos (identificación)")
            dispatcher.utter_message(response="utter_demasiados_intentos")
            return dict(_TERMINAR_SIN_IDENTIDAD)
        if error.status == 423:
            logger.info("acceso bloqueado para %s", mascara_curp(curp))
            dispatcher.utter_message(response="utter_identidad_bloqueada", detalle=error.detail)
            return dict(_TERMINAR_SIN_IDENTIDAD)
        if error.status == 422:
            dispatcher.utter_message(response="utter_identidad_rechazada", detalle=error.detail)
            return {"curp": None, "nip": None}
        if error.detail:
            dispatcher.utter_message(response="utter_aviso_backend", detalle=error.detail)
        else:
            dispatcher.utter_message(response="utter_servicio_no_disponible")
        return dict(_TERMINAR_SIN_IDENTIDAD)
