"""HTTP bridge to Rasa's `ivr` input channel (bot/channels/ivr.py).

The ivr never decides anything a bot or backend should decide: it forwards
what the caller said (normalised) with the CallSid as conversation id and gets
back the bot's messages, buttons, requested slot and any `accion`.

Channel webhooks are outside Rasa's `--auth-token`, so the channel asks for
`Authorization: Bearer <RASA_TOKEN>` itself; this client sends it.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

logger = logging.getLogger(__name__)


class ErrorRasa(Exception):
    """Rasa did not answer in time or answered something unusable."""


@dataclass
class RespuestaRasa:
    mensajes: list[str] = field(default_factory=list)
    botones: list[dict[str, str]] = field(default_factory=list)
    accion: str | None = None
    requested_slot: str | None = None
    active_loop: str | None = None
    intent: str | None = None

    @classmethod
    def desde_json(cls, datos: Any) -> RespuestaRasa:
        if not isinstance(datos, dict):
            raise ErrorRasa("respuesta de Rasa con forma inesperada")
        botones = [
            {"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
            for b in datos.get("botones") or []
            if isinstance(b, dict)
        ]
        return cls(
            mensajes=[str(m) for m in datos.get("mensajes") or [] if m],
            botones=botones,
            accion=datos.get("accion") or None,
            requested_slot=datos.get("requested_slot") or None,
            active_loop=datos.get("active_loop") or None,
            intent=datos.get("intent") or None,
        )


@dataclass(frozen=True)
class Interpretacion:
    """Rasa's NLU parse of an utterance (the tracker is not touched)."""

    intent: str | None
    confianza: float


class ClienteRasa:
    """One AsyncClient per app (created in the lifespan, closed on shutdown)."""

    PREFIJO = "/webhooks/ivr"

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float,
        token: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.timeout = timeout
        cabeceras = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            timeout=httpx.Timeout(timeout),
            transport=transport,
            headers=cabeceras,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _post(self, path: str, cuerpo: dict[str, Any]) -> Any:
        try:
            # httpx enforces the timeout per phase; wait_for bounds the whole exchange
            r = await asyncio.wait_for(
                self._http.post(self.PREFIJO + path, json=cuerpo), self.timeout
            )
        except (httpx.HTTPError, TimeoutError) as exc:  # timeouts, refused connections, resets
            raise ErrorRasa(f"Rasa no respondió: {type(exc).__name__}") from exc
        if r.status_code in {401, 403}:
            # A configuration error, not a caller's: RASA_TOKEN differs between ivr and Rasa.
            logger.error(
                "El canal ivr de Rasa rechazó el token del IVR (%s): revise RASA_TOKEN",
                r.status_code,
            )
            raise ErrorRasa(f"Rasa rechazó la autorización ({r.status_code})")
        if r.status_code == 404 and path == "/repetir":
            return None
        if r.status_code >= 400:
            raise ErrorRasa(f"Rasa respondió {r.status_code}")
        try:
            return r.json()
        except ValueError as exc:
            raise ErrorRasa("Rasa respondió algo que no es JSON") from exc

    async def enviar(
        self, sender: str, mensaje: str, metadata: dict[str, Any] | None = None
    ) -> RespuestaRasa:
        # Every turn carries a key and the moment the IVR stops waiting for
        # it: the backend refuses to book or cancel for a turn past that
        # moment (the caller already heard an apology) or twice for one key.
        turno = {
            "idempotencia": f"ivr-{uuid.uuid4().hex}",
            "vence": round(time.time() + self.timeout, 3),
        }
        datos = await self._post(
            "/webhook",
            {"sender": sender, "message": mensaje, "metadata": {**(metadata or {}), **turno}},
        )
        return RespuestaRasa.desde_json(datos)

    async def interpretar(self, texto: str) -> Interpretacion:
        datos = await self._post("/interpretar", {"message": texto})
        if not isinstance(datos, dict):
            raise ErrorRasa("interpretación con forma inesperada")
        try:
            confianza = float(datos.get("confidence") or 0.0)
        except (TypeError, ValueError) as exc:
            raise ErrorRasa("confianza no numérica") from exc
        return Interpretacion(datos.get("intent") or None, confianza)

    async def repetir(self, sender: str) -> RespuestaRasa | None:
        datos = await self._post("/repetir", {"sender": sender})
        return None if datos is None else RespuestaRasa.desde_json(datos)
