"""One rule, one home, two environments: the CURP mask lives in habla/curp.py,
which the backend (.venv) and the Rasa side (.venv-rasa) both import; one list of
cases, tests/mascara_curp_casos.json, is run in each.

This file checks it through backend.privacy; the bot's suite (tests/bot/test_texto.py)
runs the same JSON through bot/texto.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from backend import contacto, privacy
from backend.privacy import enmascarar_texto, mascara_curp
from habla import curp

CASOS: list[tuple[str | None, str]] = [
    (curp, esperado)
    for curp, esperado in json.loads(
        (Path(__file__).parent / "mascara_curp_casos.json").read_text()
    )
]


@pytest.mark.parametrize(("curp", "esperada"), CASOS)
def test_mascara_curp_del_backend(curp: str | None, esperada: str) -> None:
    assert mascara_curp(curp) == esperada


def test_el_backend_usa_la_mascara_de_habla() -> None:
    assert mascara_curp is curp.mascara_curp
    assert privacy.enmascarar_curps is curp.enmascarar_curps


@pytest.mark.parametrize(
    ("curp", "esperada"), [(c, e) for c, e in CASOS if c and len(c.strip()) == 18]
)
def test_en_texto_libre_la_curp_se_enmascara_igual(curp: str, esperada: str) -> None:
    assert enmascarar_texto(f"curp={curp.strip()} ok") == f"curp={esperada} ok"


# CAPP's phone line: one spelling for every environment (tests/linea_capp.json);
# the bot's suite ties bot/ and ivr/ to the same file.
LINEA_CAPP_JSON = json.loads(
    (Path(__file__).parent / "linea_capp.json").read_text(encoding="utf-8")
)
BACKEND = Path(__file__).resolve().parents[1] / "backend"
# Any way of writing the number: with spaces, dashes, dots or nothing between groups.
_NUMERO_SUELTO = re.compile(r"(?:\+?52[\s.-]?)?\(?55\)?[\s.-]?40[\s.-]?00[\s.-]?10[\s.-]?00")


def test_constantes_del_backend_iguales_al_json() -> None:
    assert {k: v for k, v in LINEA_CAPP_JSON.items() if not k.startswith("_")} == {
        "numero": contacto.NUMERO,
        "e164": contacto.E164,
        "capp": contacto.LINEA_CAPP,
        "citas": contacto.LINEA_CITAS,
        "correo": contacto.CORREO,
    }


def _archivos_del_backend() -> list[Path]:
    return sorted(
        p
        for p in BACKEND.rglob("*")
        if p.is_file()
        and p.suffix in {".py", ".json", ".html", ".js", ".yml", ".yaml", ".txt", ".md"}
    )


def _sin_formas_canonicas(texto: str) -> str:
    """The text without the canonical mentions: the two lines, the E.164 form and
    the bare number only as a whole value (a JSON field) or a link's text."""
    for forma in (LINEA_CAPP_JSON["capp"], LINEA_CAPP_JSON["citas"], LINEA_CAPP_JSON["e164"]):
        texto = texto.replace(forma, "·")
    numero = LINEA_CAPP_JSON["numero"]
    return texto.replace(f'"{numero}"', "·").replace(f">{numero}</a>", "·")


def test_el_numero_del_capp_se_escribe_de_una_sola_forma_en_el_backend() -> None:
    archivos = _archivos_del_backend()
    assert (
        BACKEND / "data" / "productos.json" in archivos
        and BACKEND / "static" / "chat" / "chat.js" in archivos
    )
    mal_escritos = {
        str(p.relative_to(BACKEND)): _NUMERO_SUELTO.findall(
            _sin_formas_canonicas(p.read_text(encoding="utf-8"))
        )
        for p in archivos
    }
    assert {k: v for k, v in mal_escritos.items() if v} == {}


def test_el_codigo_del_backend_toma_la_linea_de_backend_contacto() -> None:
    # Data files and the web page keep their own text; Python code imports the constants.
    literales = (LINEA_CAPP_JSON["numero"], LINEA_CAPP_JSON["e164"], LINEA_CAPP_JSON["correo"])
    con_literal = [
        str(p.relative_to(BACKEND))
        for p in _archivos_del_backend()
        if p.suffix == ".py" and p.name != "contacto.py"
        and any(x in p.read_text(encoding="utf-8") for x in literales)
    ]
    assert con_literal == []
