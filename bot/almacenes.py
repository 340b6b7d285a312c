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
    of one conversation and lose events).
  - never stores the NIP, a clear CURP or a clear identity token: the
    events of each turn are redacted before they are written (see
    ``redactar_evento``); actions seal what must survive a turn
    (actions/boveda.py);
* ``CerrojoConversaciones`` (lock store): Rasa's ``RedisLockStore`` on
  ``LOCK_STORE_URL`` (``redis://host:port/db``), or Rasa's in-memory lock
  store when it is unset (one replica only).

It also sets the time Rasa waits for the action server (``ACCIONES_TIMEOUT``,
default 5 s; Rasa's own is 300 s): a turn the IVR gave up on after 8 s must
not go on calling actions for minutes.

Rasa falls back to an in-memory tracker store, silently, when a custom class
raises ImportError/AttributeError while it is built; errors here are turned
into RuntimeError so that a broken configuration stops the process instead.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, Optional
from urllib.parse import unquote, urlsplit

import sqlalchemy as sa
from rasa.core.lock_store import InMemoryLockStore, LockStore, RedisLockStore
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from bot import registro_privado
from bot.channels.privacidad import enmascarar, nips_en

logger = logging.getLogger(__name__)
# No CURP, NIP or token in any log line of Rasa (this module loads with it).
registro_privado.instalar()

RAIZ = Path(__file__).resolve().parent.parent
URL_PREDETERMINADA = f"sqlite:///{RAIZ / 'var' / 'conversaciones.db'}"
RETENCION_DIAS_PREDETERMINADA = 30
# A replica that has not refreshed its row for this long is taken as gone.
VIGENCIA_REPLICA = 20.0
LATIDO = 5.0
CADA_RETENCION = 6 * 3600.0

ACCIONES_TIMEOUT_PREDETERMINADO = 5.0


def ajustar_espera_de_acciones() -> float:
    """Rasa 3.6 has no setting for it: the constant is read at call time from
    these two modules, so replacing it there is enough."""
    import rasa.core.actions.action as accion_remota
    import rasa.utils.endpoints as endpoints

    try:
        segundos = float(os.environ.get("ACCIONES_TIMEOUT") or ACCIONES_TIMEOUT_PREDETERMINADO)
    except ValueError:
        segundos = ACCIONES_TIMEOUT_PREDETERMINADO
    accion_remota.DEFAULT_REQUEST_TIMEOUT = segundos  # type: ignore[attr-defined]
    endpoints.DEFAULT_REQUEST_TIMEOUT = segundos  # type: ignore[attr-defined]
    return segundos


_metadata = sa.MetaData()

replicas = sa.Table(
    "capp_replicas_rasa",
    _metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("host", sa.String(255), nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("cerrojo", sa.String(16), nullable=False),
    sa.Column("visto", sa.Float, nullable=False),
)

# WhatsApp turns accepted and not yet answered (see channels/whatsapp.py).
turnos_whatsapp = sa.Table(
    "capp_whatsapp_turnos",
    _metadata,
    sa.Column("message_sid", sa.String(64), primary_key=True),
    sa.Column("remitente", sa.String(128), nullable=False, index=True),
    sa.Column("datos", sa.Text, nullable=False),
    # Until when the replica running the turn vouches for it.
    sa.Column("vence", sa.Float, nullable=False, index=True),
    sa.Column("replica", sa.String(64), nullable=False),
    sa.Column("creado", sa.Float, nullable=False),
)

# Late replies waiting for the person's next message (no outbound client).
pendientes_whatsapp = sa.Table(
    "capp_whatsapp_pendientes",
    _metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("remitente", sa.String(128), nullable=False, index=True),
    sa.Column("mensaje", sa.Text, nullable=False),
    sa.Column("creado", sa.Float, nullable=False),
)

# The instance Rasa built in this process (the channels reach it here).
_actual: Optional[AlmacenConversaciones] = None


def actual() -> Optional[AlmacenConversaciones]:
    return _actual


def url_de_almacen(url: Optional[str] = None) -> str:
    """TRACKER_STORE_URL for SQLAlchemy 1.4 (Rasa's): the backend's psycopg 3
    spelling (`postgresql+psycopg://`) becomes psycopg2, which Rasa ships."""
    url = (url or os.environ.get("TRACKER_STORE_URL") or "").strip() or URL_PREDETERMINADA
    for propio in ("postgresql+psycopg://", "postgres://"):
        if url.startswith(propio):
            url = "postgresql://" + url[len(propio):]
    if url.startswith("sqlite:///"):
        ruta = url[len("sqlite:///"):]
        if ruta and ruta != ":memory:":
            Path(ruta).parent.mkdir(parents=True, exist_ok=True)
    return url


def crear_tablas(engine: sa.engine.Engine) -> None:
    """Our tables; replicas starting together may race to create them (as
    Rasa's own store notes): the loser checks they exist and goes on."""
    for intento in range(3):
        try:
            _metadata.create_all(engine)
            return
        except (sa.exc.ProgrammingError, sa.exc.IntegrityError, sa.exc.OperationalError):
            if intento == 2:
                raise
            time.sleep(0.5)


def url_de_cerrojo() -> str:
    return (os.environ.get("LOCK_STORE_URL") or "").strip()


def dias_de_retencion() -> float:
    try:
        return float(os.environ.get("TRACKER_RETENCION_DIAS") or RETENCION_DIAS_PREDETERMINADA)
    except ValueError:
        logger.warning("TRACKER_RETENCION_DIAS no es un número; se usan %s días.", RETENCION_DIAS_PREDETERMINADA)
        return float(RETENCION_DIAS_PREDETERMINADA)


def _proceso_vivo(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class ReplicaRechazada(RuntimeError):
    """Two replicas would share conversations with private (in-memory) locks."""


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
            self._registrar_replica()
            self.aplicar_retencion()
        except (AttributeError, ImportError) as exc:  # Rasa would hide these
            raise RuntimeError(f"No se pudo crear el almacén de conversaciones: {exc!r}") from exc
        global _actual
        _actual = self
        ajustar_espera_de_acciones()
        hilo = threading.Thread(target=self._mantenimiento, name="almacen-mantenimiento", daemon=True)
        hilo.start()
        logger.info(
            "Conversaciones en %s (cerrojo: %s, retención: %s días).",
            self.engine.url.render_as_string(hide_password=True), self.cerrojo, dias_de_retencion(),
        )

    # -- replicas ---------------------------------------------------------------

    def _registrar_replica(self) -> None:
        ahora = time.time()
        host = socket.gethostname()
        with self.engine.begin() as con:
            con.execute(replicas.delete().where(replicas.c.visto < ahora - VIGENCIA_REPLICA))
            for fila in con.execute(sa.select(replicas.c.id, replicas.c.pid).where(replicas.c.host == host)):
                if not _proceso_vivo(int(fila.pid)):
                    con.execute(replicas.delete().where(replicas.c.id == fila.id))
            con.execute(
                replicas.insert().values(
                    id=self.replica_id, host=host, pid=os.getpid(), cerrojo=self.cerrojo, visto=ahora
                )
            )
        # Checked after registering: of two replicas starting at once, at
        # least one sees the other.
        with self.engine.begin() as con:
            otras = con.execute(
                sa.select(replicas.c.host, replicas.c.pid, replicas.c.cerrojo).where(replicas.c.id != self.replica_id)
            ).all()
        conflicto = [o for o in otras if self.cerrojo == "memoria" or o.cerrojo == "memoria"]
        if conflicto:
            with self.engine.begin() as con:
                con.execute(replicas.delete().where(replicas.c.id == self.replica_id))
            otra = conflicto[0]
            raise ReplicaRechazada(
                f"Otra réplica de Rasa ({otra.host}, pid {otra.pid}) usa este almacén de conversaciones y al "
                "menos una de las dos tiene el cerrojo en memoria. Con más de una réplica configure "
                "LOCK_STORE_URL=redis://... en todas."
            )

    def _latido(self) -> None:
        with self.engine.begin() as con:
            hecho = con.execute(
                replicas.update().where(replicas.c.id == self.replica_id).values(visto=time.time())
            ).rowcount
            if not hecho:  # removed by a peer after a long pause: register again
                con.execute(
                    replicas.insert().values(
                        id=self.replica_id, host=socket.gethostname(), pid=os.getpid(),
                        cerrojo=self.cerrojo, visto=time.time(),
                    )
                )

    def _mantenimiento(self) -> None:
        siguiente_retencion = time.monotonic() + CADA_RETENCION
        while not self._detener.wait(LATIDO):
            try:
                self._latido()
                if time.monotonic() >= siguiente_retencion:
                    siguiente_retencion = time.monotonic() + CADA_RETENCION
                    self.aplicar_retencion()
            except Exception:  # the database may be briefly away; try again later
                logger.warning("Mantenimiento del almacén de conversaciones falló; se reintenta.", exc_info=True)

    def cerrar(self) -> None:
        self._detener.set()
        try:
            with self.engine.begin() as con:
                con.execute(replicas.delete().where(replicas.c.id == self.replica_id))
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
                        intent_name=(data.get("parse_data") or {}).get("intent", {}).get(INTENT_NAME_KEY),
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
                logger.warning("Lectura del almacén de conversaciones falló; reintento %s.", intento + 1)
                time.sleep(0.2 * (intento + 1))
        return None


PREFIJO_SELLADO = "sellado:v1:"


def nips_del_tracker(tracker: DialogueStateTracker) -> List[str]:
    """The NIPs given in this conversation: every value the `nip` slot took."""
    nips = []
    for evento in tracker.events:
        valor = getattr(evento, "value", None) if getattr(evento, "key", None) == "nip" else None
        if isinstance(valor, str) and valor.strip().isdigit() and valor.strip() not in nips:
            nips.append(valor.strip())
    return nips


def _limpio(valor: Any, nips: List[str]) -> Any:
    if isinstance(valor, str):
        # A signed PDF link carries a token too: the person got it in the
        # turn's answer; the stored copy keeps only where it pointed.
        return registro_privado.sin_tokens(enmascarar(valor, nips + nips_en(valor)))
    if isinstance(valor, list):
        return [_limpio(v, nips) for v in valor]
    if isinstance(valor, dict):
        return {k: _limpio(v, nips) for k, v in valor.items()}
    return valor


def redactar_evento(datos: Dict[str, Any], nips: List[str]) -> Dict[str, Any]:
    """An event as stored: no NIP (the `nip` slot and the NIPs in what the
    person wrote become ****), no clear CURP (masked wherever it appears), no
    clear token (a `token` slot that is not sealed is dropped; a signed link's
    token becomes <token>)."""
    tipo = datos.get("event")
    if tipo == "slot":
        nombre, valor = datos.get("name"), datos.get("value")
        if nombre == "nip" and valor:
            return {**datos, "value": "****"}
        if nombre == "token" and valor and not str(valor).startswith(PREFIJO_SELLADO):
            logger.error("Un token sin sellar iba a guardarse en el tracker; se descartó.")
            return {**datos, "value": None}
        if isinstance(valor, str) and valor.startswith(PREFIJO_SELLADO):
            return datos
        return {**datos, "value": _limpio(valor, nips)}
    if tipo in ("user", "bot"):
        limpio = dict(datos)
        for campo in ("text", "parse_data", "data", "metadata"):
            if campo in limpio:
                limpio[campo] = _limpio(limpio[campo], nips)
        return limpio
    return datos


def aplicar_retencion(engine: sa.engine.Engine, dias: float, ahora: Optional[float] = None) -> int:
    """See AlmacenConversaciones.aplicar_retencion (also used by the job)."""
    limite = (ahora or time.time()) - dias * 86400
    events = SQLTrackerStore.SQLEvent.__table__
    e2 = events.alias("e2")
    ultimo_inicio = (
        sa.select(sa.func.max(e2.c.timestamp))
        .where(e2.c.sender_id == events.c.sender_id, e2.c.type_name == "session_started")
        .scalar_subquery()
    )
    e3 = events.alias("e3")
    ultimo_evento = sa.select(sa.func.max(e3.c.timestamp)).where(e3.c.sender_id == events.c.sender_id).scalar_subquery()
    with engine.begin() as con:
        borrados = con.execute(
            events.delete().where(
                events.c.timestamp < limite,
                sa.or_(events.c.timestamp < ultimo_inicio, ultimo_evento < limite),
            )
        ).rowcount
        con.execute(turnos_whatsapp.delete().where(turnos_whatsapp.c.creado < limite))
        con.execute(pendientes_whatsapp.delete().where(pendientes_whatsapp.c.creado < limite))
    if borrados:
        logger.info("Retención: %s eventos de conversaciones de más de %s días borrados.", borrados, dias)
    return int(borrados or 0)


class BandejaWhatsApp:
    """WhatsApp turns in flight and late replies, in the tracker store's
    database, so that any replica can finish (or deliver) what another began.

    A turn is registered when its message is accepted, with a lease (`vence`)
    that the replica running it keeps renewing; when the turn is answered (in
    the webhook's TwiML, outbound, or kept for the next reply) the row goes.
    A row whose lease ran out belongs to a replica that died: another replica
    claims it (an atomic UPDATE on the lease) and finishes it."""

    def __init__(self, engine: sa.engine.Engine, replica: str, *, una_conexion: bool = False) -> None:
        self.engine = engine
        self.replica = replica
        # An in-memory SQLite is one connection: one thread at a time on it.
        self._turno = threading.RLock() if una_conexion else None

    @contextlib.contextmanager
    def _con(self, transaccion: bool = True) -> Iterator[Any]:
        exclusivo = self._turno if self._turno is not None else contextlib.nullcontext()
        with exclusivo, (self.engine.begin() if transaccion else self.engine.connect()) as con:
            yield con

    @classmethod
    def en_memoria(cls) -> BandejaWhatsApp:
        """A private SQLite in memory: only where Rasa runs without
        AlmacenConversaciones (unit tests, a bare `rasa shell`)."""
        from sqlalchemy.pool import StaticPool

        engine = sa.create_engine(
            "sqlite://", connect_args={"check_same_thread": False}, poolclass=StaticPool
        )
        _metadata.create_all(engine)
        return cls(engine, f"memoria-{uuid.uuid4().hex[:8]}", una_conexion=True)

    def registrar(self, message_sid: str, remitente: str, datos: Dict[str, Any], plazo: float) -> bool:
        """False when the turn is already registered (Twilio delivered it twice)."""
        ahora = time.time()
        try:
            with self._con() as con:
                con.execute(
                    turnos_whatsapp.insert().values(
                        message_sid=message_sid, remitente=remitente, datos=json.dumps(datos),
                        vence=ahora + plazo, replica=self.replica, creado=ahora,
                    )
                )
        except sa.exc.IntegrityError:
            return False
        return True

    def renovar(self, message_sid: str, plazo: float) -> bool:
        with self._con() as con:
            return bool(
                con.execute(
                    turnos_whatsapp.update()
                    .where(turnos_whatsapp.c.message_sid == message_sid, turnos_whatsapp.c.replica == self.replica)
                    .values(vence=time.time() + plazo)
                ).rowcount
            )

    def terminar(self, message_sid: str) -> bool:
        """Remove the turn; False if it was not (or no longer) ours."""
        with self._con() as con:
            return bool(
                con.execute(
                    turnos_whatsapp.delete().where(
                        turnos_whatsapp.c.message_sid == message_sid, turnos_whatsapp.c.replica == self.replica
                    )
                ).rowcount
            )

    def reclamar_vencidos(self, plazo: float, limite: int = 20) -> List[Dict[str, Any]]:
        """Turns whose replica stopped vouching for them, now ours."""
        ahora = time.time()
        with self._con(transaccion=False) as con:
            candidatos = con.execute(
                sa.select(turnos_whatsapp.c.message_sid, turnos_whatsapp.c.vence)
                .where(turnos_whatsapp.c.vence < ahora)
                .order_by(turnos_whatsapp.c.creado)
                .limit(limite)
            ).all()
        reclamados = []
        for fila in candidatos:
            with self._con() as con:
                ganado = con.execute(
                    turnos_whatsapp.update()
                    .where(turnos_whatsapp.c.message_sid == fila.message_sid, turnos_whatsapp.c.vence == fila.vence)
                    .values(vence=time.time() + plazo, replica=self.replica)
                ).rowcount
                if ganado:
                    datos = con.execute(
                        sa.select(turnos_whatsapp).where(turnos_whatsapp.c.message_sid == fila.message_sid)
                    ).one()
                    reclamados.append({"message_sid": datos.message_sid, "remitente": datos.remitente,
                                       **json.loads(datos.datos)})
        return reclamados

    def guardar_pendientes(self, remitente: str, mensajes: Iterable[Dict[str, Any]]) -> None:
        ahora = time.time()
        filas = [{"remitente": remitente, "mensaje": json.dumps(m), "creado": ahora} for m in mensajes]
        if filas:
            with self._con() as con:
                con.execute(pendientes_whatsapp.insert(), filas)

    def tomar_pendientes(self, remitente: str) -> List[Dict[str, Any]]:
        """The late replies for this person, oldest first; each is taken once."""
        with self._con() as con:
            filas = con.execute(
                sa.select(pendientes_whatsapp.c.id, pendientes_whatsapp.c.mensaje)
                .where(pendientes_whatsapp.c.remitente == remitente)
                .order_by(pendientes_whatsapp.c.id)
            ).all()
            tomados = []
            for fila in filas:
                # Deleting row by row makes a concurrent taker lose the race
                # for each message instead of both delivering it.
                if con.execute(pendientes_whatsapp.delete().where(pendientes_whatsapp.c.id == fila.id)).rowcount:
                    tomados.append(json.loads(fila.mensaje))
        return tomados


class CerrojoConversaciones:
    """endpoints.yml `lock_store`: Rasa's RedisLockStore on LOCK_STORE_URL,
    or its InMemoryLockStore when unset. Rasa instantiates the class named in
    endpoints.yml with `endpoint_config=`; `__new__` hands back Rasa's own
    store, so this class is only a factory reading our URL contract."""

    def __new__(cls, endpoint_config: Any = None) -> LockStore:  # type: ignore[misc]
        url = url_de_cerrojo()
        if not url:
            logger.info("Cerrojo de conversaciones en memoria (una sola réplica).")
            return InMemoryLockStore()
        partes = urlsplit(url)
        if partes.scheme not in ("redis", "rediss"):
            raise RuntimeError(f"LOCK_STORE_URL debe ser redis://host:puerto/db (recibí {partes.scheme}://…)")
        db = (partes.path or "/0").strip("/") or "0"
        logger.info("Cerrojo de conversaciones en Redis %s:%s/%s.", partes.hostname, partes.port or 6379, db)
        return RedisLockStore(
            host=partes.hostname or "localhost",
            port=partes.port or 6379,
            db=int(db),
            username=unquote(partes.username) if partes.username else None,
            password=unquote(partes.password) if partes.password else None,
            use_ssl=partes.scheme == "rediss",
            key_prefix="capp",
        )


def _principal(argv: Optional[List[str]] = None) -> int:
    """`python -m bot.almacenes retencion [--dias N]` (run from the repository root)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m bot.almacenes")
    sub = parser.add_subparsers(dest="orden", required=True)
    ret = sub.add_parser("retencion", help="borra conversaciones más viejas que TRACKER_RETENCION_DIAS")
    ret.add_argument("--dias", type=float, default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    engine = sa.create_engine(url_de_almacen())
    SQLTrackerStore.Base.metadata.create_all(engine)
    _metadata.create_all(engine)
    dias = dias_de_retencion() if args.dias is None else args.dias
    borrados = aplicar_retencion(engine, dias)
    print(json.dumps({"eventos_borrados": borrados, "dias": dias}))
    return 0


if __name__ == "__main__":
    raise SystemExit(_principal())
