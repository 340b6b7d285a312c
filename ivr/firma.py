"""Twilio request signature check (FastAPI dependency). Fails closed."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from twilio.request_validator import RequestValidator

from ivr.settings import IVRSettings, get_settings

logger = logging.getLogger(__name__)


def url_publica(request: Request, settings: IVRSettings) -> str:
    """The URL Twilio signed: PUBLIC_BASE_URL + path (+ query)."""
    url = settings.public_base_url.rstrip("/") + request.url.path
    if request.url.query:
        url += "?" + request.url.query
    return url


async def formulario_firmado(
    request: Request, settings: Annotated[IVRSettings, Depends(get_settings)]
) -> dict[str, str]:
    """The posted parameters, only if X-Twilio-Signature matches them."""
    token = settings.twilio_auth_token
    if not token:
        logger.error("TWILIO_AUTH_TOKEN no está configurado: se rechazan todas las solicitudes")
        raise HTTPException(403, "No es posible verificar la firma de Twilio.")
    firma = request.headers.get("X-Twilio-Signature", "")
    try:
        formulario = await request.form()
    except Exception as exc:  # malformed body: treat as unsigned
        raise HTTPException(403, "Solicitud no válida.") from exc
    parametros = {k: str(v) for k, v in formulario.multi_items()}
    if not firma or not RequestValidator(token).validate(
        url_publica(request, settings), parametros, firma
    ):
        logger.warning("Firma de Twilio inválida para %s", request.url.path)
        raise HTTPException(403, "Firma de Twilio inválida.")
    return parametros


FormularioTwilio = Annotated[dict[str, str], Depends(formulario_firmado)]
