"""rasa_sdk's plugin package (it imports `rasa_sdk_plugins` at start-up):
the action server answers only Rasa.

rasa_sdk (rasa_sdk/plugin.py) does a bare `import rasa_sdk_plugins`, a
top-level name, so this package sits at the repository root, the action
server's working directory (Rasa puts its cwd on sys.path), not under bot/.

Rasa sends `Authorization: Bearer $ACTIONS_TOKEN` with every action call
(bot/endpoints.yml `action_endpoint.headers`); anything else gets 401/403 before
an action runs. Without ACTIONS_TOKEN every call is refused (fail closed).
`GET /health` stays open for probes; it says nothing about anyone.
The server also binds to loopback unless ACTIONS_HOST says otherwise
(scripts/acciones.sh sets rasa_sdk's SANIC_HOST).
"""

from __future__ import annotations

import hmac
import logging
import os
from typing import Any, Optional

import pluggy
from sanic import response

logger = logging.getLogger(__name__)
hookimpl = pluggy.HookimplMarker("rasa_sdk")


def rechazo(cabecera: Optional[str], esperado: Optional[str]) -> Optional[Any]:
    """None when the header carries the expected token, else the answer."""
    if not esperado:
        return response.json(
            {"detail": "El servidor de acciones no tiene ACTIONS_TOKEN: no atiende a nadie."}, 403
        )
    esquema, _, token = (cabecera or "").strip().partition(" ")
    if esquema.lower() != "bearer" or not token.strip():
        return response.json({"detail": "Falta Authorization: Bearer con el token de Rasa."}, 401)
    if not hmac.compare_digest(token.strip().encode(), esperado.encode()):
        return response.json({"detail": "El token de Rasa no es válido."}, 403)
    return None


class SoloRasa:
    @hookimpl
    def attach_sanic_app_extensions(self, app: Any) -> None:
        esperado = os.environ.get("ACTIONS_TOKEN") or None
        if not esperado:
            logger.error(
                "ACTIONS_TOKEN no está definido: el servidor de acciones rechazará todo (403)."
            )

        @app.middleware("request")
        async def solo_rasa(request: Any) -> Optional[Any]:
            if request.method == "GET" and request.path == "/health":
                return None
            negado = rechazo(request.headers.get("Authorization"), esperado)
            if negado is not None:
                logger.warning("Llamada al servidor de acciones rechazada (%s).", negado.status)
            return negado


def init_hooks(manager: pluggy.PluginManager) -> None:
    manager.register(SoloRasa())
