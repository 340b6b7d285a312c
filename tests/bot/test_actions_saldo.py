"""Saldo, condiciones e histórico: identity first, and an answer for every failure."""

from __future__ import annotations

import httpx
import pytest
from rasa_sdk.executor import CollectingDispatcher
from test_actions_apoyo import (
    BackendFalso,
    caido,
    error,
    lento,
    mensaje,
    respuestas,
    slots_de,
    tracker,
)

from bot.actions import backend_client as bc
from bot.actions.saldo import (
    ActionConsultarCondiciones,
    ActionConsultarHistorial,
    ActionConsultarSaldo,
)

SALDO = ("GET", "/api/v1/prestamos/saldo")
ENLACE = ("POST", "/api/v1/prestamos/estado-de-cuenta/enlace")
CUERPO_SALDO = {
    "saldo_deudor_total": 15500.5,
    "al": "2026-03-01",
    "prestamo_folio": "PP-1",
    "quincenas_restantes": 30,
}
URL = "http://b/api/v1/archivos/firma"


@pytest.mark.asyncio
async def test_saldo_con_token_formateado_en_pesos():
    backend = BackendFalso(
        {
            SALDO: {
                "saldo_deudor_total": 15500.5,
                "al": "2026-03-01",
                "prestamo_folio": "PP-1",
                "quincenas_restantes": 30,
            }
        }
    ).instalar()
    d = CollectingDispatcher()
    eventos = await ActionConsultarSaldo().run(d, tracker({"token": "tok"}), {})
    assert eventos == []
    m = mensaje(d, "utter_saldo")
    assert (m["saldo"], m["al"], m["folio"], m["quincenas_restantes"]) == (
        "$15,500.50",
        "01/03/2026",
        "PP-1",
        "30 quincenas",
    )
    assert backend.peticiones[0].headers["Authorization"] == "Bearer tok"


@pytest.mark.asyncio
async def test_saldo_a_favor_se_menciona_solo_si_existe():
    BackendFalso({SALDO: {**CUERPO_SALDO, "saldo_deudor_total": 0.0, "quincenas_restantes": 0,
                          "saldo_a_favor": 1000.0, "estatus": "LIQUIDADO"}}).instalar()
    d = CollectingDispatcher()
    await ActionConsultarSaldo().run(d, tracker({"token": "tok"}, canal="ivr"), {})
    assert respuestas(d)[:2] == ["utter_saldo", "utter_saldo_a_favor"]
    assert mensaje(d, "utter_saldo_a_favor")["monto"] == "$1,000.00"

    BackendFalso({SALDO: {**CUERPO_SALDO, "saldo_a_favor": 0.0}}).instalar()
    d = CollectingDispatcher()
    await ActionConsultarSaldo().run(d, tracker({"token": "tok"}, canal="ivr"), {})
    assert "utter_saldo_a_favor" not in respuestas(d)


@pytest.mark.asyncio
async def test_sin_token_no_se_consulta_nada():
    backend = BackendFalso({}).instalar()
    d = CollectingDispatcher()
    await ActionConsultarSaldo().run(d, tracker({}), {})
    assert respuestas(d) == ["utter_identificacion_requerida"]
    assert backend.peticiones == []


@pytest.mark.asyncio
async def test_sin_prestamo_lo_dice_con_el_detalle_del_backend():
    BackendFalso(
        {SALDO: error(404, "No tiene un préstamo personal vigente con el ISSSTE.")}
    ).instalar()
    d = CollectingDispatcher()
    await ActionConsultarSaldo().run(d, tracker({"token": "tok"}), {})
    assert mensaje(d, "utter_sin_prestamo")["detalle"].startswith("No tiene un préstamo")


@pytest.mark.asyncio
async def test_token_vencido_se_olvida():
    BackendFalso({SALDO: error(401, "Su sesión expiró.")}).instalar()
    d = CollectingDispatcher()
    slots = slots_de(
        await ActionConsultarSaldo().run(d, tracker({"token": "tok", "identificado": True}), {})
    )
    assert slots == {"token": None, "identificado": False, "nombre": None}
    assert respuestas(d) == ["utter_sesion_expirada"]


@pytest.mark.asyncio
@pytest.mark.parametrize("falla", [caido, lento])
async def test_backend_caido_reintenta_el_get_una_vez_y_se_disculpa(falla, monkeypatch):
    monkeypatch.setattr(bc, "PAUSA_REINTENTO", 0)
    backend = BackendFalso({SALDO: falla}).instalar()
    d = CollectingDispatcher()
    eventos = await ActionConsultarSaldo().run(d, tracker({"token": "tok"}), {})
    assert eventos == []
    assert respuestas(d) == ["utter_servicio_no_disponible"]
    # The saldo GET was retried once (the link, asked for alongside, is not a retry).
    assert [p.url.path for p in backend.peticiones].count(SALDO[1]) == 2


@pytest.mark.asyncio
async def test_un_500_es_no_disponible():
    import httpx

    BackendFalso({SALDO: httpx.Response(500, json={"detail": "x"})}).instalar()
    d = CollectingDispatcher()
    await ActionConsultarSaldo().run(d, tracker({"token": "tok"}), {})
    assert respuestas(d) == ["utter_servicio_no_disponible"]


@pytest.mark.asyncio
async def test_condiciones():
    BackendFalso(
        {
            ("GET", "/api/v1/prestamos/vigente"): {
                "monto": 50000,
                "plazo_quincenas": 48,
                "tasa_anual": 0.16,
                "descuento_quincenal": 1402.11,
                "quincenas_pagadas": 10,
                "quincenas_restantes": 38,
                "fecha_termino": "2027-12-15",
            }
        }
    ).instalar()
    d = CollectingDispatcher()
    await ActionConsultarCondiciones().run(d, tracker({"token": "tok"}), {})
    m = mensaje(d, "utter_condiciones")
    assert (m["monto"], m["tasa"], m["descuento"], m["fecha_termino"]) == (
        "$50,000.00",
        "16 %",
        "$1,402.11",
        "15/12/2027",
    )


@pytest.mark.asyncio
async def test_historial_un_mensaje_por_prestamo():
    BackendFalso(
        {
            ("GET", "/api/v1/prestamos"): [
                {
                    "folio": "A",
                    "monto": 1000,
                    "plazo_quincenas": 24,
                    "estatus": "VIGENTE",
                    "fecha_otorgamiento": "2025-01-01",
                },
                {
                    "folio": "B",
                    "monto": 2000,
                    "plazo_quincenas": 36,
                    "estatus": "LIQUIDADO",
                    "fecha_otorgamiento": "2020-01-01",
                },
            ]
        }
    ).instalar()
    d = CollectingDispatcher()
    await ActionConsultarHistorial().run(d, tracker({"token": "tok"}), {})
    assert respuestas(d) == [
        "utter_historial_encabezado",
        "utter_historial_prestamo",
        "utter_historial_prestamo",
    ]
    assert [m.get("folio") for m in d.messages[1:]] == ["A", "B"]


# ------------------------------------------------- estado de cuenta en PDF (enlace)
def _adjuntos(d: CollectingDispatcher):
    return [m["attachment"] for m in d.messages if m.get("attachment")]


@pytest.mark.asyncio
@pytest.mark.parametrize("canal", ["rest", "socketio", "whatsapp"])
async def test_despues_del_saldo_se_adjunta_el_estado_de_cuenta(canal):
    backend = BackendFalso({SALDO: CUERPO_SALDO,
                            ENLACE: {"url": URL, "expira_en": "2026-03-02T18:00:00Z"}}).instalar()
    d = CollectingDispatcher()
    eventos = await ActionConsultarSaldo().run(d, tracker({"token": "tok"}, canal=canal), {})
    assert eventos == []
    # Saldo first, then the line about the PDF, then the PDF itself.
    assert respuestas(d) == ["utter_saldo", "utter_estado_cuenta_enlace"]
    m = mensaje(d, "utter_estado_cuenta_enlace")
    assert (m["folio"], m["url"]) == ("PP-1", URL)
    assert d.messages[-1].get("attachment") == URL and _adjuntos(d) == [URL]
    # The link is asked for together with the saldo: the vigente loan's (no folio
    # needed, the backend's default), with the same token.
    (peticion,) = [p for p in backend.peticiones if p.url.path == ENLACE[1]]
    assert peticion.method == ENLACE[0]
    assert "folio" not in peticion.url.params
    assert peticion.headers["Authorization"] == "Bearer tok"


@pytest.mark.asyncio
async def test_por_telefono_no_se_pide_ni_se_dicta_un_enlace():
    backend = BackendFalso({SALDO: CUERPO_SALDO, ENLACE: {"url": URL, "expira_en": "x"}}).instalar()
    d = CollectingDispatcher()
    await ActionConsultarSaldo().run(d, tracker({"token": "tok"}, canal="ivr"), {})
    assert respuestas(d) == ["utter_saldo", "utter_estado_cuenta_enlace"]
    assert "url" not in mensaje(d, "utter_estado_cuenta_enlace")
    assert _adjuntos(d) == []
    assert [(p.method, p.url.path) for p in backend.peticiones] == [SALDO]


@pytest.mark.asyncio
@pytest.mark.parametrize("falla", [
    caido,
    lento,
    lambda request: httpx.Response(503, json={"detail": "x"}),
    lambda request: error(404, "No encontramos un préstamo suyo con ese folio."),
    lambda request: httpx.Response(200, json={"expira_en": "x"}),  # no url in the answer
])
async def test_si_el_enlace_falla_el_saldo_sigue_en_pie(falla):
    backend = BackendFalso({SALDO: CUERPO_SALDO, ENLACE: falla}).instalar()
    d = CollectingDispatcher()
    eventos = await ActionConsultarSaldo().run(
        d, tracker({"token": "tok", "identificado": True}, canal="whatsapp"), {}
    )
    assert eventos == []  # the session is kept
    assert respuestas(d) == ["utter_saldo"]
    assert mensaje(d, "utter_saldo")["saldo"] == "$15,500.50"
    assert _adjuntos(d) == []
    # A POST is not retried.
    assert [(p.method, p.url.path) for p in backend.peticiones] == [SALDO, ENLACE]
