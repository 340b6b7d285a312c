"""Backend settings, read from the environment and an optional `.env` file."""

from __future__ import annotations

import secrets
from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class BackendSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = "sqlite:///var/capp.db"
    # Signs identity tokens and expiring PDF links. `make run` writes one into .env;
    # without it each process draws a random one (tokens then die with the process).
    token_secret: str = Field(default_factory=lambda: secrets.token_urlsafe(32))
    token_ttl_minutes: int = 15
    nip_max_intentos: int = 3
    bloqueo_minutos: int = 15
    # Public address of this backend, used to build signed links Twilio can fetch.
    backend_public_url: str = "http://localhost:8000"
    timezone: str = "America/Mexico_City"
    # Shared secret the collecting banks send in the X-Webhook-Secret header of
    # POST /api/v1/pagos/notificacion-bancaria. Unset: every notification is refused.
    banco_webhook_secret: str | None = None
    # Shared secret CAPP staff tools send in the X-CAPP-Secret header of internal
    # endpoints (POST /api/v1/citas/{clave}/atendida). Unset: those endpoints refuse.
    capp_interno_secret: str | None = None
    # Cancelling a cita by clave + fecha de nacimiento (no token): like the NIP rule,
    # this many failures lock that clave for that many minutes.
    cancelacion_max_intentos: int = 3
    cancelacion_bloqueo_minutos: int = 15

    # Twilio REST credentials for SMS/WhatsApp notifications (backend/notificaciones).
    # Empty SID/token: the sender worker still schedules reminders and keeps every
    # message in the outbox, but delivers nothing. TWILIO_API_BASE overrides
    # https://api.twilio.com (tests point it at a local fake Twilio server).
    twilio_account_sid: str = ""
    twilio_auth_token: str = ""
    twilio_from_sms: str = ""
    twilio_from_whatsapp: str = ""
    twilio_api_base: str = "https://api.twilio.com"
    # Seconds to wait for Twilio to connect, and again for its answer.
    twilio_timeout_segundos: float = 15.0
    # Where the browser reaches Rasa's socket.io channel; injected into /chat.
    rasa_public_url: str = "http://localhost:5005"


@lru_cache
def get_settings() -> BackendSettings:
    return BackendSettings()
