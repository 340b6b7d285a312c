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


@lru_cache
def get_settings() -> BackendSettings:
    return BackendSettings()
