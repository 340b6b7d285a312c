"""The bot's half of tests/test_una_regla.py: the same CURP cases
(tests/mascara_curp_casos.json) against bot/texto.py, which the actions, the
channels and the log filter share; the backend's copy passes the same list."""

from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional, Tuple

import pytest

from bot.channels.privacidad import nips_en
from bot.texto import CURP_RE, mascara_curp, palabras, sin_acentos

CASOS: List[Tuple[Optional[str], str]] = [
    (curp, esperada) for curp, esperada in json.loads((Path(__file__).parents[1] / "mascara_curp_casos.json").read_text())
]


@pytest.mark.parametrize("curp,esperada", CASOS)
def test_mascara_curp_del_bot(curp: Optional[str], esperada: str) -> None:
    assert mascara_curp(curp) == esperada


@pytest.mark.parametrize("curp,esperada", [(c, e) for c, e in CASOS if c and len(c.strip()) == 18])
def test_una_curp_en_texto_libre_se_reconoce_y_se_enmascara_igual(curp: str, esperada: str) -> None:
    texto = f"mi curp es {curp.strip()}, gracias"
    assert CURP_RE.sub(lambda m: mascara_curp(m.group(0)), texto) == f"mi curp es {esperada}, gracias"
    assert nips_en(texto) == []


def test_acentos_y_palabras() -> None:
    assert sin_acentos("¿Cuánto pagaré? Ñandú") == "¿Cuanto pagare? Nandu"
    assert palabras("  La opción ¡DOS!  ") == "la opcion dos"
