"""Outbound WhatsApp messages (a late reply), through Twilio's REST API."""

from __future__ import annotations

import asyncio
import os
from typing import Any, Dict, Optional, Protocol

from twilio.rest import Client as ClienteTwilio

from bot.channels.whatsapp_twiml import Pieza


class Enviador(Protocol):
    """Sends a WhatsApp message outside a webhook's answer."""

    async def enviar(self, *, para: str, de: Optional[str], pieza: Pieza) -> None: ...


class EnviadorTwilio:
    """twilio's own client; `api_base` (TWILIO_API_BASE) replaces
    https://api.twilio.com, e.g. for a local stand-in in tests."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        remitente: Optional[str] = None,
        http_client: Any = None,
        api_base: Optional[str] = None,
    ) -> None:
        self.cliente = ClienteTwilio(account_sid, auth_token, http_client=http_client)
        if api_base:
            self.cliente.api.base_url = api_base.rstrip("/")
        self.remitente = remitente or None

    @classmethod
    def desde_entorno(
        cls, credenciales: Optional[Dict[str, Any]] = None
    ) -> Optional[EnviadorTwilio]:
        credenciales = credenciales or {}
        auth_token = credenciales.get("auth_token") or os.environ.get("TWILIO_AUTH_TOKEN")
        account_sid = credenciales.get("account_sid") or os.environ.get("TWILIO_ACCOUNT_SID")
        if not (account_sid and auth_token):
            return None
        return cls(
            account_sid, auth_token,
            remitente=credenciales.get("whatsapp_from") or os.environ.get("TWILIO_FROM_WHATSAPP"),
            api_base=os.environ.get("TWILIO_API_BASE"),
        )

    async def enviar(self, *, para: str, de: Optional[str], pieza: Pieza) -> None:
        origen = self.remitente or de
        if not origen:
            raise ValueError("No sé desde qué número de WhatsApp enviar (TWILIO_FROM_WHATSAPP).")
        if not origen.startswith(
            "whatsapp:"
        ):  # same setting as the backend's sender: "+1415…" is fine
            origen = f"whatsapp:{origen}"
        datos: Dict[str, Any] = {"to": para, "from_": origen, "body": pieza.cuerpo}
        if pieza.medios:
            datos["media_url"] = list(pieza.medios)
        # twilio's client is synchronous (requests): keep it off the event loop.
        await asyncio.to_thread(self.cliente.messages.create, **datos)
