"""One rule, two homes: the backend and the Rasa actions each keep their own
`mascara_curp` (separate Python environments, neither imports the other), tied
by one list of cases, tests/mascara_curp_casos.json, that both must pass.

This file checks backend.privacy; the bot's suite (.venv-rasa, tests/bot/test_texto.py) runs the same
JSON against bot/texto.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from backend.privacy import enmascarar_texto, mascara_curp

CASOS: list[tuple[str | None, str]] = [
    (curp, esperado) for curp, esperado in json.loads((Path(__file__).parent / "mascara_curp_casos.json").read_text())
]


@pytest.mark.parametrize(("curp", "esperada"), CASOS)
def test_mascara_curp_del_backend(curp: str | None, esperada: str) -> None:
    assert mascara_curp(curp) == esperada


@pytest.mark.parametrize(("curp", "esperada"), [(c, e) for c, e in CASOS if c and len(c.strip()) == 18])
def test_en_texto_libre_la_curp_se_enmascara_igual(curp: str, esperada: str) -> None:
    assert enmascarar_texto(f"curp={curp.strip()} ok") == f"curp={esperada} ok"
