"""The bot's half of tests/habla_casos.json (the IVR's: tests/ivr/test_habla_casos.py):
options chosen among buttons on WhatsApp and on the phone channel, amounts and
birth dates, as people type or say them."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, List, Optional

import pytest

from bot.actions.lectura import leer_fecha, leer_monto
from bot.channels.ivr import IVRInput
from bot.channels.opciones import resolver_opcion

CASOS = json.loads((Path(__file__).parents[1] / "habla_casos.json").read_text(encoding="utf-8"))
HOY = date(2025, 6, 1)


def _botones(cuantos: int) -> List[dict]:
    return [
        {"title": f"Trámite {chr(65 + i)}", "payload": f"/opcion_{i + 1}"} for i in range(cuantos)
    ]


@pytest.mark.parametrize("texto,cuantas,posicion", CASOS["opciones"])
def test_opcion_elegida_por_whatsapp_y_por_telefono(
    texto: str, cuantas: int, posicion: Optional[int]
) -> None:
    botones = _botones(cuantas)
    elegido = f"/opcion_{posicion}" if posicion else None
    assert resolver_opcion(texto, botones) == elegido
    # The phone channel passes anything that is no button on as said.
    assert IVRInput.mapear_boton({"botones": botones}, texto) == (elegido or texto)


@pytest.mark.parametrize("texto,esperado", CASOS["montos"])
def test_monto_dicho(texto: str, esperado: Optional[str]) -> None:
    assert leer_monto(texto) == (Decimal(esperado) if esperado is not None else None)


@pytest.mark.parametrize("caso", CASOS["fechas_nacimiento"], ids=lambda c: c[0])
def test_fecha_de_nacimiento_dicha(caso: List[Any]) -> None:
    texto, esperada = caso[0], caso[1]
    assert leer_fecha(texto, hacia="pasado", hoy=HOY) == (
        date.fromisoformat(esperada) if esperada else None
    )
