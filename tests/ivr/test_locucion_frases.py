"""Spoken sentences keep their stops (issue 16, point 7) and a count of one
agrees with its noun ("una quincena", "un préstamo")."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from ivr import locucion
from ivr.motor import cargar_menu
from ivr.settings import IVRSettings
from ivr.twiml import Voz


def test_la_voz_conserva_el_punto_entre_oraciones_unidas():
    # The bot's question, then the entry's hint: two sentences, two stops.
    segmentos = locucion.para_voz("No reconocí la clave. Tiene seis letras y números.")
    segmentos += locucion.para_voz("Dígala letra por letra y número por número.")
    assert segmentos == [
        "No reconocí la clave. Tiene seis letras y números.",
        "Dígala letra por letra y número por número.",
    ]
    # Every segment that ends a sentence ends with a stop before the next one starts.
    assert all(s[-1] in ".?!" for s in segmentos)


def test_clave_deletreada_no_deja_un_punto_suelto():
    segmentos = locucion.para_voz("Su clave es CC3QZ8. Guárdela.")
    assert segmentos == ["Su clave es", "ce", "ce", "tres", "cu", "zeta", "ocho", "Guárdela."]


def test_la_pregunta_en_twiml_lleva_el_punto():
    voz = Voz(
        IVRSettings(twilio_auth_token="x", public_base_url="https://ejemplo.mx"),
        cargar_menu().textos,
    )
    xml = str(voz.preguntar(
        locucion.para_voz("No reconocí la clave.") + locucion.para_voz("Dígala de nuevo."),
        "/ivr/conversacion",
        pistas=[],
    ))
    say = ET.fromstring(xml).find("./Gather/Say")
    assert say is not None
    textos = [t.strip() for t in say.itertext() if t.strip()]
    assert textos == ["No reconocí la clave.", "Dígala de nuevo."]


@pytest.mark.parametrize(
    ("texto", "esperado"),
    [
        ("Le falta pagar 1 quincena.", "Le falta pagar una quincena."),
        ("Su dependencia no aplicó el descuento de 21 quincenas.",
         "Su dependencia no aplicó el descuento de veintiuna quincenas."),
        ("Su historial tiene 1 préstamo.", "Su historial tiene un préstamo."),
        ("Su bitácora tiene 21 movimientos.", "Su bitácora tiene veintiún movimientos."),
        ("Su bitácora tiene 3 movimientos.", "Su bitácora tiene tres movimientos."),
    ],
)
def test_uno_concuerda_con_el_sustantivo(texto, esperado):
    assert " ".join(locucion.para_voz(texto)) == esperado


def test_la_linea_no_dice_el_horario_del_isseg_como_suyo():
    # Mon-Fri 8:30-15:30 is ISSEG's (seed 004), not ISSSTETEL's (issue 16, point 1).
    ivr = Path(__file__).resolve().parents[2] / "ivr"
    for ruta in [*ivr.glob("*.py"), ivr / "menu.yml"]:
        texto = ruta.read_text(encoding="utf-8")
        assert "ocho y media" not in texto and "8:30 a 15:30" not in texto, ruta.name


def test_un_dominio_de_varias_partes_no_se_lee():
    assert locucion.para_voz(
        "Agende en servicios.isseg.gob.mx o en oficinavirtual.issste.gob.mx hoy."
    ) == ["Agende en o en hoy."]
