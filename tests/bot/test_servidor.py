"""bot/servidor.py: Rasa's check of the action server's answers, with the schema
checked once, accepts and refuses exactly what Rasa's own check does."""

from __future__ import annotations

import copy

import jsonschema
import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction

from bot import servidor

VALIDAS = [
    {"events": [], "responses": []},
    {},
    {
        "events": [
            {"event": "slot", "name": "curp", "value": "HEGG560427MVZRRL04", "timestamp": None}
        ],
        "responses": [
            {"text": "Gracias.", "buttons": [], "elements": [], "custom": {}, "template": None}
        ],
    },
    {
        "events": [
            {"event": "active_loop", "name": None},
            {"event": "slot", "name": "requested_slot", "value": None},
            {"event": "followup", "name": "action_listen"},
        ],
        "responses": [],
    },
    {
        "events": [
            {
                "event": "user",
                "text": "hola",
                "parse_data": {"intent": {"name": "saludar"}},
                "input_channel": "rest",
            }
        ]
    },
]
INVALIDAS = [
    {"events": {"event": "slot"}},
    {"events": [{"event": "slot", "value": 3}]},  # a slot event without its name
    {"events": [{"event": "no_existe"}]},
    {"events": [], "responses": "Gracias."},
    [],
]


def _veredicto(metodo, resultado):  # noqa: ANN001
    try:
        return ("ok", metodo(RemoteAction("action_x", None), copy.deepcopy(resultado)))
    except ValidationError as e:
        return ("error", e.message)


@pytest.fixture
def original_y_rapida(monkeypatch: pytest.MonkeyPatch):
    original = RemoteAction._validate_action_result
    monkeypatch.setattr(RemoteAction, "_validate_action_result", original)
    servidor.acelerar_validacion()
    rapida = RemoteAction._validate_action_result
    assert rapida is not original
    return original, rapida


@pytest.mark.parametrize("resultado", VALIDAS + INVALIDAS)
def test_el_veredicto_es_el_de_rasa(original_y_rapida, resultado):
    original, rapida = original_y_rapida
    esperado = _veredicto(original, resultado)
    assert _veredicto(rapida, resultado) == esperado
    assert esperado[0] == ("ok" if resultado in VALIDAS else "error")


def test_el_esquema_se_revisa_una_sola_vez(original_y_rapida, monkeypatch: pytest.MonkeyPatch):
    _, rapida = original_y_rapida
    llamadas = []
    clase = jsonschema.validators.validator_for(RemoteAction.action_response_format_spec())
    monkeypatch.setattr(clase, "check_schema", classmethod(lambda cls, s: llamadas.append(s)))
    for _ in range(5):
        assert rapida(RemoteAction("action_x", None), VALIDAS[2]) is True
    assert llamadas == []


def test_aplicarla_dos_veces_no_la_envuelve_otra_vez(original_y_rapida):
    _, rapida = original_y_rapida
    servidor.acelerar_validacion()
    assert RemoteAction._validate_action_result is rapida
