"""Citas administrativas: agendar (oficina -> fecha -> horario libre ->
confirmación), consultar la bitácora y volver a enviar la hoja de asignación.

The backend owns slots, capacity, holidays and the clave; here we only offer
what it says is free and pass the user's choice back.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions import backend_client as bc
from bot.actions.boveda import token_de
from bot.actions.comun import (
    SLOTS_DE_FORMA,
    AccionDeConsulta,
    AccionSegura,
    ValidacionFormulario,
    es_voz,
    leer_primero,
    limpiar,
    mostrar_lista,
    origen,
    responder_error,
    respuestas_posibles,
    salir_de_forma,
    token_o_aviso,
    turno_de,
)
from bot.actions.formato import deletrear, fecha_larga
from bot.actions.lectura import hoy_mx, leer_fecha, normalizar_codigo, numeros_en_cifras, texto_de
from bot.texto import sin_acentos

HORARIOS_A_OFRECER = 6
DIAS_A_BUSCAR = 21
MAX_CITAS_LISTADAS = 5
_CLAVE = re.compile(r"[A-Z0-9]{6}")


def hora_corta(horario: Dict[str, Any]) -> str:
    """'13:30 hrs-13:45 hrs' -> '13:30'."""
    m = re.search(r"\d{1,2}:\d{2}", str(horario.get("hora") or horario.get("inicio", "")))
    return m.group(0) if m else str(horario.get("hora", ""))


class ActionAskOficina(AccionSegura):
    """Asks for the office; outside the phone line the offices are buttons."""

    nombre = "action_ask_oficina"
    forma = "cita_form"

    async def ejecutar(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        if es_voz(tracker):
            dispatcher.utter_message(response="utter_ask_oficina")
            return []
        try:
            async with bc.cliente(token_de(tracker)) as api:
                oficinas = await api.oficinas()
        except (bc.BackendError, bc.BackendNoDisponible):
            dispatcher.utter_message(response="utter_servicio_no_disponible")
            return salir_de_forma("cita_form")
        botones = [
            {"title": f"{o.get('ciudad', '')} - {o.get('nombre', '')}".strip(" -"),
             "payload": "/informar" + json.dumps({"oficina": str(o["id"])})}
            for o in oficinas if o.get("id") is not None
        ]
        dispatcher.utter_message(response="utter_ask_oficina", buttons=botones)
        return []


class ActionAskInicioCita(AccionSegura):
    """Offers the free slots found for the chosen day."""

    nombre = "action_ask_inicio_cita"
    forma = "cita_form"

    async def ejecutar(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        horarios = [
            h
            for h in tracker.get_slot("horarios_ofrecidos") or []
            if isinstance(h, dict) and h.get("hora")
        ]
        botones = [{"title": h["hora"], "payload": h["hora"]} for h in horarios]
        dispatcher.utter_message(response="utter_ask_inicio_cita",
                                 fecha_texto=tracker.get_slot("fecha_texto") or "", buttons=botones)
        return []


class ValidateCitaForm(ValidacionFormulario):
    def name(self) -> str:
        return "validate_cita_form"

    async def validate_oficina(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        texto = texto_de(value)
        if not texto:
            dispatcher.utter_message(response="utter_oficina_no_valida")
            return {"oficina": None}
        try:
            async with bc.cliente(token_de(tracker)) as api:
                if texto.isdigit():
                    candidatas = [o for o in await api.oficinas() if str(o.get("id")) == texto]
                else:
                    candidatas = await api.oficinas(q=texto)
        except bc.BackendNoDisponible:
            return self.terminar(dispatcher, "utter_servicio_no_disponible")
        except bc.BackendError:
            candidatas = []
        candidatas = [o for o in candidatas if o.get("id") is not None]
        if not candidatas:
            dispatcher.utter_message(response="utter_oficina_no_valida")
            return {"oficina": None}
        if len(candidatas) > 1:
            exactas = [
                o
                for o in candidatas
                if sin_acentos(texto.lower())
                in (
                    sin_acentos(str(o.get("ciudad", "")).lower()),
                    sin_acentos(str(o.get("nombre", "")).lower()),
                )
            ]
            candidatas = exactas or candidatas
        oficina = candidatas[0]
        return {"oficina": str(oficina["id"]), "oficina_nombre": oficina.get("nombre", "")}

    async def validate_fecha(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        dia = leer_primero(lambda v: leer_fecha(v, hacia="futuro"),
                           respuestas_posibles(tracker, "fecha", value, texto_primero=False))
        if dia is None:
            dispatcher.utter_message(response="utter_fecha_no_valida")
            return {"fecha": None}
        if dia < hoy_mx():
            dispatcher.utter_message(response="utter_fecha_pasada")
            return {"fecha": None}
        oficina = tracker.get_slot("oficina")
        if not oficina:
            # Said together with an office that was not found: the office is asked
            # again first, then the day (its availability depends on the office).
            return {"fecha": None}
        try:
            async with bc.cliente(token_de(tracker)) as api:
                disp = await api.disponibilidad(
                    oficina,
                    dia.isoformat(),
                    (dia + timedelta(days=DIAS_A_BUSCAR)).isoformat(),
                    limite=100,
                )
        except bc.BackendNoDisponible:
            return self.terminar(dispatcher, "utter_servicio_no_disponible")
        except bc.BackendError as error:
            dispatcher.utter_message(response="utter_aviso_backend", detalle=error.detail)
            return {"fecha": None}
        horarios = [
            h for h in disp.get("horarios") or [] if isinstance(h, dict) and h.get("inicio")
        ]
        del_dia = [h for h in horarios if str(h["inicio"]).startswith(dia.isoformat())]
        if not del_dia:
            if horarios:
                dispatcher.utter_message(
                    response="utter_sin_horarios",
                    fecha=fecha_larga(dia),
                    siguiente=horarios[0].get("fecha_texto") or horarios[0].get("fecha", ""),
                )
            else:
                dispatcher.utter_message(response="utter_sin_horarios_oficina")
            return {"fecha": None}
        ofrecidos = [{"inicio": h["inicio"], "hora": hora_corta(h), "rango": h.get("hora", "")}
                     for h in del_dia[:HORARIOS_A_OFRECER]]
        return {
            "fecha": dia.isoformat(),
            "fecha_texto": del_dia[0].get("fecha_texto") or fecha_larga(dia),
            "horarios_ofrecidos": ofrecidos,
        }

    def validate_inicio_cita(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        ofrecidos = tracker.get_slot("horarios_ofrecidos") or []
        elegido = self._elegir(texto_de(value), ofrecidos)
        if elegido is None:
            dispatcher.utter_message(response="utter_horario_no_valido")
            return {"inicio_cita": None}
        return {"inicio_cita": elegido["inicio"], "hora_cita": elegido["hora"]}

    @staticmethod
    def _elegir(texto: str, ofrecidos: List[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
        for h in ofrecidos:
            if texto == h.get("inicio"):
                return h
        # "las nueve y media", "diez y cuarto", "9:15", "2" (said, typed or marked).
        texto = re.sub(
            r"\s+y\s+cuarto\b", ":15", sin_acentos(texto.lower())
        )  # before text2num: "cuarto" is 4º
        texto = numeros_en_cifras(re.sub(r"\s+y\s+media\b", ":30", texto))
        m = re.search(r"(\d{1,2})(?::|\s*y\s*|\s+)?(\d{2})?", texto)
        if not m:
            return None
        hora, minutos = int(m.group(1)), m.group(2)
        if minutos is None and 1 <= hora <= len(ofrecidos) and len(texto.strip()) <= 2:
            return ofrecidos[hora - 1]  # "2": the second option offered
        for h in ofrecidos:
            partes = str(h.get("hora", "")).split(":")
            if len(partes) != 2 or not all(p.isdigit() for p in partes):
                continue
            if int(partes[0]) in (hora, hora + 12) and (minutos is None or partes[1] == minutos):
                return h
        return None

    def validate_confirmar_cita(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        return self.confirmacion("confirmar_cita", value, dispatcher, "utter_cita_no_confirmada")


class ActionAgendarCita(AccionSegura):
    nombre = "action_agendar_cita"
    forma = "cita_form"

    async def ejecutar(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        limpieza = limpiar(*SLOTS_DE_FORMA["cita_form"])
        oficina = str(tracker.get_slot("oficina") or "")
        if tracker.get_slot("confirmar_cita") is not True or not tracker.get_slot("inicio_cita"):
            return limpieza  # the form was left; it already said why
        token = token_o_aviso(dispatcher, tracker)
        if not token:
            return limpieza
        if not oficina.isdigit():
            # validate_oficina stores the backend's id; anything else is not a cita we can book.
            dispatcher.utter_message(response="utter_servicio_no_disponible")
            return limpieza
        try:
            async with bc.cliente(token) as api:
                clave_turno, vence = turno_de(tracker)
                cita = await api.agendar_cita(
                    int(oficina),
                    tracker.get_slot("inicio_cita"),
                    origen=origen(tracker),
                    idempotency_key=clave_turno,
                    vence=vence,
                )
                clave = str(cita.get("clave") or "")
                enlace = None
                if clave and not es_voz(tracker):
                    try:
                        enlace = (await api.enlace_hoja(clave)).get("url")
                    except (bc.BackendError, bc.BackendNoDisponible):
                        enlace = None
        except bc.BackendError as error:
            if (
                error.codigo == "turno_vencido"
            ):  # nobody waits for this answer any more; nothing booked
                dispatcher.utter_message(response="utter_aviso_backend", detalle=error.detail)
                return limpieza
            if error.status == 409:
                dispatcher.utter_message(response="utter_cita_no_agendada", detalle=error.detail)
                return limpieza
            return responder_error(dispatcher, error) + limpieza
        except bc.BackendNoDisponible as error:
            return responder_error(dispatcher, error) + limpieza
        if not _CLAVE.fullmatch(clave):
            dispatcher.utter_message(response="utter_servicio_no_disponible")
            return limpieza
        dispatcher.utter_message(
            response="utter_cita_agendada",
            clave=clave,
            clave_deletreada=deletrear(clave),
            fecha=cita.get("fecha_texto") or cita.get("fecha_cita", ""),
            hora=cita.get("hora", ""),
            oficina=(cita.get("oficina") or {}).get(
                "nombre", tracker.get_slot("oficina_nombre") or ""
            ),
        )
        _enviar_hoja(dispatcher, clave, enlace)
        return limpieza


def _enviar_hoja(dispatcher: CollectingDispatcher, clave: str, url: Optional[str]) -> None:
    """The hoja de asignación: a signed link as attachment plus a line of text.
    Without a link (phone line) the voice variant says where to get it."""
    if url:
        dispatcher.utter_message(response="utter_enlace_hoja_cita", clave=clave, url=url)
        dispatcher.utter_message(attachment=url)
    else:
        dispatcher.utter_message(response="utter_hoja_por_mensaje", clave=clave)


class ActionConsultarCitas(AccionDeConsulta):
    """The bitácora, newest first, then what can be done with a cita."""

    nombre = "action_consultar_citas"

    async def consultar(self, api: bc.BackendClient, tracker: Tracker) -> Any:
        return await api.citas()

    def mostrar(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, filas: Any
    ) -> List[EventType]:
        if mostrar_lista(
            dispatcher,
            filas,
            vacia="utter_sin_citas",
            encabezado="utter_citas_encabezado",
            unidad=("movimiento", "movimientos"),
            maximo=MAX_CITAS_LISTADAS,
            renglon="utter_cita_renglon",
            campos=_renglon_de_cita,
        ):
            dispatcher.utter_message(response="utter_citas_opciones")
        return []


def _renglon_de_cita(fila: Dict[str, Any]) -> Dict[str, Any]:
    clave = str(fila.get("clave") or "")
    return {
        "fecha": fila.get("fecha_cita", ""),
        "hora": fila.get("hora", ""),
        "estatus": fila.get("estatus", ""),
        "clave": clave,
        "clave_deletreada": deletrear(clave),
        "registrado": fila.get("registrado_en", ""),
    }


class ActionReimprimirCita(AccionSegura):
    """Sends the hoja de asignación again: the clave given, or the cita agendada."""

    nombre = "action_reimprimir_cita"
    deja_la_forma = True

    async def ejecutar(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        token = token_o_aviso(dispatcher, tracker)
        if not token:
            return []
        clave = normalizar_codigo(tracker.get_slot("clave_cita"))
        try:
            async with bc.cliente(token) as api:
                if not _CLAVE.fullmatch(clave):
                    agendadas = [
                        str(f.get("clave") or "")
                        for f in await api.citas()
                        if f.get("estatus") == "AGENDADA"
                    ]
                    agendadas = [c for c in agendadas if _CLAVE.fullmatch(c)]
                    if not agendadas:
                        dispatcher.utter_message(response="utter_sin_cita_vigente")
                        return [SlotSet("clave_cita", None)]
                    clave = agendadas[0]
                if es_voz(tracker):
                    await api.reenviar_hoja(clave)
                    url = None
                else:
                    url = (await api.enlace_hoja(clave)).get("url")
        except (bc.BackendError, bc.BackendNoDisponible) as error:
            return responder_error(dispatcher, error) + [SlotSet("clave_cita", None)]
        _enviar_hoja(dispatcher, clave, url)
        return [SlotSet("clave_cita", None)]


