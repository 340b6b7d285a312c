"""Shared setup for the Rasa-side suites (run with .venv-rasa).

Rasa runs with bot/ as its working directory, so tests import the bot's
packages the same way Rasa does: `import actions`, `import channels`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

BOT_DIR = Path(__file__).resolve().parents[2] / "bot"

if str(BOT_DIR) not in sys.path:
    sys.path.insert(0, str(BOT_DIR))

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
# The action server's sealing key (actions/boveda.py), as the real one has it.
os.environ.setdefault("ACCIONES_CLAVE", "clave-de-pruebas-de-la-boveda")


@pytest.fixture(autouse=True)
def _sin_red():
    """After each test: the backend client back on real HTTP, no catalogue kept."""
    yield
    from actions import backend_client, simulacion

    backend_client.usar_transporte(None)
    simulacion._catalogo.update(productos=None, hasta=0.0)
