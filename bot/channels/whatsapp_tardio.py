"""The WhatsApp turns that outlive their webhook: a turn runs with a lease
on its row of the bandeja (almacenes/bandeja_whatsapp.py) that its replica
keeps renewing; when it takes longer than the webhook may wait, its answer is
sent outbound (a Twilio REST client) or kept for the reply to the person's next
message. If the replica running a turn dies, another replica claims the turn
when its lease runs out, finishes it (or, when the dead replica had already
saved it, reads its answer back from the tracker, found by Twilio's
MessageSid) and delivers the answer once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Dict, List, Optional, Set

from rasa.core.channels.channel import UserMessage
from rasa.shared.core.events import BotUttered, UserUttered

from bot import almacenes
from bot.almacenes.bandeja_whatsapp import BandejaWhatsApp
from bot.channels.ultimo_turno import como_mensaje
from bot.channels.whatsapp_envio import Enviador
from bot.channels.whatsapp_salida import CANAL, MENSAJES, WhatsAppOutput
from bot.channels.whatsapp_twiml import Pieza, construir_piezas

logger = logging.getLogger(__name__)

Manejador = Callable[[UserMessage], Awaitable[Any]]


def respuesta_guardada(tracker: Any, message_sid: str) -> Optional[List[Dict[str, Any]]]:
    """The bot messages that answered the user message with this id, if the
    tracker holds it (the turn was completed and saved)."""
    eventos = list(getattr(tracker, "events", None) or [])
    for i, evento in enumerate(eventos):
        if isinstance(evento, UserUttered) and evento.message_id == message_sid:
            mensajes = []
            for siguiente in eventos[i + 1:]:
                if isinstance(siguiente, UserUttered):
                    break
                if isinstance(siguiente, BotUttered):
                    mensajes.append(como_mensaje(siguiente))
            return mensajes
    return None


class TurnosWhatsApp:
    """The part of WhatsAppInput that runs turns and delivers late answers."""

    enviador: Optional[Enviador]
    plazo_turno: float
    cada_rescate: float
    _bandeja: Optional[BandejaWhatsApp]
    # Turns and sends still running after their webhook answered (kept referenced).
    _en_curso: Set[asyncio.Future[Any]]

    @property
    def bandeja(self) -> BandejaWhatsApp:
        """The tracker store's bandeja (shared by every replica); a private
        in-memory one only where Rasa runs without our tracker store (tests)."""
        if self._bandeja is None:
            almacen = almacenes.actual()
            if almacen is not None:
                self._bandeja = BandejaWhatsApp(almacen.engine, almacen.replica_id)
            else:
                logger.warning(
                    "Sin almacén de conversaciones SQL: la bandeja de WhatsApp vive en memoria."
                )
                self._bandeja = BandejaWhatsApp.en_memoria()
        return self._bandeja

    @staticmethod
    async def _tracker(app: Any, remitente: str) -> Any:
        almacen = getattr(getattr(getattr(app, "ctx", None), "agent", None), "tracker_store", None)
        if almacen is None:
            return None
        try:
            return await almacen.retrieve(remitente)
        except Exception:  # a tracker store hiccup must not lose the message
            logger.warning(
                "No pude leer el tracker de una conversación de WhatsApp.", exc_info=True
            )
            return None

    # -- running a turn ------------------------------------------------------------

    def _correr(
        self,
        on_new_message: Manejador,
        texto: str,
        salida: WhatsAppOutput,
        remitente: str,
        message_sid: str,
        metadata: Optional[Dict[str, Any]],
    ) -> asyncio.Future[Any]:
        """Run the turn, renewing its lease while it runs."""

        async def con_lease() -> None:
            renovar = asyncio.ensure_future(self._renovar(message_sid))
            try:
                await on_new_message(
                    UserMessage(
                        texto, salida, remitente, input_channel=CANAL,
                        message_id=message_sid, metadata=metadata,
                    )
                )
            finally:
                renovar.cancel()

        turno = asyncio.ensure_future(con_lease())
        self._en_curso.add(turno)
        turno.add_done_callback(self._en_curso.discard)
        return turno

    async def _renovar(self, message_sid: str) -> None:
        while True:
            await asyncio.sleep(self.plazo_turno / 3)
            try:
                await asyncio.to_thread(self.bandeja.renovar, message_sid, self.plazo_turno)
            except Exception:
                logger.warning(
                    "No se pudo renovar un turno de WhatsApp en la bandeja.", exc_info=True
                )

    # -- late answers --------------------------------------------------------------

    def _entregar_al_terminar(
        self,
        turno: asyncio.Future[Any],
        salida: WhatsAppOutput,
        remitente: str,
        numero_capp: Optional[str],
        message_sid: str,
        nips: List[str],
    ) -> None:
        """When the turn ends, send its answer outbound, or keep it for the next reply."""

        def al_terminar(tarea: asyncio.Future[Any]) -> None:
            if tarea.cancelled() or tarea.exception() is not None:
                if not tarea.cancelled():
                    logger.error(
                        "Un turno de WhatsApp que tardó falló después", exc_info=tarea.exception()
                    )
                mensajes: List[Dict[str, Any]] = [{"text": MENSAJES["error"]}]
            else:
                mensajes = list(salida.messages) or [{"text": MENSAJES["sin_respuesta"]}]
            if self.enviador is None:
                # Kept before anything else runs on this loop (a short write):
                # the person's next message, queued behind this turn's lock,
                # must find it.
                if self.bandeja.terminar(message_sid):
                    self.bandeja.guardar_pendientes(remitente, mensajes)
                return
            envio = asyncio.ensure_future(
                self._entregar(message_sid, remitente, numero_capp, mensajes, nips)
            )
            self._en_curso.add(envio)
            envio.add_done_callback(self._en_curso.discard)

        turno.add_done_callback(al_terminar)

    async def _entregar(
        self,
        message_sid: str,
        remitente: str,
        numero_capp: Optional[str],
        mensajes: List[Dict[str, Any]],
        nips: List[str],
    ) -> None:
        """Deliver a late answer once: only the replica that removes the turn
        from the bandeja delivers it (outbound, or kept for the next reply)."""
        if not await asyncio.to_thread(self.bandeja.terminar, message_sid):
            logger.info("Otra réplica ya entregó la respuesta de %s.", message_sid)
            return
        if self.enviador is None:
            await asyncio.to_thread(self.bandeja.guardar_pendientes, remitente, mensajes)
            return
        piezas = construir_piezas(mensajes, nips)
        enviadas = 0
        try:
            for pieza in piezas:
                await self.enviador.enviar(para=remitente, de=numero_capp, pieza=pieza)
                enviadas += 1
        except Exception:
            logger.exception(
                "No se pudo enviar por Twilio una respuesta que tardó; "
                "irá con el siguiente mensaje."
            )
            # Keep what did not arrive (already rendered and masked) for the next reply.
            await asyncio.to_thread(
                self.bandeja.guardar_pendientes, remitente, _como_mensajes(piezas[enviadas:])
            )

    # -- turns left by a replica that died -------------------------------------------

    async def _rescatar_siempre(self, app: Any, on_new_message: Manejador) -> None:
        while True:
            await asyncio.sleep(self.cada_rescate)
            try:
                await self.rescatar(app, on_new_message)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.warning(
                    "El rescate de turnos de WhatsApp falló; se reintenta.", exc_info=True
                )

    async def rescatar(self, app: Any, on_new_message: Manejador) -> int:
        """Finish and deliver the turns whose replica stopped renewing them."""
        reclamados = await asyncio.to_thread(self.bandeja.reclamar_vencidos, self.plazo_turno)
        for turno in reclamados:
            sid, remitente = turno["message_sid"], turno["remitente"]
            logger.warning(
                "Rescatando un turno de WhatsApp de una réplica que no responde (%s).", sid
            )
            mensajes = respuesta_guardada(await self._tracker(app, remitente), sid)
            if mensajes is None:
                salida = WhatsAppOutput()
                try:
                    await self._correr(
                        on_new_message,
                        turno["texto"],
                        salida,
                        remitente,
                        sid,
                        turno.get("metadata"),
                    )
                    mensajes = list(salida.messages) or [{"text": MENSAJES["sin_respuesta"]}]
                except Exception:
                    logger.exception("Un turno rescatado de WhatsApp falló")
                    mensajes = [{"text": MENSAJES["error"]}]
            await self._entregar(
                sid,
                remitente,
                turno.get("to"),
                mensajes or [{"text": MENSAJES["sin_respuesta"]}],
                [],
            )
        return len(reclamados)

    async def terminar_pendientes(self) -> None:
        """Wait for turns and sends still running (tests, shutdown)."""
        while self._en_curso:
            await asyncio.gather(*list(self._en_curso), return_exceptions=True)


def _como_mensajes(piezas: List[Pieza]) -> List[Dict[str, Any]]:
    mensajes: List[Dict[str, Any]] = []
    for pieza in piezas:
        if pieza.medios:
            mensajes.extend(
                {"attachment": {"url": url, "title": pieza.cuerpo or None}} for url in pieza.medios
            )
        elif pieza.cuerpo:
            mensajes.append({"text": pieza.cuerpo})
    return mensajes
