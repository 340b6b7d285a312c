"""The simulation form: asks what changes the answer and, once it has a plazo,
asks the backend. The plazo is checked by the backend itself: a 422 `detail`
explains the product rule and the form asks again. Without a profile, a plazo
longer than the shortest limit needs the años de cotización: the backend says
so (`faltan_anios_cotizacion`) and the form asks for them before asking the
plazo again.
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable, Collection, Dict, List

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions import backend_client as bc
from bot.actions.comun import ValidacionFormulario, leer_primero, respuestas_posibles
from bot.actions.datos_simulacion import leer_renovacion, leer_tipo_respuesta, slots_dichos
from bot.actions.lectura import leer_entero, leer_monto, leer_plazo
from bot.actions.producto_simulado import PRODUCTO_POR_DEFECTO, producto_de_la_peticion

ANIOS_MAXIMOS = 50


def _validador(
    slot: str, leer: Callable[[Any], Any], queja: str
) -> Callable[..., Awaitable[Dict[str, Any]]]:
    """rasa_sdk's `validate_<slot>` for an answer that `leer` reads alone."""

    async def validar(
        self: ValidateSimulacionForm,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> Dict[str, Any]:
        return await self._tomar(dispatcher, tracker, slot, leer(value), queja)

    return validar


class ValidateSimulacionForm(ValidacionFormulario):
    """Asks what changes the answer (sueldo, asegurado o pensionado, primer
    préstamo o renovación, plazo; años de cotización when the backend needs
    them) and takes several of them in one answer, in any order."""

    def name(self) -> str:
        return "validate_simulacion_form"

    def slots_omitidos(self, tracker: Tracker, domain_slots: List[str]) -> Collection[str]:
        # Años de cotización are asked only after the backend said it needs them,
        # and stay required until validate_anios_cotizacion accepts an answer and
        # clears pedir_anios (rasa_sdk validates only required slots, so dropping
        # it as soon as the raw text arrives would skip its validation).
        return () if tracker.get_slot("pedir_anios") else ("anios_cotizacion",)

    async def get_extraction_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """Every value the answer says, whichever was asked ("36 quincenas" when asked
        primer préstamo o renovación; "soy pensionado, gano 12 mil"), for the slots
        the form still requires (rasa_sdk's `extract_<slot>`, once for all)."""
        pedidos = await self.required_slots(self.domain_slots(domain), dispatcher, tracker, domain)
        dichos = {s: v for s, v in slots_dichos(tracker).items() if s in pedidos and v is not None}
        tracker.slots.update(dichos)
        return [SlotSet(s, v) for s, v in dichos.items()]

    @staticmethod
    async def _producto_dicho(tracker: Tracker) -> Dict[str, Any]:
        """"crédito complementario" said when the sueldo was asked names the product:
        it is taken (the question simply comes again), not scolded as a bad amount."""
        producto = await producto_de_la_peticion(tracker)
        if producto is None:
            return {}
        return {
            "producto": producto["clave"],
            **({"renovacion": False} if producto.get("renovable") is False else {}),
        }

    @staticmethod
    def _sin_queja(tracker: Tracker, slot: str) -> bool:
        """An answer that did not answer the question but gave other values
        ("soy pensionado" when asked the sueldo) is not scolded: the question
        simply comes again."""
        return any(s != slot for s in slots_dichos(tracker))

    async def _sin_respuesta(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, slot: str, utter: str
    ) -> Dict[str, Any]:
        """An unclear answer to `slot`: a product named instead switches to it;
        otherwise `utter` says what is expected, unless other values were given."""
        producto = await self._producto_dicho(tracker)
        if not producto and not self._sin_queja(tracker, slot):
            dispatcher.utter_message(response=utter)
        return {slot: None, **producto}

    async def _tomar(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, slot: str, valor: Any, utter: str
    ) -> Dict[str, Any]:
        """The answer to `slot` as read (None: unclear, see `_sin_respuesta`); the
        simulation runs at once if the plazo was already given."""
        if valor is None:
            return await self._sin_respuesta(dispatcher, tracker, slot, utter)
        return await _simular_si_ya_hay_plazo(dispatcher, tracker, {slot: valor})

    async def validate_anios_cotizacion(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        if tracker.get_slot("requested_slot") != "anios_cotizacion":
            return {"anios_cotizacion": value}  # prefilled from the profile: kept as is
        anios = leer_entero(value)
        if anios is None or not 1 <= anios <= ANIOS_MAXIMOS:
            if not self._sin_queja(tracker, "anios_cotizacion"):
                dispatcher.utter_message(response="utter_anios_no_valido")
            return {"anios_cotizacion": None}
        valido = {"anios_cotizacion": anios, "pedir_anios": None}
        # The plazo that needed them was kept: simulated now, not asked again.
        return await _simular_si_ya_hay_plazo(dispatcher, tracker, valido)

    async def validate_sueldo(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        dicho = slots_dichos(tracker).get("sueldo")
        candidatos = ([dicho] if dicho else []) + respuestas_posibles(
            tracker, "sueldo", value, texto_primero=True
        )
        monto = leer_primero(leer_monto, candidatos)
        sueldo = None if monto is None else str(monto)
        return await self._tomar(dispatcher, tracker, "sueldo", sueldo, "utter_sueldo_no_valido")

    # Answers read by one reader alone (None: unclear).
    validate_tipo_derechohabiente = _validador(
        "tipo_derechohabiente", leer_tipo_respuesta, "utter_tipo_no_valido"
    )
    validate_renovacion = _validador("renovacion", leer_renovacion, "utter_renovacion_no_valida")

    async def validate_plazo(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        if tracker.get_slot("simulacion") or (
            "plazo" in tracker.slots and tracker.slots["plazo"] is None
        ):
            return {}  # already simulated (or refused) by another value of this same answer
        dicho = slots_dichos(tracker).get("plazo")
        candidatos = ([dicho] if dicho else []) + respuestas_posibles(
            tracker, "plazo", value, texto_primero=True
        )
        plazo = leer_primero(leer_plazo, candidatos)
        if plazo is None or plazo <= 0:
            if not self._sin_queja(tracker, "plazo"):
                dispatcher.utter_message(response="utter_plazo_no_valido")
            return {"plazo": None}
        if not _listo(tracker):
            return {"plazo": plazo}  # said before the rest: simulated once the form has it
        return await _simular(dispatcher, tracker, plazo)


def _listo(tracker: Tracker) -> bool:
    return bool(tracker.get_slot("sueldo")) and tracker.get_slot("renovacion") is not None \
        and tracker.get_slot("tipo_derechohabiente") is not None


async def _simular_si_ya_hay_plazo(
    dispatcher: CollectingDispatcher, tracker: Tracker, valido: Dict[str, Any]
) -> Dict[str, Any]:
    """A plazo said before the rest (in the request itself) is simulated as soon
    as the last missing piece is validated."""
    tracker.slots.update(valido)
    plazo = tracker.get_slot("plazo")
    if isinstance(plazo, int) and _listo(tracker) and not tracker.get_slot("simulacion"):
        return {**valido, **await _simular(dispatcher, tracker, plazo)}
    return valido


async def _simular(
    dispatcher: CollectingDispatcher, tracker: Tracker, plazo: int
) -> Dict[str, Any]:
    """Asks the backend; the slots to set: the result, or what must be asked again."""
    abandonar = {"plazo": None, "simulacion": None, "requested_slot": None}
    try:
        async with bc.cliente() as api:
            resultado = await api.simular(
                producto=tracker.get_slot("producto") or PRODUCTO_POR_DEFECTO,
                sueldo_base_mensual=float(tracker.get_slot("sueldo")),
                plazo_quincenas=plazo,
                renovacion=bool(tracker.get_slot("renovacion")),
                tipo=tracker.get_slot("tipo_derechohabiente"),
                anios_cotizacion=tracker.get_slot("anios_cotizacion"),
                sexo=tracker.get_slot("sexo"),
            )
    except bc.BackendNoDisponible:
        dispatcher.utter_message(response="utter_servicio_no_disponible")
        return abandonar
    except bc.BackendError as error:
        if error.status == 422 and error.detail:
            dispatcher.utter_message(response="utter_simulacion_regla", detalle=error.detail)
            if error.codigo == "faltan_anios_cotizacion":
                # The plazo said stays: simulated as soon as the años are given.
                return {"plazo": plazo, "pedir_anios": True}
            campos = error.data.get("campos") or []
            if "sueldo_base_mensual" in campos:
                return {"plazo": None, "sueldo": None}
            return {"plazo": None}
        if error.detail:
            dispatcher.utter_message(response="utter_aviso_backend", detalle=error.detail)
        else:
            dispatcher.utter_message(response="utter_servicio_no_disponible")
        return abandonar
    if resultado.get("monto_maximo") is None or resultado.get("descuento_quincenal") is None:
        dispatcher.utter_message(response="utter_servicio_no_disponible")
        return abandonar
    return {"plazo": plazo, "simulacion": resultado}
