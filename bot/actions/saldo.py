"""Estado de cuenta: saldo deudor (plus the statement PDF as a signed link),
condiciones del préstamo vigente e histórico."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, List, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import backend_client as bc
from bot.actions.comun import AccionDeConsulta, es_voz, mostrar_lista, sin_prestamo
from bot.actions.formato import cantidad, dinero, fecha_texto, porcentaje

logger = logging.getLogger(__name__)

MAX_HISTORICOS = 5


class ActionConsultarSaldo(AccionDeConsulta):
    nombre = "action_consultar_saldo"

    async def consultar(self, api: bc.BackendClient, tracker: Tracker) -> Any:
        """(saldo, link to the statement PDF or None). A phone call cannot take a link;
        elsewhere the PDF goes along with the saldo. Both are of the vigente loan, so
        they are asked for at once."""
        enlace = None if es_voz(tracker) else asyncio.ensure_future(_enlace_estado_cuenta(api))
        try:
            saldo = await api.saldo()
        except BaseException:
            if enlace is not None:
                enlace.cancel()
            raise
        return saldo, (await enlace if enlace is not None else None)

    def sin_resultado(self, dispatcher: CollectingDispatcher, error: bc.BackendError) -> bool:
        return sin_prestamo(dispatcher, error)

    def mostrar(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, datos: Any
    ) -> List[EventType]:
        saldo, url = datos
        if saldo.get("saldo_deudor_total") is None:
            dispatcher.utter_message(response="utter_servicio_no_disponible")
            return []
        folio = saldo.get("prestamo_folio", "")
        dispatcher.utter_message(
            response="utter_saldo",
            saldo=dinero(saldo.get("saldo_deudor_total")),
            al=fecha_texto(saldo.get("al")),
            folio=folio,
            quincenas_restantes=cantidad(
                saldo.get("quincenas_restantes", ""), "quincena", "quincenas"
            ),
        )
        a_favor = saldo.get("saldo_a_favor")
        if isinstance(a_favor, (int, float)) and a_favor > 0:  # paid in excess: CAPP refunds it
            dispatcher.utter_message(response="utter_saldo_a_favor", monto=dinero(a_favor))
        if es_voz(tracker):
            dispatcher.utter_message(response="utter_estado_cuenta_enlace", folio=folio)
        elif url:
            dispatcher.utter_message(response="utter_estado_cuenta_enlace", folio=folio, url=url)
            dispatcher.utter_message(attachment=url)
        return []


async def _enlace_estado_cuenta(
    api: bc.BackendClient, folio: Optional[str] = None
) -> Optional[str]:
    """The signed PDF link (without a folio: of the vigente loan), or None: a failure
    here only means nothing is attached to the saldo."""
    try:
        enlace = await api.enlace_estado_cuenta(folio)
    except (bc.BackendError, bc.BackendNoDisponible) as error:
        logger.warning("sin enlace al estado de cuenta (%s)", type(error).__name__)
        return None
    url = enlace.get("url") if isinstance(enlace, dict) else None
    return url if isinstance(url, str) and url else None


class ActionConsultarCondiciones(AccionDeConsulta):
    nombre = "action_consultar_condiciones"

    async def consultar(self, api: bc.BackendClient, tracker: Tracker) -> Any:
        return await api.prestamo_vigente()

    def sin_resultado(self, dispatcher: CollectingDispatcher, error: bc.BackendError) -> bool:
        return sin_prestamo(dispatcher, error)

    def mostrar(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, p: Any
    ) -> List[EventType]:
        dispatcher.utter_message(
            response="utter_condiciones",
            monto=dinero(p.get("monto")),
            plazo=cantidad(p.get("plazo_quincenas", ""), "quincena", "quincenas"),
            tasa=porcentaje(p.get("tasa_anual")),
            descuento=dinero(p.get("descuento_quincenal")),
            pagadas=p.get("quincenas_pagadas", ""),
            restantes=p.get("quincenas_restantes", ""),
            fecha_termino=fecha_texto(p.get("fecha_termino")),
        )
        return []


class ActionConsultarHistorial(AccionDeConsulta):
    nombre = "action_consultar_historial"

    async def consultar(self, api: bc.BackendClient, tracker: Tracker) -> Any:
        return await api.prestamos()

    def mostrar(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, prestamos: Any
    ) -> List[EventType]:
        mostrar_lista(
            dispatcher,
            prestamos,
            vacia="utter_historial_vacio",
            encabezado="utter_historial_encabezado",
            unidad=("préstamo", "préstamos"),
            maximo=MAX_HISTORICOS,
            renglon="utter_historial_prestamo",
            campos=lambda p: {
                "folio": p.get("folio", ""),
                "monto": dinero(p.get("monto")),
                "plazo": cantidad(p.get("plazo_quincenas", ""), "quincena", "quincenas"),
                "estatus": p.get("estatus", ""),
                "fecha": fecha_texto(p.get("fecha_otorgamiento")),
            },
        )
        return []
