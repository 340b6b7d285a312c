"""CAPP's phone line and mail have one spelling (tests/linea_capp.json): the
IVR's constants equal it, and every written mention of the number or the mail
in the texts (domain.yml, bot/data/faq.yml, ivr/menu.yml) is a canonical
spelling or one of the documented forms below. The bot's constants are checked
against the same file by tests/bot/test_texto.py."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from ivr import settings as ivr_settings
from ivr.respaldo import _SIN_NADA
from ivr.textos import CORREO_CAPP, CORREO_CAPP_DICHO, ISSSTETEL_E164, ISSSTETEL_NUMERO

RAIZ = Path(__file__).parents[2]
LINEA = json.loads((RAIZ / "tests" / "linea_capp.json").read_text(encoding="utf-8"))
TEXTOS = [RAIZ / "domain.yml", RAIZ / "bot" / "data" / "faq.yml", RAIZ / "ivr" / "menu.yml"]

NUMERO = LINEA["numero"]
# Accepted forms of a mention of the number: the two canonical spellings, and
# the forms the texts use where the context already names the line.
FORMAS = [
    LINEA["capp"],
    LINEA["citas"],
    f"ISSSTETEL, {NUMERO}, opción 5",  # "por ISSSTETEL, 55 4000 1000, opción 5"
    f"CAPP ({NUMERO}, opción 5)",  # short WhatsApp variants
    f"CAPP, {NUMERO}, opción 5",
    f"ISSSTETEL al {NUMERO} y elegir la opción 5",  # voice variant
]
# The number in any spelling: "55 4000 1000", "5540001000", "(55) 4000-1000", "+52 55...".
CUALQUIER_NUMERO = re.compile(r"(?:\+?52[\s-]*1?[\s-]*)?(?:\(55\)|55)[\s.-]*4000[\s.-]*1000")
CORREO_ESCRITO = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
CORREO_DICHO = re.compile(r"\w+ arroba(?: \w+| punto)+")


def _texto(ruta: Path) -> str:
    # WhatsApp variants mark words as *bold*; the spelling is the same without the marks.
    return ruta.read_text(encoding="utf-8").replace("*", "")


def test_las_constantes_del_ivr_son_las_del_archivo_compartido() -> None:
    assert LINEA["e164"] == ISSSTETEL_E164
    assert LINEA["numero"] == ISSSTETEL_NUMERO
    assert LINEA["correo"] == CORREO_CAPP
    assert CORREO_CAPP_DICHO == "capp arroba issste punto gob punto mx"
    assert LINEA["e164"].endswith(ivr_settings._ISSSTETEL)
    assert re.sub(r"\D", "", LINEA["numero"]) == ivr_settings._ISSSTETEL
    assert CORREO_CAPP_DICHO in _SIN_NADA


@pytest.mark.parametrize("ruta", TEXTOS, ids=lambda r: r.name)
def test_cada_mencion_del_numero_tiene_una_forma_conocida(ruta: Path) -> None:
    texto = _texto(ruta)
    menciones = list(CUALQUIER_NUMERO.finditer(texto))
    raras = []
    for m in menciones:
        conocida = m.group(0) == NUMERO and any(
            texto[m.start() - f.index(NUMERO): m.start() - f.index(NUMERO) + len(f)] == f
            for f in FORMAS
        )
        if not conocida:
            raras.append(texto[max(0, m.start() - 40): m.end() + 40])
    assert raras == []


@pytest.mark.parametrize("ruta", TEXTOS, ids=lambda r: r.name)
def test_cada_mencion_del_correo_es_la_del_capp(ruta: Path) -> None:
    texto = _texto(ruta)
    assert {m.group(0) for m in CORREO_ESCRITO.finditer(texto)} <= {LINEA["correo"]}
    assert {m.group(0) for m in CORREO_DICHO.finditer(texto)} <= {CORREO_CAPP_DICHO}


def test_los_textos_mencionan_la_linea() -> None:
    """The check above is not vacuous: the texts do name the line and the mail."""
    todos = "".join(_texto(r) for r in TEXTOS)
    assert todos.count(LINEA["capp"]) >= 5
    assert LINEA["citas"] in todos
    assert LINEA["correo"] in todos and CORREO_CAPP_DICHO in todos


@pytest.mark.parametrize(
    "texto",
    [
        "llame al 55-4000-1000, opción 5",
        "al (55) 4000 1000, opción 5",
        "ISSSTETEL 5540001000, opción 5",
        "ISSSTETEL 55 4000 1000 opción 5",
    ],
)
def test_una_mencion_con_otra_forma_se_detecta(texto: str) -> None:
    m = CUALQUIER_NUMERO.search(texto)
    assert m is not None
    inicio = m.start()
    assert not (m.group(0) == NUMERO and any(
        texto[inicio - f.index(NUMERO): inicio - f.index(NUMERO) + len(f)] == f for f in FORMAS
    ))
