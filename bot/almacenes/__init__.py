"""Where Rasa keeps conversations, so that any replica can take any turn.

endpoints.yml names two classes of this module:

* ``AlmacenConversaciones`` (tracker store): Rasa's own ``SQLTrackerStore`` on
  the SQLAlchemy URL in ``TRACKER_STORE_URL`` (default: an SQLite file under
  ``var/``, so even ``make run`` survives a restart; PostgreSQL in
  production). On top of Rasa's store it
  - keeps the channels' per-conversation bookkeeping (WhatsApp turns still
    running, late replies not yet delivered) in tables of the same database,
    see ``BandejaWhatsApp``;
  - deletes conversations older than ``TRACKER_RETENCION_DIAS`` days (they hold
    personal data) at start-up and every few hours; ``python -m
    bot.almacenes retencion`` (from the repository root) does the same as a job;
  - registers the replica and refuses to start a second one while the lock
    store is in memory (two replicas with private locks would interleave turns
    of one conversation and lose events; registro.py).
  - never stores the NIP, a clear CURP or a clear identity token: the
    events of each turn are redacted before they are written (see
    redaccion.py); actions seal what must survive a turn
    (actions/boveda.py);
* ``CerrojoConversaciones`` (lock store, cerrojo.py): Rasa's ``RedisLockStore`` on
  ``LOCK_STORE_URL`` (``redis://host:port/db``), or Rasa's in-memory lock
  store when it is unset (one replica only).

Settings come from the environment (entorno.py). It also sets the time Rasa
waits for the action server (``ACCIONES_TIMEOUT``, default 5 s; Rasa's own is
300 s): a turn the IVR gave up on after 8 s must not go on calling actions for
minutes.

Rasa falls back to an in-memory tracker store, silently, when a custom class
raises ImportError/AttributeError while it is built; errors here are turned
into RuntimeError so that a broken configuration stops the process instead.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import uuid
from typing import Any, Dict, Optional

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from bot import registro_privado
from bot.almacenes.cerrojo import CerrojoConversaciones
from bot.almacenes.entorno import (
    ajustar_espera_de_acciones,
    dias_de_retencion,
    url_de_almacen,
    url_de_cerrojo,
)
from bot.almacenes.redaccion import nips_del_tracker, redactar_evento
from bot.almacenes.registro import RegistroReplicas
from bot.almacenes.retencion import aplicar_retencion
from bot.almacenes.tablas import crear_tablas

# endpoints.yml names both classes by this package's path.
__all__ = ["AlmacenConversaciones", "CerrojoConversaciones", "actual"]

logger = logging.getLogger(__name__)
# No CURP, NIP or token in any log line of Rasa (this module loads with it).
registro_privado.instalar()

LATIDO = 5.0
CADA_RETENCION = 6 * 3600.0

# The instance Rasa built in this process (the channels reach it here).
_actual: Optional[AlmacenConversaciones] = None


def actual() -> Optional[AlmacenConversaciones]:
    return _actual


class AlmacenConversaciones(SQLTrackerStore):
    """Rasa's SQL tracker store on TRACKER_STORE_URL, plus retention, the
    replica registry and the channels' tables (see the module docstring)."""

    def __init__(
        self,
        domain: Optional[Domain] = None,
        host: Optional[str] = None,
        event_broker: Any = None,
        **kwargs: Dict[str, Any],
    ) -> None:
        try:
            url = url_de_almacen(host)
            kwargs.pop("url", None)
            super().__init__(domain=domain, host=url, event_broker=event_broker, **kwargs)
            crear_tablas(self.engine)
            self.replica_id = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
            self.cerrojo = "redis" if url_de_cerrojo() else "memoria"
            self._detener = threading.Event()
            self.registro = RegistroReplicas(self.engine, self.replica_id, self.cerrojo)
            self.registro.registrar()
            self.aplicar_retencion()
        except (AttributeError, ImportError) as exc:  # Rasa would hide these
            raise RuntimeError(f"No se pudo crear el almacén de conversaciones: {exc!r}") from exc
        global _actual
        _actual = self
        ajustar_espera_de_acciones()
        hilo = threading.Thread(
            target=self._mantenimiento, name="almacen-mantenimiento", daemon=True
        )
        hilo.start()
        logger.info(
            "Conversaciones en %s (cerrojo: %s, retención: %s días).",
            self.engine.url.render_as_string(hide_password=True), self.cerrojo, dias_de_retencion(),
        )

    # -- upkeep: heartbeat and periodic retention -------------------------------

    def _mantenimiento(self) -> None:
        siguiente_retencion = time.monotonic() + CADA_RETENCION
        while not self._detener.wait(LATIDO):
            try:
                self.registro.latido()
                if time.monotonic() >= siguiente_retencion:
                    siguiente_retencion = time.monotonic() + CADA_RETENCION
                    self.aplicar_retencion()
            except Exception:  # the database may be briefly away; try again later
                logger.warning(
                    "Mantenimiento del almacén de conversaciones falló; se reintenta.",
                    exc_info=True,
                )

    def cerrar(self) -> None:
        self._detener.set()
        try:
            self.registro.dar_de_baja()
        except Exception:
            logger.debug("No se pudo dar de baja la réplica", exc_info=True)

    # -- retention ----------------------------------------------------------------

    def aplicar_retencion(self, dias: Optional[float] = None, ahora: Optional[float] = None) -> int:
        """Delete every event older than `dias` days, whole sessions only: the
        sessions before a conversation's latest one, and conversations whose
        latest event is older. Returns the number of events deleted."""
        return aplicar_retencion(self.engine, dias_de_retencion() if dias is None else dias, ahora)

    # -- writes without personal data -------------------------------------------------

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Rasa's SQLTrackerStore.save, with each new event redacted first."""
        await self.stream_events(tracker)
        nips = nips_del_tracker(tracker)
        with self.session_scope() as session:
            for event in self._additional_events(session, tracker):
                data = redactar_evento(event.as_dict(), nips)
                session.add(
                    self.SQLEvent(
                        sender_id=tracker.sender_id,
                        type_name=event.type_name,
                        timestamp=data.get("timestamp"),
                        intent_name=(data.get("parse_data") or {})
                        .get("intent", {})
                        .get(INTENT_NAME_KEY),
                        action_name=data.get("name"),
                        data=json.dumps(data),
                    )
                )
            session.commit()

    # -- reads that survive a brief database hiccup ---------------------------------

    async def _retrieve(
        self, sender_id: str, fetch_events_from_all_sessions: bool
    ) -> Optional[DialogueStateTracker]:
        # Rasa wraps this store in a FailSafeTrackerStore that turns a failed
        # read into "new conversation": retry transient errors first.
        for intento in range(3):
            try:
                return await super()._retrieve(sender_id, fetch_events_from_all_sessions)
            except sa.exc.OperationalError:
                if intento == 2:
                    raise
                logger.warning(
                    "Lectura del almacén de conversaciones falló; reintento %s.", intento + 1
                )
                time.sleep(0.2 * (intento + 1))
        return None
