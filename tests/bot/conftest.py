"""Shared setup for the Rasa-side suites (run with .venv-rasa).

Rasa and the action server run from the repository root, so tests import the
bot's packages the same way they do: `bot.actions`, `bot.channels`,
`bot.almacenes`, and rasa_sdk's top-level `rasa_sdk_plugins`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BOT_DIR = ROOT / "bot"

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
# The action server's sealing key (bot/actions/boveda.py), as the real one has it.
os.environ.setdefault("ACCIONES_CLAVE", "clave-de-pruebas-de-la-boveda")


@pytest.fixture
def sanic_en_modo_prueba(monkeypatch: pytest.MonkeyPatch) -> None:
    """What sanic-testing does: lets several Sanic apps start in one process (channel tests
    use it through `pytestmark`)."""
    from sanic import Sanic

    monkeypatch.setattr(Sanic, "test_mode", True)


@pytest.fixture(autouse=True)
def _sin_red():
    """After each test: the backend client back on real HTTP, no catalogue kept."""
    yield
    from bot.actions import backend_client, producto_simulado

    backend_client.usar_transporte(None)
    producto_simulado._catalogo.update(productos=None, hasta=0.0)
