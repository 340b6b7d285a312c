"""Backend settings, read from the environment and an optional `.env` file."""

from __future__ import annotations

import secrets
from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class BackendSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = "sqlite:///var/capp.db"
    # Signs identity tokens and expiring PDF links. `make run` writes one into .env;
    # without it each process draws a random one (tokens then die with the process).
    token_secret: str = Field(default_factory=lambda: secrets.token_urlsafe(32))
    token_ttl_minutes: int = 15
    # desarrollo: /docs, /redoc and /openapi.json are served. produccion (the
    # default): they are not. `make run` writes ENTORNO=desarrollo into .env.
    entorno: Literal["desarrollo", "produccion"] = "produccion"
    # Origins (comma-separated) whose pages may call this API from a browser; empty:
    # only BACKEND_PUBLIC_URL's own origin.
    cors_origenes: str = ""
    # NIP hashes are HMAC-SHA-256 keyed with this pepper (never stored in the
    # database). Older peppers (comma-separated) still verify and are rehashed
    # with the current one on the next successful login. Unset: a public
    # development pepper (the backend logs an error at start).
    nip_pepper: SecretStr | None = None
    nip_peppers_anteriores: SecretStr | None = None
    nip_max_intentos: int = 3
    # First lockout of a CURP; each further one doubles it, up to the maximum.
    bloqueo_minutos: int = 15
    bloqueo_maximo_minutos: int = 24 * 60
    # Throttling of failed attempts (NIP checks and cancellations by clave + birth
    # date) per source address and globally, counted in the database.
    intentos_por_origen: int = Field(default=20, ge=1)
    intentos_globales: int = Field(default=5000, ge=1)
    intentos_ventana_minutos: int = Field(default=15, ge=1)
    # Peers (IPs or networks, comma-separated) whose X-Forwarded-For is believed.
    proxies_confiables: str = "127.0.0.1,::1"
    # Request bodies above this many bytes get 413 before anything reads them.
    max_cuerpo_bytes: int = Field(default=64 * 1024, ge=1024)
    # How long an Idempotency-Key (booking/cancelling) is remembered.
    idempotencia_horas: int = Field(default=24, ge=1)
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
    # A cita can be cancelled up to this many hours before it starts (every message
    # that states the rule is worded from this value).
    cancelacion_anticipacion_horas: int = Field(default=36, ge=1)

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


def _lista(valor: str) -> list[str]:
    return [v.strip() for v in valor.split(",") if v.strip()]


def lista_cors(settings: BackendSettings) -> list[str]:
    from urllib.parse import urlsplit

    if origenes := _lista(settings.cors_origenes):
        return origenes
    partes = urlsplit(settings.backend_public_url)
    return [f"{partes.scheme}://{partes.netloc}"]


def lista_proxies(settings: BackendSettings) -> list[str]:
    return _lista(settings.proxies_confiables)


def lista_peppers_anteriores(settings: BackendSettings) -> list[str]:
    return (
        _lista(settings.nip_peppers_anteriores.get_secret_value())
        if settings.nip_peppers_anteriores
        else []
    )


@lru_cache
def get_settings() -> BackendSettings:
    return BackendSettings()
