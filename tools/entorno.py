"""The environment every service of one local deployment reads: its shared
secrets (fresh per deployment) and where each service finds the others.

Used by the end-to-end stack (tests/e2e/stack.py) and the local cluster
(tools/cluster.py), so both start the processes the same way production does.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, fields
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# CAPP_MODEL: run on another trained model (e.g. one being tried out).
MODEL = Path(os.environ.get("CAPP_MODEL") or ROOT / "bot" / "models" / "capp.tar.gz")
# The same in every local deployment: quiet, no telemetry, any web origin.
_FIJAS = {"RASA_CORS": "*", "RASA_TELEMETRY_ENABLED": "false", "PYTHONDONTWRITEBYTECODE": "1",
          "TF_CPP_MIN_LOG_LEVEL": "3"}


def _secreto() -> str:
    return secrets.token_urlsafe(32)


@dataclass(kw_only=True)
class Secretos:
    """Each one reaches the services as the variable named like it in capitals."""

    twilio_auth_token: str = field(default_factory=lambda: "test-" + secrets.token_hex(16))
    token_secret: str = field(default_factory=_secreto)
    # The channels (REST, ivr -> Rasa) and Rasa's HTTP API (--auth-token).
    rasa_token: str = field(default_factory=_secreto)
    rasa_admin_token: str = field(default_factory=_secreto)
    actions_token: str = field(default_factory=_secreto)
    nip_pepper: str = field(default_factory=_secreto)
    acciones_clave: str = field(default_factory=_secreto)

    def entorno_servicios(
        self,
        *,
        database_url: str,
        tracker_store_url: str,
        backend_url: str,
        rasa_url: str,
        action_endpoint_url: str,
        public_base_url: str,
        **extra: str,
    ) -> dict[str, str]:
        """This process's environment (minus its virtualenv) plus every service setting;
        `extra` last."""
        env = {
            k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHONHOME"))
        }
        env.update(
            DATABASE_URL=database_url,
            TRACKER_STORE_URL=tracker_store_url,
            BACKEND_URL=backend_url,
            BACKEND_PUBLIC_URL=backend_url,
            RASA_URL=rasa_url,
            RASA_PUBLIC_URL=rasa_url,
            ACTION_ENDPOINT_URL=action_endpoint_url,
            PUBLIC_BASE_URL=public_base_url,
            RASA_MODEL=str(MODEL),
            **_FIJAS,
        )
        env.update({f.name.upper(): getattr(self, f.name) for f in fields(Secretos)})
        env.update(extra)
        return env
