"""IVR settings, read from the environment and an optional `.env` file.

Transfer to a human (`0`, "asesor", or the bot's `accion: transferir`):

* `IVR_ASESOR_NUMERO` set -> `<Dial>` that number (E.164, e.g. +525512345678).
  ISSSTETEL itself (55 4000 1000) is refused at start-up: this IVR *is*
  ISSSTETEL opción 5, so dialling it would put the caller back in this menu.
* otherwise -> `<Enqueue>` into the Twilio queue `IVR_ASESOR_COLA` (default
  `capp_asesores`), where the caller hears a Spanish wait message
  (`/ivr/asesor/espera`) and, after `IVR_ASESOR_ESPERA_MAX` seconds without an
  asesor taking the call, an apology and a hang-up. Asesores answer by
  dequeuing from that queue (TaskRouter/Flex, or a `<Dial><Queue>` on their
  phones). Neither default can loop the call back into the IVR.
"""

from __future__ import annotations

import re
from functools import lru_cache

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ivr.textos import ISSSTETEL_E164, ISSSTETEL_NUMERO

# ISSSTETEL's own number, in any spelling (+52 55 4000 1000, 5540001000...):
# its last ten digits.
_ISSSTETEL = ISSSTETEL_E164[-10:]


class IVRSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    rasa_url: str = "http://localhost:5005"
    backend_url: str = "http://localhost:8000"
    # Unset token = every request is refused (fail closed), never accepted.
    twilio_auth_token: str | None = None
    # Address Twilio uses to reach this service; signatures are computed over it.
    public_base_url: str = "http://localhost:8001"
    # Bearer token for Rasa's `ivr` channel (bot/channels/ivr.py); the same
    # RASA_TOKEN Rasa runs with. Unset: Rasa refuses us and callers hear the apology.
    rasa_token: str | None = None

    # Transfer to a human: see the module docstring. A number wins over the queue.
    ivr_asesor_numero: str | None = None
    ivr_asesor_cola: str = Field(default="capp_asesores", min_length=1, max_length=64)
    ivr_asesor_espera_max: int = Field(default=300, ge=30, le=3600)
    # es-MX voice for <Say>; Amazon Polly's Mia is a Mexican Spanish voice.
    ivr_voz: str = "Polly.Mia"
    ivr_idioma: str = "es-MX"
    # Twilio gives up after 15 s; Rasa must answer well before that.
    ivr_rasa_timeout: float = Field(default=8.0, gt=0, le=8.0)
    ivr_gather_timeout: int = Field(default=6, ge=1, le=30)
    ivr_reintentos: int = Field(default=2, ge=0, le=5)
    # Safety net: after this many turns in one call we offer the asesor and end.
    ivr_max_turnos: int = Field(default=60, ge=5, le=500)
    # Twilio's webhook forms are a few KB: larger bodies get 413 before the
    # signature check (or anything else) reads them.
    ivr_max_cuerpo_bytes: int = Field(default=16 * 1024, ge=1024)
    # Where call outcomes are stored (status callback + our own end reasons).
    ivr_registro_path: str = "var/ivr_llamadas.jsonl"

    @field_validator("ivr_asesor_numero", mode="before")
    @classmethod
    def _numero_que_no_regresa_al_ivr(cls, valor: object) -> str | None:
        if valor is None or (isinstance(valor, str) and not valor.strip()):
            return None
        numero = re.sub(r"[\s().-]", "", str(valor))
        # E.164 shape only; Twilio validates the rest when it dials.
        if not re.fullmatch(r"\+[1-9]\d{7,14}", numero):
            raise ValueError(
                "IVR_ASESOR_NUMERO debe estar en formato E.164, por ejemplo +525512345678"
            )
        if numero.endswith(_ISSSTETEL):
            raise ValueError(
                f"IVR_ASESOR_NUMERO no puede ser ISSSTETEL ({ISSSTETEL_NUMERO}): "
                "la llamada volvería a este menú"
            )
        return numero


@lru_cache
def get_settings() -> IVRSettings:
    return IVRSettings()
