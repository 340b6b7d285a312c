"""The bot's half of tests/test_una_regla.py: the same CURP cases
(tests/mascara_curp_casos.json) against the mask the actions, the channels and
the log filter import from bot/texto.py (habla/curp.py, the backend's too), run
in the Rasa environment."""

from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional, Tuple

import pytest

from bot.channels.privacidad import nips_en
from bot.channels.whatsapp_salida import MENSAJES
from bot.texto import (
    CORREO_CAPP,
    E164_CAPP,
    LINEA_CAPP,
    LINEA_CITAS,
    NUMERO_CAPP,
    enmascarar_curps,
    mascara_curp,
    palabras,
    sin_acentos,
)

CASOS: List[Tuple[Optional[str], str]] = [
    (curp, esperada)
    for curp, esperada in json.loads(
        (Path(__file__).parents[1] / "mascara_curp_casos.json").read_text()
    )
]


@pytest.mark.parametrize("curp,esperada", CASOS)
def test_mascara_curp_del_bot(curp: Optional[str], esperada: str) -> None:
    assert mascara_curp(curp) == esperada


@pytest.mark.parametrize("curp,esperada", [(c, e) for c, e in CASOS if c and len(c.strip()) == 18])
def test_una_curp_en_texto_libre_se_reconoce_y_se_enmascara_igual(curp: str, esperada: str) -> None:
    texto = f"mi curp es {curp.strip()}, gracias"
    assert enmascarar_curps(texto) == f"mi curp es {esperada}, gracias"
    assert nips_en(texto) == []


def test_acentos_y_palabras() -> None:
    assert sin_acentos("¿Cuánto pagaré? Ñandú") == "¿Cuanto pagare? Nandu"
    assert palabras("  La opción ¡DOS!  ") == "la opcion dos"


def test_la_linea_del_capp_es_la_del_archivo_compartido() -> None:
    """tests/linea_capp.json: the same spelling the backend and the IVR are tied to."""
    linea = json.loads((Path(__file__).parents[1] / "linea_capp.json").read_text(encoding="utf-8"))
    assert (
        linea["numero"], linea["e164"], linea["capp"], linea["citas"], linea["correo"]
    ) == (NUMERO_CAPP, E164_CAPP, LINEA_CAPP, LINEA_CITAS, CORREO_CAPP)
    assert LINEA_CAPP in MENSAJES["error"]
