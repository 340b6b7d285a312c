"""IVR settings, read from the environment and an optional `.env` file."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class IVRSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    rasa_url: str = "http://localhost:5005"
    backend_url: str = "http://localhost:8000"
    # Unset token = every request is refused (fail closed), never accepted.
    twilio_auth_token: str | None = None
    # Address Twilio uses to reach this service; signatures are computed over it.
    public_base_url: str = "http://localhost:8001"

    # Transfer to a human: a queue name (<Enqueue>) wins over a number (<Dial>).
    ivr_asesor_numero: str = "+525540001000"
    ivr_asesor_cola: str | None = None
    # es-MX voice for <Say>; Amazon Polly's Mia is a Mexican Spanish voice.
    ivr_voz: str = "Polly.Mia"
    ivr_idioma: str = "es-MX"
    # Twilio gives up after 15 s; Rasa must answer well before that.
    ivr_rasa_timeout: float = Field(default=8.0, gt=0, le=8.0)
    ivr_gather_timeout: int = Field(default=6, ge=1, le=30)
    ivr_reintentos: int = Field(default=2, ge=0, le=5)
    # Safety net: after this many turns in one call we offer the asesor and end.
    ivr_max_turnos: int = Field(default=60, ge=5, le=500)
    # Where call outcomes are stored (status callback + our own end reasons).
    ivr_registro_path: str = "var/ivr_llamadas.jsonl"


@lru_cache
def get_settings() -> IVRSettings:
    return IVRSettings()
