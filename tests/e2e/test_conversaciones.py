"""The conversation suite (issue 15): multi-turn conversations written as people
talk on the web, WhatsApp and the phone (tests/e2e/conversaciones/*.yml),
played against the whole stack over each channel they list.

A failure prints the transcript (who said what) and what was missing or should
not have been heard. Expected figures come from the backend's API.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conversaciones.jugador import cargar, casos, jugar

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CASOS = casos(cargar())


@pytest.mark.parametrize(("conversacion", "canal"), CASOS, ids=[f"{c.id}-{ch}" for c, ch in CASOS])
def test_conversacion(stack: Any, conversacion, canal: str) -> None:
    resultado = jugar(stack, conversacion, canal)
    if not resultado.ok:
        pytest.fail(resultado.informe(), pytrace=False)
