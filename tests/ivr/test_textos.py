"""The IVR's own prompts live in menu.yml (section `textos`), validated by
ivr/textos.py: every prompt the code refers to exists, every prompt in the
file is used, and no sentence handed to the voice is a literal in Python."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

from ivr.motor import MENU_PATH, Menu, cargar_menu
from ivr.textos import Textos

IVR = Path(__file__).resolve().parents[2] / "ivr"
# What turns text into speech: the locution and the TwiML renderer.
HABLA = {"para_voz", "_voz", "say", "colgar", "transferir", "preguntar"}


def _modulos() -> dict[str, ast.Module]:
    return {r.name: ast.parse(r.read_text(encoding="utf-8")) for r in sorted(IVR.glob("*.py"))}


def _referencias() -> dict[str, set[str]]:
    """`<algo>.textos.<nombre>` / `textos.<nombre>` in ivr/*.py -> the modules using it."""
    usos: dict[str, set[str]] = {}
    for modulo, arbol in _modulos().items():
        for nodo in ast.walk(arbol):
            if not isinstance(nodo, ast.Attribute):
                continue
            dueño = nodo.value
            nombre = dueño.attr if isinstance(dueño, ast.Attribute) else getattr(dueño, "id", "")
            if nombre == "textos":
                usos.setdefault(nodo.attr, set()).add(modulo)
    return usos


def test_cada_texto_referido_existe_en_menu_yml():
    textos = cargar_menu().textos
    referencias = _referencias()
    assert referencias, "ningún módulo usa textos: la búsqueda no encontró nada"
    for nombre, modulos in referencias.items():
        assert nombre in Textos.model_fields, (
            f"{sorted(modulos)} usa textos.{nombre}, que no existe"
        )
        assert getattr(textos, nombre).strip()


def test_cada_texto_de_menu_yml_se_usa():
    assert set(Textos.model_fields) - set(_referencias()) == set()


def test_ninguna_frase_literal_llega_a_la_voz():
    literales = []
    for modulo, arbol in _modulos().items():
        for nodo in ast.walk(arbol):
            if not isinstance(nodo, ast.Call):
                continue
            funcion = nodo.func
            nombre = (
                funcion.attr if isinstance(funcion, ast.Attribute) else getattr(funcion, "id", "")
            )
            if nombre not in HABLA:
                continue
            # what is said is the first argument (the URL, hints... come after it)
            dicho = [*nodo.args[:1], *(k.value for k in nodo.keywords if k.arg == "segmentos")]
            for arg in dicho:
                for hoja in ast.walk(arg):
                    # an f-string's literal parts are Constants too: "{a} {b}" passes, "Para {x}"
                    # not
                    if (
                        isinstance(hoja, ast.Constant)
                        and isinstance(hoja.value, str)
                        and hoja.value.strip()
                    ):
                        literales.append(f"{modulo}:{hoja.lineno}")
    assert literales == []


def _datos() -> dict:
    return yaml.safe_load(MENU_PATH.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("cambio", "error"),
    [
        (lambda t: t.pop("adios"), "adios"),
        (lambda t: t.update(traslado="  "), "vacío"),
        (lambda t: t.update(opcion="Para {titulo}, marque."), "marcadores"),
        (lambda t: t.update(adios="Adiós {nombre}."), "marcadores"),
        (lambda t: t.update(saludo_nuevo="Hola."), "saludo_nuevo"),
    ],
)
def test_un_texto_faltante_o_mal_formado_se_rechaza(cambio, error):
    datos = _datos()
    cambio(datos["textos"])
    with pytest.raises(ValueError, match=error):
        Menu.model_validate(datos)


def test_sin_seccion_textos_el_menu_no_carga():
    datos = _datos()
    del datos["textos"]
    with pytest.raises(ValueError, match="textos"):
        Menu.model_validate(datos)


def test_la_plantilla_de_opcion_se_llena():
    menu = cargar_menu()
    dicho = menu.texto_menu(menu.nodo("citas"))
    assert menu.textos.opcion.format(titulo="cancelar una cita", tecla="1") in dicho
    assert "{" not in dicho
