"""The one backend client: a time budget per call and per action, retries only
for GETs and only within the budget, answers of the wrong shape treated as
"not available", and no clave in the logs."""

from __future__ import annotations

import asyncio
import json
import logging
import time

import httpx
import pytest
from rasa_sdk.executor import CollectingDispatcher
from test_actions_apoyo import BackendFalso, caido, respuestas, tracker

from bot.actions import backend_client as bc
from bot.actions.saldo import ActionConsultarSaldo

SALDO = ("GET", "/api/v1/prestamos/saldo")
ENLACE = ("POST", "/api/v1/prestamos/estado-de-cuenta/enlace")


@pytest.fixture
def reloj_corto(monkeypatch):
    """The real limits scaled down ×10 so the suite stays fast; the ratios hold."""
    monkeypatch.setattr(bc, "TIMEOUT_SEGUNDOS", 0.3)
    monkeypatch.setattr(bc, "PRESUPUESTO_SEGUNDOS", 0.5)
    monkeypatch.setattr(bc, "PAUSA_REINTENTO", 0.02)
    monkeypatch.setattr(bc, "MINIMO_PARA_REINTENTAR", 0.05)


class Lento:
    """A backend that takes `segundos` to answer each request (async, like a real one)."""

    def __init__(self, segundos: float, cuerpo=None) -> None:
        self.segundos = segundos
        self.cuerpo = cuerpo if cuerpo is not None else {"ok": True}
        self.peticiones: list[httpx.Request] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.peticiones.append(request)
        await asyncio.sleep(self.segundos)
        return httpx.Response(200, json=self.cuerpo)

    def instalar(self) -> Lento:
        bc.usar_transporte(httpx.MockTransport(self))
        return self


def test_los_limites_reales():
    # Each call at most 3 s in all; one action's calls at most 5 s together.
    assert bc.TIMEOUT_SEGUNDOS == 3.0 and bc.PRESUPUESTO_SEGUNDOS == 5.0
    assert bc.PRESUPUESTO_SEGUNDOS < 15  # Twilio waits 15 s for a phone turn


@pytest.mark.asyncio
async def test_un_get_lento_termina_en_el_tiempo_de_una_llamada_con_reintento_incluido(reloj_corto):
    backend = Lento(5.0).instalar()
    inicio = time.monotonic()
    with pytest.raises(bc.BackendNoDisponible):
        async with bc.cliente("tok") as api:
            await api.saldo()
    transcurrido = time.monotonic() - inicio
    assert transcurrido < bc.TIMEOUT_SEGUNDOS + 0.25
    # The first attempt used the whole budget: no retry that could not finish.
    assert len(backend.peticiones) == 1


@pytest.mark.asyncio
async def test_el_reintento_del_get_cabe_en_el_tiempo_de_la_llamada(reloj_corto):
    intentos = []

    async def falla_y_luego_responde(request):
        intentos.append(time.monotonic())
        if len(intentos) == 1:
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(200, json={"saldo_deudor_total": 1.0})

    bc.usar_transporte(httpx.MockTransport(falla_y_luego_responde))
    inicio = time.monotonic()
    async with bc.cliente("tok") as api:
        assert (await api.saldo())["saldo_deudor_total"] == 1.0
    assert len(intentos) == 2
    assert time.monotonic() - inicio < bc.TIMEOUT_SEGUNDOS


@pytest.mark.asyncio
async def test_un_post_no_se_reintenta(reloj_corto):
    backend = BackendFalso(
        {("POST", "/api/v1/simulaciones"): lambda r: httpx.Response(503)}
    ).instalar()
    with pytest.raises(bc.BackendNoDisponible):
        async with bc.cliente() as api:
            await api.simular(
                producto="credito_complementario", sueldo_base_mensual=1, plazo_quincenas=24
            )
    assert len(backend.peticiones) == 1


@pytest.mark.asyncio
async def test_dos_llamadas_de_una_accion_comparten_el_presupuesto(monkeypatch):
    """A second call made after the first took part of the action's budget gets
    only what is left (less than a call's own limit)."""
    monkeypatch.setattr(bc, "TIMEOUT_SEGUNDOS", 1.0)
    monkeypatch.setattr(bc, "PRESUPUESTO_SEGUNDOS", 1.2)
    tiempo_del_segundo = []

    async def backend(request):
        if request.url.path == SALDO[1]:
            await asyncio.sleep(0.5)
            return httpx.Response(200, json={"saldo_deudor_total": 1.0})
        tiempo_del_segundo.append(request.extensions["timeout"]["read"])
        await asyncio.sleep(5)
        return httpx.Response(200, json={"url": "http://b/x"})

    bc.usar_transporte(httpx.MockTransport(backend))
    inicio = time.monotonic()
    async with bc.cliente("tok") as api:
        await api.saldo()
        with pytest.raises(bc.BackendNoDisponible):
            await api.enlace_estado_cuenta()
    assert tiempo_del_segundo and tiempo_del_segundo[0] <= 1.2 - 0.5 < bc.TIMEOUT_SEGUNDOS
    assert time.monotonic() - inicio < 1.2 + 0.2


@pytest.mark.asyncio
async def test_saldo_y_enlace_van_a_la_vez_y_un_enlace_colgado_no_retrasa_el_saldo(monkeypatch):
    """The saldo and its PDF link are asked for together: the turn takes the longer
    of the two, not their sum; a hung link ends at its call limit, the saldo is
    answered without it."""
    monkeypatch.setattr(bc, "TIMEOUT_SEGUNDOS", 1.0)
    monkeypatch.setattr(bc, "PRESUPUESTO_SEGUNDOS", 1.2)
    en_curso, maximo = 0, 0

    async def backend(request):
        nonlocal en_curso, maximo
        en_curso += 1
        maximo = max(maximo, en_curso)
        try:
            if request.url.path == SALDO[1]:
                await asyncio.sleep(0.5)
                return httpx.Response(
                    200,
                    json={
                        "saldo_deudor_total": 15500.5,
                        "al": "2026-03-01",
                        "prestamo_folio": "PP-1",
                        "quincenas_restantes": 30,
                    },
                )
            await asyncio.sleep(5)
            return httpx.Response(200, json={"url": "http://b/x"})
        finally:
            en_curso -= 1

    bc.usar_transporte(httpx.MockTransport(backend))
    d = CollectingDispatcher()
    inicio = time.monotonic()
    await ActionConsultarSaldo().run(d, tracker({"token": "tok"}, canal="whatsapp"), {})
    transcurrido = time.monotonic() - inicio
    assert maximo == 2  # both requests were in flight together
    assert 1.0 - 0.05 <= transcurrido < 1.0 + 0.3  # the link's own limit, not 0.5 + 1.0
    assert respuestas(d) == ["utter_saldo"]  # no link, but an answer in time


@pytest.mark.asyncio
async def test_si_el_saldo_falla_el_enlace_se_cancela():
    cancelado = asyncio.Event()

    async def backend(request):
        if request.url.path == SALDO[1]:
            await asyncio.sleep(0.05)
            return httpx.Response(503)
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            cancelado.set()
            raise
        return httpx.Response(200, json={"url": "http://b/x"})

    bc.usar_transporte(httpx.MockTransport(backend))
    d = CollectingDispatcher()
    inicio = time.monotonic()
    await ActionConsultarSaldo().run(d, tracker({"token": "tok"}, canal="whatsapp"), {})
    assert respuestas(d) == ["utter_servicio_no_disponible"]
    await asyncio.wait_for(cancelado.wait(), 1)
    assert time.monotonic() - inicio < 2  # not the link's 3 s


@pytest.mark.asyncio
async def test_accion_completa_con_backend_colgado_contesta_a_tiempo(reloj_corto):
    Lento(10.0).instalar()
    d = CollectingDispatcher()
    inicio = time.monotonic()
    await ActionConsultarSaldo().run(d, tracker({"token": "tok"}), {})
    assert time.monotonic() - inicio < bc.TIMEOUT_SEGUNDOS + 0.25
    assert respuestas(d) == ["utter_servicio_no_disponible"]


@pytest.mark.asyncio
@pytest.mark.parametrize("respuesta", [
    httpx.Response(200, text="<html>proxy</html>"),
    httpx.Response(200, json=["no", "es", "un", "objeto"]),
    httpx.Response(200, json="texto"),
])
async def test_respuesta_de_forma_inesperada_es_no_disponible(respuesta):
    BackendFalso({SALDO: respuesta}).instalar()
    with pytest.raises(bc.BackendNoDisponible):
        async with bc.cliente("tok") as api:
            await api.saldo()


@pytest.mark.asyncio
async def test_lista_esperada_y_llega_otra_cosa():
    BackendFalso({("GET", "/api/v1/citas"): {"detail": "no soy una lista"}}).instalar()
    with pytest.raises(bc.BackendNoDisponible):
        async with bc.cliente("tok") as api:
            await api.citas()


# ------------------------------------------------------------------ logs
@pytest.mark.asyncio
async def test_la_clave_no_llega_a_los_logs(caplog):
    BackendFalso({("POST", "/api/v1/citas/CC3QZ8/cancelar"): {"estatus": "CANCELADA"},
                  ("GET", "/api/v1/citas"): httpx.Response(503)}).instalar()
    caplog.set_level(logging.DEBUG)
    async with bc.cliente() as api:
        await api.cancelar_cita("CC3QZ8", "1956-04-27")
        with pytest.raises(bc.BackendNoDisponible):
            await api.citas()  # logs a warning of our own too
    assert "/api/v1/citas" in caplog.text  # something was logged...
    assert "CC3QZ8" not in caplog.text and "1956-04-27" not in caplog.text  # ...without the data


def test_las_bibliotecas_http_no_registran_urls_en_info():
    for nombre in ("httpx", "httpcore"):
        assert logging.getLogger(nombre).getEffectiveLevel() >= logging.WARNING


@pytest.mark.asyncio
async def test_si_alguien_activa_los_logs_de_httpx_salen_enmascarados(caplog):
    BackendFalso({("POST", "/api/v1/citas/CC3QZ8/cancelar"): {"estatus": "CANCELADA"}}).instalar()
    httpx_log = logging.getLogger("httpx")
    nivel = httpx_log.level
    httpx_log.setLevel(logging.INFO)
    try:
        caplog.set_level(logging.INFO)
        async with bc.cliente() as api:
            await api.cancelar_cita("CC3QZ8")
    finally:
        httpx_log.setLevel(nivel)
    lineas = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    assert lineas and all("CC3QZ8" not in linea for linea in lineas)
    assert any("/api/v1/citas/…/cancelar" in linea for linea in lineas)


@pytest.mark.parametrize("texto,no_debe", [
    ("GET http://b/api/v1/citas/CC3QZ8/hoja.pdf", "CC3QZ8"),
    ("curp HEGG560427MVZRRL04 no valida", "HEGG560427MVZRRL04"),
    ("GET http://b/archivos?token=abc.def&x=1", "abc.def"),
])
def test_enmascarado_de_textos_de_log(texto, no_debe):
    assert no_debe not in bc.texto_sin_datos(texto)


# ------------------------------------------------------- connection reuse
@pytest.mark.asyncio
async def test_las_acciones_comparten_un_cliente_http_con_keep_alive():
    """Two actions (two `cliente()`) go through the same pooled client: no new
    connection per action, and leaving one does not close it for the next."""
    BackendFalso({SALDO: {"saldo_deudor_total": 1.0}}).instalar()
    async with bc.cliente("a") as api:
        await api.saldo()
        primero = bc.http_compartido()
    async with bc.cliente("b") as api:
        await api.saldo()
        assert bc.http_compartido() is primero
    assert not primero.is_closed


@pytest.mark.asyncio
async def test_el_token_viaja_por_peticion_y_no_se_queda_en_el_cliente_compartido():
    backend = BackendFalso({SALDO: {"saldo_deudor_total": 1.0},
                            ("GET", "/api/v1/productos"): {"productos": []}}).instalar()
    async with bc.cliente("token-de-gloria") as api:
        await api.saldo()
    async with bc.cliente() as api:
        await api.productos()
    assert backend.peticiones[0].headers["Authorization"] == "Bearer token-de-gloria"
    assert "Authorization" not in backend.peticiones[1].headers
    assert "Authorization" not in bc.http_compartido().headers


# --------------------------------------------- idempotent writes of a turn
CITAS = ("POST", "/api/v1/citas")
CANCELAR = ("POST", "/api/v1/citas/CC3QZ8/cancelar")


@pytest.fixture
def backend_citas() -> BackendFalso:
    """A backend that books CC3QZ8 and cancels it."""
    return BackendFalso({CITAS: {"clave": "CC3QZ8"}, CANCELAR: {"estatus": "CANCELADA"}}).instalar()


@pytest.mark.asyncio
async def test_agendar_y_cancelar_envian_llave_de_idempotencia_y_vencimiento(backend_citas):
    backend = backend_citas
    async with bc.cliente("tok") as api:
        await api.agendar_cita(
            3, "2026-03-02T10:00:00-06:00", "web", idempotency_key="turno-1", vence=1767225600.25
        )
        await api.cancelar_cita("CC3QZ8", "1956-04-27", idempotency_key="turno-2", vence=1767225601)
    agendar, cancelar = backend.peticiones
    assert agendar.headers["Idempotency-Key"] == "turno-1"
    assert float(agendar.headers["X-Turno-Vence"]) == 1767225600.25
    assert backend.cuerpo(0) == {
        "oficina_id": 3,
        "inicio": "2026-03-02T10:00:00-06:00",
        "origen": "web",
    }
    assert cancelar.headers["Idempotency-Key"] == "turno-2"
    assert float(cancelar.headers["X-Turno-Vence"]) == 1767225601
    assert backend.cuerpo(1) == {"fecha_nacimiento": "1956-04-27"}
    assert agendar.headers["Authorization"] == cancelar.headers["Authorization"] == "Bearer tok"


@pytest.mark.asyncio
async def test_sin_llave_ni_vencimiento_no_hay_encabezados(backend_citas):
    backend = backend_citas
    async with bc.cliente("tok") as api:
        await api.agendar_cita(3, "2026-03-02T10:00:00-06:00")
        await api.cancelar_cita("CC3QZ8")
    for peticion in backend.peticiones:
        assert "Idempotency-Key" not in peticion.headers and "X-Turno-Vence" not in peticion.headers


# ------------------------------------------------------------- timings
def _tiempos(caplog) -> list[dict]:
    from bot.actions.medicion import PREFIJO

    return [json.loads(r.getMessage()[len(PREFIJO):]) for r in caplog.records
            if r.name == "bot.actions.medicion" and r.getMessage().startswith(PREFIJO)]


@pytest.mark.asyncio
async def test_cada_accion_registra_su_tiempo_y_el_de_cada_llamada_al_backend(caplog):
    BackendFalso({SALDO: httpx.Response(200, headers={"Server-Timing": "app;dur=2.5"},
                                        json={"saldo_deudor_total": 15500.5, "al": "2026-03-01",
                                              "prestamo_folio": "PP-1", "quincenas_restantes": 30}),
                  ENLACE: httpx.Response(503)}).instalar()
    caplog.set_level(logging.INFO, logger="bot.actions.medicion")
    await ActionConsultarSaldo().run(
        CollectingDispatcher(), tracker({"token": "tok"}, canal="whatsapp"), {}
    )
    (registro,) = _tiempos(caplog)
    assert registro["accion"] == "action_consultar_saldo" and registro["ms"] >= 0
    llamadas = sorted((c["metodo"], c["ruta"], c["status"]) for c in registro["backend"])
    assert llamadas == [("GET", SALDO[1], 200), ("POST", ENLACE[1], 503)]
    assert all(c["ms"] >= 0 for c in registro["backend"])
    # The backend's own time, from its Server-Timing header, where it sent one.
    assert {c["ruta"]: c.get("servidor_ms") for c in registro["backend"]} == {
        SALDO[1]: 2.5,
        ENLACE[1]: None,
    }
    assert "tok" not in caplog.text and "PP-1" not in caplog.text


@pytest.mark.asyncio
async def test_la_llamada_sin_respuesta_queda_registrada_sin_status_y_sin_clave(caplog):
    from bot.actions.medicion import medir_accion

    BackendFalso({CANCELAR: caido}).instalar()
    caplog.set_level(logging.INFO, logger="bot.actions.medicion")
    async with medir_accion("action_prueba"):
        with pytest.raises(bc.BackendNoDisponible):
            async with bc.cliente() as api:
                await api.cancelar_cita("CC3QZ8")
    (registro,) = _tiempos(caplog)
    assert [(c["ruta"], c["status"]) for c in registro["backend"]] == [
        ("/api/v1/citas/…/cancelar", None)
    ]
    assert "CC3QZ8" not in caplog.text
