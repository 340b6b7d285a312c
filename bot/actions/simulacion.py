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

from actions import backend_client as bc
from actions.boveda import token_de
from actions.comun import (
    AccionSegura,
    ValidacionFormulario,
    dinero,
    leer_entero,
    leer_monto,
    leer_plazo,
    leer_primero,
    porcentaje,
    respuestas_posibles,
    sin_acentos,
    slots_de_este_turno,
    texto_de,
)

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

# Answers to "¿Es su primer préstamo o una renovación?" (typed, tapped, said or
# marked). A handful of keywords: no library classifies this, and adding an
# intent for it would be the NLU's job.
_ES_RENOVACION = re.compile(r"\brenov|\bsegund|\bya (?:he )?(?:tuve|tenido|tengo)\b|\botra vez\b")
_ES_PRIMERO = re.compile(r"\bprimer|\bnuevo\b|\bnunca\b|\bes el 1\b")


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


def leer_renovacion(valor: Any) -> Optional[bool]:
    """True for a renovación, False for a first loan, None when unclear."""
    if isinstance(valor, bool):
        return valor
    texto = sin_acentos(texto_de(valor).lower()).strip(" .")
    if texto in ("2", "dos"):
        return True
    if texto in ("1", "uno"):
        return False
    if _ES_RENOVACION.search(texto):
        return True
    if _ES_PRIMERO.search(texto):
        return False
    return None


class ActionPrepararSimulacion(AccionSegura):
    """Clears the last simulation (keeping what the request itself said); with
    identity, prefills from the profile and the loan history."""
    deja_la_forma = True

    def name(self) -> str:
        return "action_preparar_simulacion"

    async def ejecutar(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[EventType]:
        dichos = {k for k, v in slots_de_este_turno(tracker).items() if v is not None}
        eventos: List[EventType] = [SlotSet(s, None) for s in _SLOTS_DE_CADA_SIMULACION if s not in dichos]
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
    def name(self) -> str:
        return "validate_simulacion_form"

    async def required_slots(
        self, domain_slots: List[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[str]:
        # Años de cotización are asked only after the backend said it needs them,
        # and stay required until validate_anios_cotizacion accepts an answer and
        # clears pedir_anios (rasa_sdk validates only required slots, so dropping
        # it as soon as the raw text arrives would skip its validation).
        if tracker.get_slot("pedir_anios"):
            return domain_slots
        return [s for s in domain_slots if s != "anios_cotizacion"]

    def validate_anios_cotizacion(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        if tracker.get_slot("requested_slot") != "anios_cotizacion":
            return {"anios_cotizacion": value}  # prefilled from the profile: kept as is
        anios = leer_entero(value)
        if anios is None or not 1 <= anios <= ANIOS_MAXIMOS:
            dispatcher.utter_message(response="utter_anios_no_valido")
            return {"anios_cotizacion": None}
        return {"anios_cotizacion": anios, "pedir_anios": None}

    async def validate_sueldo(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        monto = leer_primero(leer_monto, respuestas_posibles(tracker, "sueldo", value, texto_primero=True))
        if monto is None:
            dispatcher.utter_message(response="utter_sueldo_no_valido")
            return {"sueldo": None}
        return await _simular_si_ya_hay_plazo(dispatcher, tracker, {"sueldo": str(monto)})

    async def validate_renovacion(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        renovacion = leer_renovacion(value)
        if renovacion is None:
            dispatcher.utter_message(response="utter_renovacion_no_valida")
            return {"renovacion": None}
        return await _simular_si_ya_hay_plazo(dispatcher, tracker, {"renovacion": renovacion})

    async def validate_plazo(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        plazo = leer_primero(leer_plazo, respuestas_posibles(tracker, "plazo", value, texto_primero=True))
        if plazo is None or plazo <= 0:
            dispatcher.utter_message(response="utter_plazo_no_valido")
            return {"plazo": None}
        if not tracker.get_slot("sueldo") or tracker.get_slot("renovacion") is None:
            return {"plazo": plazo}  # said before the rest: simulated once the form has it
        return await _simular(dispatcher, tracker, plazo)


async def _simular_si_ya_hay_plazo(
    dispatcher: CollectingDispatcher, tracker: Tracker, valido: Dict[str, Any]
) -> Dict[str, Any]:
    """A plazo said before the rest (in the request itself) is simulated as soon
    as the last missing piece is validated."""
    tracker.slots.update(valido)
    plazo = tracker.get_slot("plazo")
    listo = tracker.get_slot("sueldo") and tracker.get_slot("renovacion") is not None
    if isinstance(plazo, int) and listo and not tracker.get_slot("simulacion"):
        return {**valido, **await _simular(dispatcher, tracker, plazo)}
    return valido


async def _simular(dispatcher: CollectingDispatcher, tracker: Tracker, plazo: int) -> Dict[str, Any]:
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
                return {"plazo": None, "pedir_anios": True}
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

    async def ejecutar(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[EventType]:
        limpieza: List[EventType] = [SlotSet("plazo", None), SlotSet("simulacion", None)]
        sim: Optional[Dict[str, Any]] = tracker.get_slot("simulacion")
        if not isinstance(sim, dict) or not sim:
            return limpieza
        renovacion = sim.get("renovacion", tracker.get_slot("renovacion"))
        dispatcher.utter_message(
            response="utter_simulacion_de_renovacion" if renovacion else "utter_simulacion_de_primer_prestamo",
            producto=sim.get("nombre_producto") or "",
        )
        dispatcher.utter_message(
            response="utter_simulacion_resultado",
            monto=dinero(sim.get("monto_maximo")),
            descuento=dinero(sim.get("descuento_quincenal")),
            plazo=sim.get("plazo_quincenas", ""),
            tasa=porcentaje(sim.get("tasa_anual")),
            sueldo=dinero(sim.get("sueldo_base_mensual", tracker.get_slot("sueldo"))),
            plazo_maximo=sim.get("plazo_maximo_permitido", sim.get("plazo_quincenas", "")),
        )
        # The backend's caveats (e.g. the cotización + plazo limit when años are unknown),
        # in one message: brief on a chat, one breath on the phone.
        avisos = [a.strip() for a in sim.get("avisos") or [] if isinstance(a, str) and a.strip()]
        if avisos:
            dispatcher.utter_message(response="utter_simulacion_aviso", aviso=" ".join(avisos))
        return limpieza
