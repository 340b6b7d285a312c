"""The domain and the actions agree: every response an action names exists,
has an ivr and a whatsapp variant, and the voice variant is speakable."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
BOT = ROOT / "bot"
DOMINIO = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
RESPUESTAS = DOMINIO["responses"]
FUENTES = "\n".join(p.read_text(encoding="utf-8") for p in (BOT / "actions").glob("*.py"))
USADAS = sorted(set(re.findall(r'response="(utter_[a-z_]+)"', FUENTES)))
EMOJI = re.compile("[\U0001F300-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF]")


def _variables(texto: str) -> set[str]:
    return {campo for _, campo, _, _ in string.Formatter().parse(texto) if campo}


def test_las_acciones_solo_usan_respuestas_del_dominio():
    assert USADAS, "no se encontraron respuestas en las acciones"
    faltan = [r for r in USADAS if r not in RESPUESTAS]
    assert faltan == []


@pytest.mark.parametrize("nombre", sorted(RESPUESTAS))
def test_cada_respuesta_tiene_variantes_de_voz_y_whatsapp(nombre):
    variantes = RESPUESTAS[nombre]
    canales = {v.get("channel") for v in variantes}
    assert {None, "ivr", "whatsapp"} <= canales, nombre
    por_defecto = next(v for v in variantes if "channel" not in v)
    for v in variantes:
        # A variant may say less than the web text, never need a variable the action does not pass.
        assert _variables(v["text"]) <= _variables(por_defecto["text"]) | {
            "clave_deletreada",
            "referencia_deletreada",
        } | set(DOMINIO["slots"]), (nombre, v.get("channel"))
        if v.get("channel") == "ivr":
            assert "http" not in v["text"] and "www." not in v["text"], nombre
            assert not EMOJI.search(v["text"]), nombre
            assert "*" not in v["text"] and "\n" not in v["text"], nombre


def test_las_acciones_no_contienen_frases_en_espanol():
    # User-facing Spanish lives in domain.yml: no utter_message(text=...) in the actions.
    assert "utter_message(text=" not in FUENTES


def test_nunca_se_pide_la_contrasena_de_la_oficina_virtual():
    for nombre, variantes in RESPUESTAS.items():
        for v in variantes:
            texto = v["text"].lower()
            if "contraseña" in texto and "?" in texto:
                pytest.fail(f"{nombre} parece pedir la contraseña: {v['text']}")


# Claves are 6 letters and digits ("CC3QZ8"): read as a word they are nonsense on the phone.
LEEN_CLAVE = {"clave", "clave_cita"}


@pytest.mark.parametrize("nombre", sorted(RESPUESTAS))
def test_por_telefono_las_claves_se_deletrean(nombre):
    for v in RESPUESTAS[nombre]:
        if v.get("channel") == "ivr":
            assert not _variables(v["text"]) & LEEN_CLAVE, (nombre, v["text"])


def test_las_claves_deletreadas_que_se_dicen_por_telefono():
    deletreadas = sorted(
        n
        for n, vs in RESPUESTAS.items()
        for v in vs
        if v.get("channel") == "ivr" and "clave_deletreada" in _variables(v["text"])
    )
    assert {"utter_cita_agendada", "utter_cita_renglon", "utter_ask_confirmar_cancelacion",
            "utter_cita_cancelada"} <= set(deletreadas)
    # The form question takes it from the slot validate_cancelacion_form sets; the
    # actions pass it themselves (test_actions_citas checks each one).
    assert "clave_deletreada" in DOMINIO["slots"]
