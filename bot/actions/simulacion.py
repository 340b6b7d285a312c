"""Loan simulation: the backend does the maths and says which plazo is allowed.

The form asks the sueldo, whether it is a first loan or a renovación (20 % vs
25 % of the quincenal salary, 16 % vs 17 % a year), and the plazo. Values said
in the request itself ("simular con sueldo de 20 mil a 48 quincenas") prefill
it. When the user is identified the form is prefilled from the profile
(sueldo, tipo, años de cotización, sexo) and, with no loan on record, it is a
first loan. The plazo is checked by the backend itself: a 422 `detail`
explains the product rule and the form asks again. Without a profile, a plazo
longer than the shortest limit needs the años de cotización: the backend says
so (`faltan_anios_cotizacion`) and the form asks for them before asking the
plazo again.

The product is the crédito complementario unless the request names another
one of the backend's catalogue ("simular un préstamo especial"); a product
without renovación is simulated as a first loan and the question is skipped.
"""

from __future__ import annotations

import re
import time
from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions import backend_client as bc
from bot.actions.boveda import token_de
from bot.actions.comun import (
    AccionSegura,
    ValidacionFormulario,
    leer_primero,
    respuestas_posibles,
    slots_de_este_turno,
)
from bot.actions.contexto import RESULTADOS_DE_SIMULACION, pregunta_de_paso, ultima_respuesta
from bot.actions.datos_simulacion import leer_renovacion, leer_tipo_respuesta, resumen, slots_dichos
from bot.actions.formato import cantidad, dinero, porcentaje
from bot.actions.lectura import leer_entero, leer_monto, leer_plazo, texto_de
from bot.texto import sin_acentos

ANIOS_MAXIMOS = 50
PRODUCTO_POR_DEFECTO = "credito_complementario"

_PERFIL_A_SLOTS = {
    "sueldo_base_mensual": "sueldo",
    "tipo": "tipo_derechohabiente",
    "anios_cotizacion": "anios_cotizacion",
    "sexo": "sexo",
}
# Asked or computed again for every simulation unless the request itself said them.
_SLOTS_DE_CADA_SIMULACION = ("sueldo", "renovacion", "plazo", "simulacion", "pedir_anios")



# Words of a product's clave that do not tell products apart.
_PALABRAS_GENERICAS = {"credito", "prestamo", "personal", "extraordinario", "para"}
# A product is named by the first 7 letters of a distinctive word of its clave:
# "emergen" covers emergente and emergencia, "damnifi" damnificado(s). A tiny
# stemmer over six names: no library is needed for it.
_RAIZ = 7


def producto_nombrado(texto: str, catalogo: List[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    """The catalogue product the text names, or None (none, or more than one)."""
    palabras = re.findall(r"[a-z]+", sin_acentos(texto.lower()))
    nombrados = []
    for producto in catalogo:
        raices = {w[:_RAIZ] for w in str(producto.get("clave", "")).split("_")
                  if len(w) >= _RAIZ and w not in _PALABRAS_GENERICAS}
        if raices and any(p[:_RAIZ] in raices for p in palabras if len(p) >= _RAIZ):
            nombrados.append(producto)
    return nombrados[0] if len(nombrados) == 1 else None


# What a result depended on: kept after it so that "soy pensionada" or "mejor a 72" recomputes.
_SLOTS_DE_UN_RESULTADO = ("sueldo", "renovacion", "tipo_derechohabiente", "plazo", "producto")


def tras_un_resultado(tracker: Tracker) -> bool:
    """Whether the bot's last message before the latest user message was a simulation result."""
    return ultima_respuesta(tracker) in RESULTADOS_DE_SIMULACION


class ActionPrepararSimulacion(AccionSegura):
    """Starts a simulation from what the request said. Three cases:

    * a new simulation: the last one's values are cleared, keeping what the
      request itself said ("si cobro 14 mil, cuánto me dan a 48 quincenas");
    * a simulation being filled ("bueno, continuamos: gano 11 mil" after a
      digression): what was given stays, and the message adds to it;
    * a correction right after a result ("soy pensionada", "mejor a 72"): the
      result's values stay and the message changes what it says.

    With identity, prefills from the profile and the loan history."""
    deja_la_forma = True
    forma = "simulacion_form"

    def name(self) -> str:
        return "action_preparar_simulacion"

    async def ejecutar(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        pregunta = pregunta_de_paso(tracker)
        if pregunta:
            dispatcher.utter_message(
                response=pregunta
            )  # answered first, then the simulation goes on
        dichos_ahora = slots_dichos(tracker)
        dichos = {k for k, v in slots_de_este_turno(tracker).items() if v is not None} | set(
            dichos_ahora
        )
        eventos: List[EventType] = []
        previa = tracker.get_slot("ultima_simulacion")
        if dichos_ahora and isinstance(previa, dict) and tras_un_resultado(tracker):
            eventos += [SlotSet(s, previa.get(s)) for s in _SLOTS_DE_UN_RESULTADO
                        if s not in dichos and previa.get(s) is not None]
            dichos |= {s for s in _SLOTS_DE_UN_RESULTADO if previa.get(s) is not None}
        elif tracker.active_loop_name == "simulacion_form":
            dichos |= {s for s in _SLOTS_DE_CADA_SIMULACION if tracker.get_slot(s) is not None}
        eventos += [SlotSet(s, None) for s in _SLOTS_DE_CADA_SIMULACION if s not in dichos]
        eventos += [SlotSet(s, v) for s, v in dichos_ahora.items()]
        producto = await _producto_de_la_peticion(tracker)
        if producto is not None:
            eventos.append(SlotSet("producto", producto["clave"]))
            if producto.get("renovable") is False:
                eventos.append(SlotSet("renovacion", False))  # nothing to ask: it has no renovación
        elif not tracker.get_slot("producto"):
            eventos.append(SlotSet("producto", PRODUCTO_POR_DEFECTO))
        token = token_de(tracker)
        if not token:
            return eventos
        perfil: Dict[str, Any] = {}
        prestamos: Optional[List[Dict[str, Any]]] = None
        try:
            async with bc.cliente(token) as api:
                perfil = await api.perfil()
                prestamos = await api.prestamos()
        except (bc.BackendError, bc.BackendNoDisponible):
            pass  # not fatal: the form simply asks what the profile would have said
        for campo, slot in _PERFIL_A_SLOTS.items():
            valor = perfil.get(campo)
            if valor is None or slot in dichos:
                continue
            eventos.append(SlotSet(slot, str(valor) if slot == "sueldo" else valor))
        if prestamos == [] and "renovacion" not in dichos:
            eventos.append(SlotSet("renovacion", False))  # no loan on record: a first loan
        if perfil.get("sueldo_base_mensual") is not None and "sueldo" not in dichos:
            dispatcher.utter_message(response="utter_simulacion_con_perfil",
                                     sueldo=dinero(perfil["sueldo_base_mensual"]))
        return eventos


# The catalogue changes once a year: kept for a few minutes, not asked every turn.
CATALOGO_VIGENTE_S = 300.0
_catalogo: Dict[str, Any] = {"productos": None, "hasta": 0.0}


async def _producto_de_la_peticion(tracker: Tracker) -> Optional[Dict[str, Any]]:
    texto = texto_de((tracker.latest_message or {}).get("text"))
    if not texto or texto.startswith("/"):
        return None  # a button payload names no product
    if _catalogo["productos"] is None or time.monotonic() >= _catalogo["hasta"]:
        try:
            async with bc.cliente() as api:
                productos = await api.productos()
        except (bc.BackendError, bc.BackendNoDisponible):
            return None  # not fatal: the default product is simulated and says its name
        _catalogo.update(productos=productos, hasta=time.monotonic() + CATALOGO_VIGENTE_S)
    return producto_nombrado(texto, _catalogo["productos"])


class ValidateSimulacionForm(ValidacionFormulario):
    """Asks what changes the answer (sueldo, asegurado o pensionado, primer
    préstamo o renovación, plazo; años de cotización when the backend needs
    them) and takes several of them in one answer, in any order."""

    def name(self) -> str:
        return "validate_simulacion_form"

    async def required_slots(
        self,
        domain_slots: List[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> List[str]:
        # Años de cotización are asked only after the backend said it needs them,
        # and stay required until validate_anios_cotizacion accepts an answer and
        # clears pedir_anios (rasa_sdk validates only required slots, so dropping
        # it as soon as the raw text arrives would skip its validation).
        if tracker.get_slot("pedir_anios"):
            return domain_slots
        return [s for s in domain_slots if s != "anios_cotizacion"]

    # Every value the answer says, whichever was asked ("36 quincenas" when asked
    # primer préstamo o renovación; "soy pensionado, gano 12 mil").
    def _dicho(self, tracker: Tracker, slot: str) -> Dict[str, Any]:
        valor = slots_dichos(tracker).get(slot)
        return {} if valor is None else {slot: valor}

    def extract_sueldo(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        return self._dicho(tracker, "sueldo")

    def extract_tipo_derechohabiente(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        return self._dicho(tracker, "tipo_derechohabiente")

    def extract_renovacion(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        return self._dicho(tracker, "renovacion")

    def extract_anios_cotizacion(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        return self._dicho(tracker, "anios_cotizacion")

    def extract_plazo(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        return self._dicho(tracker, "plazo")

    @staticmethod
    async def _producto_dicho(tracker: Tracker) -> Dict[str, Any]:
        """"crédito complementario" said when the sueldo was asked names the product:
        it is taken (the question simply comes again), not scolded as a bad amount."""
        producto = await _producto_de_la_peticion(tracker)
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
        if monto is None:
            return await self._sin_respuesta(
                dispatcher, tracker, "sueldo", "utter_sueldo_no_valido"
            )
        return await _simular_si_ya_hay_plazo(dispatcher, tracker, {"sueldo": str(monto)})

    async def validate_tipo_derechohabiente(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        tipo = leer_tipo_respuesta(value)
        if tipo is None:
            return await self._sin_respuesta(
                dispatcher, tracker, "tipo_derechohabiente", "utter_tipo_no_valido"
            )
        return await _simular_si_ya_hay_plazo(dispatcher, tracker, {"tipo_derechohabiente": tipo})

    async def validate_renovacion(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        renovacion = leer_renovacion(value)
        if renovacion is None:
            return await self._sin_respuesta(
                dispatcher, tracker, "renovacion", "utter_renovacion_no_valida"
            )
        return await _simular_si_ya_hay_plazo(dispatcher, tracker, {"renovacion": renovacion})

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


class ActionSimularPrestamo(AccionSegura):
    """Presents the simulation the form obtained (nothing to say if it was abandoned)."""

    def name(self) -> str:
        return "action_simular_prestamo"

    async def ejecutar(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        limpieza: List[EventType] = [SlotSet("plazo", None), SlotSet("simulacion", None)]
        sim: Optional[Dict[str, Any]] = tracker.get_slot("simulacion")
        if not isinstance(sim, dict) or not sim:
            return limpieza
        renovacion = sim.get("renovacion", tracker.get_slot("renovacion"))
        sueldo = sim.get("sueldo_base_mensual", tracker.get_slot("sueldo"))
        plazo = sim.get("plazo_quincenas", tracker.get_slot("plazo"))
        tipo = sim.get("tipo") or tracker.get_slot("tipo_derechohabiente")
        # What the result depends on, read back in one line before it, so that a
        # misunderstanding is seen at once.
        dispatcher.utter_message(
            response="utter_simulacion_entendido",
            producto=sim.get("nombre_producto") or "",
            resumen=resumen(renovacion=bool(renovacion), tipo=tipo, plazo=plazo, sueldo=sueldo,
                            sexo=tracker.get_slot("sexo")),
        )
        dispatcher.utter_message(
            response="utter_simulacion_resultado",
            monto=dinero(sim.get("monto_maximo")),
            descuento=dinero(sim.get("descuento_quincenal")),
            plazo=cantidad(plazo or "", "quincena", "quincenas"),
            tasa=porcentaje(sim.get("tasa_anual")),
            sueldo=dinero(sueldo),
            plazo_maximo=sim.get("plazo_maximo_permitido", plazo or ""),
        )
        # The backend's caveats (e.g. the cotización + plazo limit when años are unknown),
        # in one message: brief on a chat, one breath on the phone.
        avisos = [a.strip() for a in sim.get("avisos") or [] if isinstance(a, str) and a.strip()]
        if avisos:
            dispatcher.utter_message(response="utter_simulacion_aviso", aviso=" ".join(avisos))
        previa = {
            "sueldo": str(sueldo) if sueldo is not None else None,
            "renovacion": bool(renovacion),
            "tipo_derechohabiente": tipo,
            "plazo": plazo,
            "producto": tracker.get_slot("producto"),
        }
        return limpieza + [SlotSet("ultima_simulacion", previa)]
