"""The replica registry: each Rasa replica has a row, refreshed by a
heartbeat, in the tracker store's database. A replica is refused when it
would share conversations with another while either keeps its locks in
memory (two replicas with private locks would interleave turns of one
conversation and lose events)."""

from __future__ import annotations

import os
import socket
import time

import sqlalchemy as sa

from bot.almacenes.tablas import replicas

# A replica that has not refreshed its row for this long is taken as gone.
VIGENCIA_REPLICA = 20.0


class ReplicaRechazada(RuntimeError):
    """Two replicas would share conversations with private (in-memory) locks."""


def _proceso_vivo(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class RegistroReplicas:
    """This replica's row: `cerrojo` is "redis" or "memoria"."""

    def __init__(self, engine: sa.engine.Engine, replica_id: str, cerrojo: str) -> None:
        self.engine = engine
        self.replica_id = replica_id
        self.cerrojo = cerrojo

    def registrar(self) -> None:
        """Register this replica, or raise ReplicaRechazada (and leave no row)."""
        ahora = time.time()
        host = socket.gethostname()
        with self.engine.begin() as con:
            con.execute(replicas.delete().where(replicas.c.visto < ahora - VIGENCIA_REPLICA))
            for fila in con.execute(
                sa.select(replicas.c.id, replicas.c.pid).where(replicas.c.host == host)
            ):
                if not _proceso_vivo(int(fila.pid)):
                    con.execute(replicas.delete().where(replicas.c.id == fila.id))
            con.execute(
                replicas.insert().values(
                    id=self.replica_id,
                    host=host,
                    pid=os.getpid(),
                    cerrojo=self.cerrojo,
                    visto=ahora,
                )
            )
        # Checked after registering: of two replicas starting at once, at
        # least one sees the other.
        with self.engine.begin() as con:
            otras = con.execute(
                sa.select(replicas.c.host, replicas.c.pid, replicas.c.cerrojo).where(
                    replicas.c.id != self.replica_id
                )
            ).all()
        conflicto = [o for o in otras if self.cerrojo == "memoria" or o.cerrojo == "memoria"]
        if conflicto:
            self.dar_de_baja()
            otra = conflicto[0]
            raise ReplicaRechazada(
                f"Otra réplica de Rasa ({otra.host}, pid {otra.pid}) usa este almacén de "
                "conversaciones y al menos una de las dos tiene el cerrojo en memoria. "
                "Con más de una réplica configure "
                "LOCK_STORE_URL=redis://... en todas."
            )

    def latido(self) -> None:
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

    def dar_de_baja(self) -> None:
        with self.engine.begin() as con:
            con.execute(replicas.delete().where(replicas.c.id == self.replica_id))
