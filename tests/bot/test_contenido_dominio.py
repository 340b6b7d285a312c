"""Faithful content (issue 16): what the assistant says, checked against the
seeds over every variant (web, ivr, whatsapp) of domain.yml and bot/data/faq.yml.

Seeds 000-003 are ISSSTE's; seed 004 is a brochure of ISSEG (Guanajuato). A fact
in no seed is told as an estimate to confirm. See README, "Fuentes".
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Dict, List

import pytest
import yaml
from rasa_sdk.executor import CollectingDispatcher
from test_actions_apoyo import respuestas, tracker

from bot.actions.ayuda import ActionDespedir
from bot.actions.formato import cantidad

ROOT = Path(__file__).resolve().parents[2]
BOT = ROOT / "bot"


def _respuestas() -> Dict[str, List[dict]]:
    todas: Dict[str, List[dict]] = {}
    for ruta in (ROOT / "domain.yml", BOT / "data" / "faq.yml"):
        todas.update(yaml.safe_load(ruta.read_text(encoding="utf-8"))["responses"])
    return todas


RESPUESTAS = _respuestas()


def textos(nombre: str) -> List[str]:
    variantes = RESPUESTAS[nombre]
    assert variantes, nombre
    return [v["text"] for v in variantes]


def variante(nombre: str, canal: str | None) -> str:
    (texto,) = [v["text"] for v in RESPUESTAS[nombre] if v.get("channel") == canal]
    return texto


def todos() -> List[tuple[str, str | None, str]]:
    return [
        (n, v.get("channel"), v["text"]) for n, vs in RESPUESTAS.items() for v in vs if "text" in v
    ]


def _es_emoji(c: str) -> bool:
    return (
        unicodedata.category(c) == "So" or c in "\ufe0f\u200d\u2139" or 0x1F000 <= ord(c) <= 0x1FAFF
    )


# ---------------------------------------------------------------- point 1: whose facts
SEED_004 = [
    "utter_faq/credito_complementario",
    "utter_faq/tiempo_deposito", "utter_faq/buro_credito", "utter_faq/prestamos_simultaneos",
    "utter_faq/lugar_y_horario", "utter_faq/duracion_tramite", "utter_faq/tasa_interes",
    "utter_requisitos", "utter_ask_renovacion",
]


@pytest.mark.parametrize("nombre", SEED_004)
def test_hechos_del_folleto_004_se_dicen_del_isseg(nombre: str) -> None:
    for texto in textos(nombre):
        assert "ISSEG" in texto, (nombre, texto)


def test_ninguna_respuesta_presenta_al_isseg_como_issste() -> None:
    prohibidas = [
        "primer préstamo personal con el ISSSTE",
        "ha cotizado al ISSSTE",
        "oficinas de representación del ISSSTE, de lunes",
    ]
    for nombre, canal, texto in todos():
        for frase in prohibidas:
            assert frase not in texto, (nombre, canal)


def test_el_horario_de_830_a_1530_es_del_isseg_o_una_estimacion() -> None:
    # ISSEG's hours (seed 004) are not ISSSTETEL's nor ISSSTE's offices'.
    for nombre, canal, texto in todos():
        if re.search(r"8:30|ocho y media", texto):
            assert "ISSEG" in texto, (nombre, canal)
            if "ISSSTE" in texto.replace("ISSSTETEL", ""):
                assert "estimación" in texto, (nombre, canal)
    for texto in textos("utter_transferir_asesor"):
        assert "8:30" not in texto and "lunes a viernes" not in texto


def test_isseg_lleva_sus_lugares_y_su_canal_de_citas() -> None:
    web = variante("utter_faq/lugar_y_horario", None)
    assert "Oficinas Centrales del ISSEG" in web and "Moroleón" in web
    assert "servicios.isseg.gob.mx" in web and "473 735 1400, opción 4" in web
    assert "473 735 1400, opción 4" in variante("utter_requisitos", None)


# ------------------------------------------------------------ point 2: regularización
def test_regularizacion_sin_cargo_moratorio() -> None:
    for texto in textos("utter_regularizacion_pendiente"):
        assert "{interes}" not in texto and "Interés moratorio" not in texto
        assert "{total}" in texto and "evita intereses moratorios" in texto.lower()


# ------------------------------------------------------------ point 3: hoja de asignación
def test_la_hoja_se_descarga_en_el_sistema_de_citas_no_en_la_oficina_virtual() -> None:
    for nombre in ("utter_enlace_hoja_cita", "utter_hoja_por_mensaje"):
        for texto in textos(nombre):
            assert "Oficina Virtual" not in texto, nombre
    for canal in (None, "ivr"):
        texto = variante("utter_hoja_por_mensaje", canal)
        assert "Sistema de Citas Administrativas" in texto and "Bitácora" in texto
    for nombre, canal, texto in todos():
        if re.search(r"hoja", texto, re.I) and "descarg" in texto.lower():
            assert "Oficina Virtual" not in texto, (nombre, canal)


# ------------------------------------------------------------ point 4: cancel by phone
def test_cancelar_por_telefono_es_opcion_5_submenu_1_con_el_mismo_plazo() -> None:
    for texto in textos("utter_cancelacion_rechazada"):
        assert "Si no puede asistir" in texto
        assert "llame" not in texto.lower()  # the phone route has the same 36 h limit
    web = variante("utter_cancelacion_rechazada", None)
    assert "opción 5, submenú 1" in web and "el plazo es el mismo" in web
    for nombre, canal, texto in todos():
        if "cancel" in texto.lower() and "opción 5" in texto:
            assert "submenú 1" in texto, (nombre, canal)


# ------------------------------------------------------------ point 5: facts people ask
def test_hechos_que_faltaban() -> None:
    ov = variante("utter_oficina_virtual_servicios", None)
    assert "Acrobat Reader" in ov and "ventanas emergentes" in ov
    assert "ícono de regularización aparece solo" in ov
    for texto in textos("utter_contrasena_privada"):
        assert re.search(r"mayúsculas, minúsculas, espacios y acentos", texto)
        assert re.search(r"[Mm]emorice", texto)
    agendada = variante("utter_cita_agendada", None)
    assert "Portal ASISSSTE" in agendada and "Chrome" in agendada and "Bitácora" in agendada
    for texto in textos("utter_requisitos"):
        assert "quincena inmediata anterior" in texto
        assert re.search(r"obligado solidario y (sus )?cuotas", texto, re.I)


# ------------------------------------------------------------ point 6: estimates
def test_hechos_sin_seed_se_dicen_como_estimacion() -> None:
    for texto in textos("utter_faq/tasa_interes"):
        assert "información pública de 2025" in texto and re.search(r"confírm", texto)
    for texto in textos("utter_fopi_generado"):
        assert re.search(r"[Ee]stima", texto) and "confírm" in texto


# ------------------------------------------------------------ point 7: Spanish
def test_sin_emoji_en_ninguna_respuesta() -> None:
    for nombre, canal, texto in todos():
        assert not [c for c in texto if _es_emoji(c)], (nombre, canal, texto)


def test_si_no_puede_asistir() -> None:
    for nombre, canal, texto in todos():
        assert "no podrá asistir" not in texto, (nombre, canal)


def test_despedida_sin_nombre_no_deja_una_coma_suelta() -> None:
    for texto in textos("utter_despedida"):
        assert "{nombre}" not in texto and ", ." not in texto
    for texto in textos("utter_despedida_nombre"):
        assert "{nombre}" in texto


def test_las_cantidades_llegan_con_su_sustantivo() -> None:
    # "{n} quincenas" would say "1 quincenas": the actions send "1 quincena" / "3 quincenas".
    for nombre, canal, texto in todos():
        assert not re.search(r"\{\w+\} (quincenas|préstamos|movimientos)\b", texto), (nombre, canal)


def test_las_frases_de_voz_terminan_con_punto() -> None:
    for nombre, canal, texto in todos():
        # A text ending in a placeholder ends with the backend's own sentence ({detalle}).
        if canal == "ivr" and not texto.rstrip().endswith("}"):
            assert texto.rstrip()[-1] in ".?!:", (nombre, texto)
            assert "http" not in texto and "www." not in texto, nombre


# ------------------------------------------------------------ point 9: no raw links on web
def test_el_enlace_firmado_no_va_en_el_texto() -> None:
    for nombre, canal, texto in todos():
        assert "{url}" not in texto, (nombre, canal)


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("nombre", "respuesta"),
    [(None, "utter_despedida"), ("  ", "utter_despedida"), ("Luisa", "utter_despedida_nombre")],
)
async def test_la_despedida_elige_la_variante_segun_el_nombre(nombre, respuesta) -> None:
    d = CollectingDispatcher()
    await ActionDespedir().run(d, tracker({"nombre": nombre}), {})
    assert respuestas(d) == [respuesta]
    if nombre and nombre.strip():
        assert d.messages[0]["nombre"] == "Luisa"


@pytest.mark.parametrize(
    ("n", "esperado"),
    [
        (1, "1 quincena"),
        (0, "0 quincenas"),
        (2, "2 quincenas"),
        ("3", "3 quincenas"),
        (21, "21 quincenas"),
    ],
)
def test_cantidad_singular_y_plural(n, esperado) -> None:
    assert cantidad(n, "quincena", "quincenas") == esperado
