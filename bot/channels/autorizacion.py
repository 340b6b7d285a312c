"""Bearer-token check shared by the channels that only trusted callers use
(`rest` for operators and tests, `ivr` for the phone service).

Rasa's `--auth-token` covers its HTTP API but not channel webhooks, so these
channels check `Authorization: Bearer $RASA_TOKEN` themselves: no token
configured -> everything is refused (403, fail closed); no/odd header -> 401;
wrong token -> 403. Answers are JSON in Spanish.
"""

from __future__ import annotations

import hmac
import json
import logging
from typing import Any

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

logger = logging.getLogger(__name__)

VARIABLE_TOKEN = "RASA_TOKEN"


def json_es(cuerpo: dict[str, Any], status: int, **cabeceras: str) -> HTTPResponse:
    """A JSON answer with Spanish text kept readable (no \\u escapes)."""
    return response.json(
        cuerpo,
        status=status,
        headers=cabeceras or None,
        dumps=lambda o: json.dumps(o, ensure_ascii=False),
    )


def token_de_portador(request: Request) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, if any."""
    esquema, _, token = (request.headers.get("Authorization") or "").strip().partition(" ")
    if esquema.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def rechazo_de_autorizacion(
    request: Request, esperado: str | None, *, canal: str
) -> HTTPResponse | None:
    """None when the request carries `Authorization: Bearer <esperado>`, else the 401/403 answer."""
    if not esperado:
        return json_es(
            {"detail": f"El canal {canal} está deshabilitado: falta configurar {VARIABLE_TOKEN}."},
            403,
        )
    recibido = token_de_portador(request)
    if recibido is None:
        return json_es(
            {"detail": "Falta la cabecera Authorization: Bearer con el token del asistente."},
            401, **{"WWW-Authenticate": f'Bearer realm="{canal}"'},
        )
    if not hmac.compare_digest(recibido.encode("utf-8"), esperado.encode("utf-8")):
        logger.warning("Token inválido en el canal %s (%s)", canal, getattr(request, "path", ""))
        return json_es({"detail": "El token del asistente no es válido."}, 403)
    return None
