"""Loan simulation: the backend does the maths and says which plazo is allowed.

The form (formulario_simulacion.py) asks the sueldo, whether it is a first loan
or a renovación (20 % vs 25 % of the quincenal salary, 16 % vs 17 % a year),
and the plazo. Here: the actions before and after it. Values said in the
request itself ("simular con sueldo de 20 mil a 48 quincenas") prefill it.
When the user is identified the form is prefilled from the profile (sueldo,
tipo, años de cotización, sexo) and, with no loan on record, it is a first
loan.

The product is the crédito complementario unless the request names another
one of the backend's catalogue ("simular un préstamo especial",
producto_simulado.py); a product without renovación is simulated as a first
loan and the question is skipped.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import backend_client as bc
from bot.actions.boveda import token_de
from bot.actions.comun import AccionSegura, slots_de_este_turno
from bot.actions.contexto import RESULTADOS_DE_SIMULACION, pregunta_de_paso, ultima_respuesta
from bot.actions.datos_simulacion import resumen, slots_dichos
from bot.actions.formato import cantidad, dinero, porcentaje
from bot.actions.producto_simulado import PRODUCTO_POR_DEFECTO, producto_de_la_peticion

_PERFIL_A_SLOTS = {
    "sueldo_base_mensual": "sueldo",
    "tipo": "tipo_derechohabiente",
    "anios_cotizacion": "anios_cotizacion",
    "sexo": "sexo",
}
# Asked or computed again for every simulation unless the request itself said them.
_SLOTS_DE_CADA_SIMULACION = ("sueldo", "renovacion", "plazo", "simulacion", "pedir_anios")
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

    nombre = "action_preparar_simulacion"
    deja_la_forma = True
    forma = "simulacion_form"

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
        producto = await producto_de_la_peticion(tracker)
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


class ActionSimularPrestamo(AccionSegura):
    """Presents the simulation the form obtained (nothing to say if it was abandoned)."""

    nombre = "action_simular_prestamo"

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
