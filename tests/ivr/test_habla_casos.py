"""The IVR's half of tests/habla_casos.json: options, amounts and birth dates
as callers say them. The bot's half (tests/bot/test_habla_casos.py) runs the
same cases against bot/actions/lectura.py and the channels' buttons."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from habla.opciones import posicion_de_opcion
from ivr.fechas import fecha
from ivr.motor import Motor, cargar_menu
from ivr.normalizacion import para_slot
from ivr.numeros import monto

CASOS = json.loads((Path(__file__).parents[1] / "habla_casos.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize(("texto", "cuantas", "posicion"), CASOS["opciones"])
def test_opcion_dicha(texto: str, cuantas: int, posicion: int | None) -> None:
    assert posicion_de_opcion(texto, cuantas) == posicion


@pytest.mark.parametrize(
    ("texto", "cuantas", "posicion"), [c for c in CASOS["opciones"] if c[1] == 7]
)
def test_opcion_dicha_en_el_menu_del_capp(texto: str, cuantas: int, posicion: int | None) -> None:
    menu = cargar_menu()
    capp = next(
        n for n in menu.nodos.values() if len([t for t in n.opciones if t.isdigit()]) == cuantas
    )
    assert Motor(menu)._tecla_dicha(capp, texto) == (str(posicion) if posicion else None)


def test_la_ultima_y_la_segunda_en_un_menu_del_telefono() -> None:
    menu = cargar_menu()
    capp = next(n for n in menu.nodos.values() if len(n.opciones) == 7)
    motor = Motor(menu)
    assert motor._tecla_dicha(capp, "la segunda") == "2"
    assert motor._tecla_dicha(capp, "la última") == max(capp.opciones, key=int)


@pytest.mark.parametrize(("texto", "esperado"), CASOS["montos"])
def test_monto_dicho(texto: str, esperado: str | None) -> None:
    assert monto(texto) == (Decimal(esperado) if esperado is not None else None)


@pytest.mark.parametrize("caso", CASOS["fechas_nacimiento"], ids=lambda c: c[0])
def test_fecha_de_nacimiento_dicha(caso: list[str | None]) -> None:
    texto, esperada = caso[0], caso[1]
    assert texto is not None
    if "solo_bot" in caso:
        # Left as said: the bot's reader (tests/bot/test_habla_casos.py) reads it.
        assert fecha(texto) is None
        assert para_slot("fecha_nacimiento", texto) == texto
    else:
        assert fecha(texto) == (date.fromisoformat(esperada) if esperada else None)
