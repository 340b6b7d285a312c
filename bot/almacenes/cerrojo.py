"""endpoints.yml `lock_store`: the lock that serialises the turns of one
conversation across replicas (Redis on LOCK_STORE_URL, or in memory)."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import unquote, urlsplit

from rasa.core.lock_store import InMemoryLockStore, LockStore, RedisLockStore

from bot.almacenes.entorno import url_de_cerrojo

logger = logging.getLogger(__name__)


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
        logger.info(
            "Cerrojo de conversaciones en Redis %s:%s/%s.", partes.hostname, partes.port or 6379, db
        )
        return RedisLockStore(
            host=partes.hostname or "localhost",
            port=partes.port or 6379,
            db=int(db),
            username=unquote(partes.username) if partes.username else None,
            password=unquote(partes.password) if partes.password else None,
            use_ssl=partes.scheme == "rediss",
            key_prefix="capp",
        )
