"""Scripted phone calls against the real ivr, Rasa (trained model), actions and
backend (the `stack` fixture in tests/conftest.py), played by the same terminal
phone as `make call`: signed requests, `action` URLs followed, TwiML parsed.

Expected figures come from the backend's API, never from constants.
"""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest
from twilio.request_validator import RequestValidator

from ivr import locucion
from ivr.simulator import Telefono

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

P1 = {"curp": "HEGG560427MVZRRL04", "nip": "4821"}
# P1's CURP as a caller says it: letter names, "ve de vaca", numbers in words.
P1_CURP_DICHA = (
    "hache e ge ge cincuenta y seis cero cuatro veintisiete eme ve de vaca zeta erre erre ele cero cuatro"
)
TERMINA_BIEN = {"hangup", "dial", "enqueue", "caller_colgó"}


def _telefono(stack) -> Telefono:
    return Telefono(stack.ivr_url, stack.twilio_auth_token, stack.public_base_url)


def _token(stack, persona: dict[str, str]) -> str:
    r = httpx.post(f"{stack.backend_url}/api/v1/identidad/verificar", json=persona, timeout=10)
    r.raise_for_status()
    return r.json()["token"]


def _estatus(stack, persona: dict[str, str], clave: str) -> str:
    r = httpx.get(f"{stack.backend_url}/api/v1/citas", headers={"Authorization": f"Bearer {_token(stack, persona)}"}, timeout=10)
    r.raise_for_status()
    return next(f["estatus"] for f in r.json() if f["clave"] == clave)


def test_5_1_1_cancela_cc3qz8_con_clave_hablada_y_nacimiento_por_teclado(stack):
    try:
        assert _estatus(stack, P1, "CC3QZ8") == "AGENDADA"
        llamada = _telefono(stack).llamar(
            ["5", "1", "1", "say:ce ce tres cu zeta ocho", "27041956", "1", "colgar"]
        )
        dicho = llamada.dicho().lower()
        assert "clave" in llamada.dicho_despues_de(2).lower()          # the form asks for the clave
        assert "nacimiento" in llamada.dicho_despues_de(3).lower()     # ... then the birth date
        # the clave is read back letter by letter
        assert "ce, ce, tres, cu, zeta, ocho" in llamada.dicho_despues_de(4).lower()
        assert "cancelada" in llamada.dicho_despues_de(5).lower()
        assert "cc3qz8" not in dicho and "http" not in dicho
        assert _estatus(stack, P1, "CC3QZ8") == "CANCELADA"
        assert llamada.final in TERMINA_BIEN
    finally:
        stack.reset_db()


def test_5_2_saldo_tras_curp_hablada_y_nip(stack):
    llamada = _telefono(stack).llamar(["5", "2", f"say:{P1_CURP_DICHA}", P1["nip"], "colgar"])
    r = httpx.get(f"{stack.backend_url}/api/v1/prestamos/saldo", headers={"Authorization": f"Bearer {_token(stack, P1)}"}, timeout=10)
    saldo = Decimal(str(r.json()["saldo_deudor_total"]))
    despues_del_nip = llamada.dicho_despues_de(3)
    assert locucion.dinero(saldo) in despues_del_nip
    assert "$" not in despues_del_nip
    assert "cuatro ocho dos uno" not in llamada.dicho() and P1["nip"] not in llamada.dicho()
    assert llamada.final in TERMINA_BIEN


def test_cita_dentro_de_36_horas_se_rechaza_diciendo_el_plazo(stack):
    # P3's seeded cita K7M2Q9 starts inside 36 h (backend/seed_citas.py)
    p3 = {"curp": "PEGL890909MJCRMS08", "nip": "5502"}
    llamada = _telefono(stack).llamar(["5", "1", "1", "say:ka siete eme dos cu nueve", "09091989", "1", "colgar"])
    respuesta = llamada.dicho_despues_de(5).lower()
    assert "treinta y seis horas" in respuesta
    assert not any(c.isdigit() for c in respuesta)  # the deadline is spoken in words
    assert _estatus(stack, p3, "K7M2Q9") == "AGENDADA"
    assert llamada.final in TERMINA_BIEN


def test_firma_mala_403(stack):
    params = {"CallSid": "CA" + "1" * 32, "From": "+525512345678"}
    mala = RequestValidator("otro-token").compute_signature(stack.public_base_url + "/ivr/voice", params)
    assert httpx.post(f"{stack.ivr_url}/ivr/voice", data=params, headers={"X-Twilio-Signature": mala}, timeout=10).status_code == 403
    assert httpx.post(f"{stack.ivr_url}/ivr/voice", data=params, timeout=10).status_code == 403
    buena = RequestValidator(stack.twilio_auth_token).compute_signature(stack.public_base_url + "/ivr/voice", params)
    assert httpx.post(f"{stack.ivr_url}/ivr/voice", data=params, headers={"X-Twilio-Signature": buena}, timeout=10).status_code == 200


def test_backend_caido_da_disculpa_no_silencio(stack):
    tel = _telefono(stack)
    with stack.backend_down():
        llamada = tel.llamar(["5", "2", f"say:{P1_CURP_DICHA}", P1["nip"], "-", "-"])
    despues = llamada.dicho_despues_de(3).lower()
    assert despues.strip(), "silencio tras el NIP"
    assert "disculpa" in despues or "no puedo" in despues
    assert "saldo deudor" not in despues
    assert llamada.final in {"hangup", "dial"}
