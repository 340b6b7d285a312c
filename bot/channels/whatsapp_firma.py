"""Twilio's signature on WhatsApp webhooks (twilio's own RequestValidator).

The signed URL is the configured public origin (PUBLIC_BASE_URL) + path
(+ query), never the request's Host header, which the caller chooses. No
token or no origin configured: nothing validates (fail closed)."""

from __future__ import annotations

from typing import Optional
from urllib.parse import parse_qs

from sanic.request import Request, RequestParameters
from twilio.request_validator import RequestValidator


def formulario(request: Request) -> RequestParameters:
    """The posted parameters, blank ones included: Twilio posts `Body=` with
    media and signs it, but Sanic's `request.form` drops blank values."""
    parametros = getattr(request.ctx, "parametros_twilio", None)
    if parametros is None:
        try:
            datos = parse_qs(request.body.decode("utf-8"), keep_blank_values=True)
        except UnicodeDecodeError:
            datos = {}
        parametros = request.ctx.parametros_twilio = RequestParameters(datos)
    return parametros


def url_firmada(public_base_url: str, request: Request) -> Optional[str]:
    if not public_base_url:
        return None
    url = public_base_url + request.path
    if request.query_string:
        url += "?" + request.query_string
    return url


def firma_valida(auth_token: Optional[str], public_base_url: str, request: Request) -> bool:
    url = url_firmada(public_base_url, request)
    if not auth_token or not url:
        return False  # a check that passes without a token or origin is no check
    firma = request.headers.get("X-Twilio-Signature")
    if not firma:
        return False
    return bool(RequestValidator(auth_token).validate(url, formulario(request), firma))
