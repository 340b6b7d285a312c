"""The form validators work without Rasa's domain in the request (what
`enable_selective_domain` would send), reading domain.yml once."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa_sdk.executor import CollectingDispatcher
from test_actions_apoyo import BackendFalso, slots_de, tracker

from bot.actions import boveda, comun
from bot.actions.identidad import ValidateIdentificacionForm

BOT = Path(__file__).resolve().parents[2] / "bot"
CURP = "HEGG560427MVZRRL04"
VERIFICAR = ("POST", "/api/v1/identidad/verificar")


def test_el_dominio_local_se_lee_una_vez_y_trae_las_formas():
    comun.dominio_local.cache_clear()
    primero = comun.dominio_local()
    assert comun.dominio_local() is primero
    assert comun.dominio_local.cache_info().misses == 1
    assert primero["forms"]["identificacion_form"]["required_slots"] == ["curp", "nip"]


@pytest.mark.asyncio
async def test_el_validador_sin_dominio_en_la_peticion_usa_el_de_bot():
    """Without a domain (selective domain) the identity form still validates the NIP,
    asks the backend and ends with the token, exactly as with Rasa's domain."""
    backend = BackendFalso(
        {VERIFICAR: {"token": "tok-123", "nombre": "Gloria", "tipo": "pensionado"}}
    ).instalar()
    t = tracker(
        {"curp": CURP, "nip": "4821", "requested_slot": "nip"},
        texto="4821",
        active_loop="identificacion_form",
        eventos_extra=[{"event": "slot", "name": "nip", "value": "4821"}],
    )
    slots = slots_de(await ValidateIdentificacionForm().run(CollectingDispatcher(), t, {}))
    assert boveda.abrir(slots["token"]) == "tok-123" and slots["identificado"] is True
    assert slots["requested_slot"] is None
    assert backend.cuerpo() == {"curp": CURP, "nip": "4821"}
