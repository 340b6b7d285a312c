"""WhatsApp turns in flight and late replies, kept in the tracker store's
database (see channels/whatsapp.py)."""

from __future__ import annotations

import contextlib
import json
import threading
import time
import uuid
from typing import Any, Dict, Iterable, Iterator, List

import sqlalchemy as sa

from bot.almacenes.tablas import metadata, pendientes_whatsapp, turnos_whatsapp


class BandejaWhatsApp:
    """WhatsApp turns in flight and late replies, in the tracker store's
    database, so that any replica can finish (or deliver) what another began.

    A turn is registered when its message is accepted, with a lease (`vence`)
    that the replica running it keeps renewing; when the turn is answered (in
    the webhook's TwiML, outbound, or kept for the next reply) the row goes.
    A row whose lease ran out belongs to a replica that died: another replica
    claims it (an atomic UPDATE on the lease) and finishes it."""

    def __init__(
        self, engine: sa.engine.Engine, replica: str, *, una_conexion: bool = False
    ) -> None:
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
        metadata.create_all(engine)
        return cls(engine, f"memoria-{uuid.uuid4().hex[:8]}", una_conexion=True)

    def registrar(
        self, message_sid: str, remitente: str, datos: Dict[str, Any], plazo: float
    ) -> bool:
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
                    .where(
                        turnos_whatsapp.c.message_sid == message_sid,
                        turnos_whatsapp.c.replica == self.replica,
                    )
                    .values(vence=time.time() + plazo)
                ).rowcount
            )

    def terminar(self, message_sid: str) -> bool:
        """Remove the turn; False if it was not (or no longer) ours."""
        with self._con() as con:
            return bool(
                con.execute(
                    turnos_whatsapp.delete().where(
                        turnos_whatsapp.c.message_sid == message_sid,
                        turnos_whatsapp.c.replica == self.replica,
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
                    .where(
                        turnos_whatsapp.c.message_sid == fila.message_sid,
                        turnos_whatsapp.c.vence == fila.vence,
                    )
                    .values(vence=time.time() + plazo, replica=self.replica)
                ).rowcount
                if ganado:
                    datos = con.execute(
                        sa.select(turnos_whatsapp).where(
                            turnos_whatsapp.c.message_sid == fila.message_sid
                        )
                    ).one()
                    reclamados.append(
                        {
                            "message_sid": datos.message_sid,
                            "remitente": datos.remitente,
                            **json.loads(datos.datos),
                        }
                    )
        return reclamados

    def guardar_pendientes(self, remitente: str, mensajes: Iterable[Dict[str, Any]]) -> None:
        ahora = time.time()
        filas = [
            {"remitente": remitente, "mensaje": json.dumps(m), "creado": ahora} for m in mensajes
        ]
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
                if con.execute(
                    pendientes_whatsapp.delete().where(pendientes_whatsapp.c.id == fila.id)
                ).rowcount:
                    tomados.append(json.loads(fila.mensaje))
        return tomados
