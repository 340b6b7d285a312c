"""Property run over the whole OpenAPI schema of the backend (every route, whoever wrote it).

For each operation schemathesis generates requests from the schema and checks
that the app never answers 5xx and that every answer matches the response
schema it declares (routes declare backend.errors.ERROR_RESPONSES, so 4xx
bodies are checked too). The app runs on a migrated database seeded with the
demo personas (SQLite and PostgreSQL, like every backend test); personal routes
get a valid token for persona P2 and no answer may carry persona P1's data
(cross-user check), so generation goes past the 401, and the banks'
notification gets the shared X-Webhook-Secret, so it goes past the 401/403 into
the payment logic.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hyp_settings
from hypothesis.errors import Unsatisfiable
from schemathesis import APIOperation, BaseSchema, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from backend.main import create_app
from backend.models import Derechohabiente
from backend.security import emitir_token
from backend.settings import BackendSettings

# About a minute per database on 2 cores.
EJEMPLOS_POR_OPERACION = 20
EJEMPLOS_NEGATIVOS = 10
LINEAS_POR_FALLA = 25
CURP_P2 = "BEML920313HMCLNS09"
CABECERA_BANCO = "X-Webhook-Secret"
# Another persona's data (P1's CURP and claves de cita): whatever P2's
# token asks for, none of it may come back.
DATOS_DE_P1 = ("HEGG560427MVZRRL04", "HEGG************04", "CC3QZ8", "Z8YP3Q")


@schemathesis.check
def sin_datos_de_otra_persona(
    ctx: object, response: schemathesis.Response, case: schemathesis.Case
) -> None:
    texto = response.content.decode("utf-8", "replace") if response.content else ""
    ajenos = [dato for dato in DATOS_DE_P1 if dato in texto]
    if ajenos:
        raise AssertionError(f"la respuesta a P2 trae datos de P1: {ajenos}")


CHECKS = [not_a_server_error, response_schema_conformance, sin_datos_de_otra_persona]


@pytest.fixture
def token_p2(settings: BackendSettings, session_factory: sessionmaker[Session]) -> str:
    from backend.seed import sembrar

    with session_factory() as session:
        sembrar(session, count=3, ahora=datetime.now(UTC))
        session.commit()
        dh = session.scalars(select(Derechohabiente).where(Derechohabiente.curp == CURP_P2)).one()
        token, _ = emitir_token(dh, settings)
    return token


@pytest.fixture
def fopi_p2(
    settings: BackendSettings, session_factory: sessionmaker[Session], token_p2: str
) -> dict[str, object]:
    """A real pago-parcial FOPI of P2 and the notification a bank would send for it."""
    from backend.services.fopi import emitir_fopi

    hoy = datetime.now(ZoneInfo(settings.timezone)).date()
    with session_factory() as session:
        dh = session.scalars(select(Derechohabiente).where(Derechohabiente.curp == CURP_P2)).one()
        fopi = emitir_fopi(
            session=session, derechohabiente=dh, tipo="parcial", monto=Decimal("500.00"), hoy=hoy
        )
        session.commit()
        return {
            "referencia": fopi.referencia,
            "monto": float(fopi.monto),
            "fecha_pago": hoy.isoformat(),
            "banco": "BBVA",
            "folio_banco": "SCHEMATHESIS-0001",
        }


@pytest.fixture
def secreto_banco(settings: BackendSettings) -> str:
    """The banks' shared secret of the test app. The suite's settings carry one; a
    settings object without it gets one here, or every notification would be
    refused with 403 before any of its logic runs."""
    if not settings.banco_webhook_secret:
        settings.banco_webhook_secret = "schemathesis-banco-" + "s" * 16
    return settings.banco_webhook_secret


@pytest.fixture
def api_schema(
    settings: BackendSettings,
    secreto_banco: str,
    engine: Engine,
    session_factory: sessionmaker[Session],
) -> BaseSchema:
    app = create_app(settings)
    assert app.state.settings.banco_webhook_secret == secreto_banco
    app.state.engine = engine
    app.state.sessionmaker = session_factory
    return schemathesis.openapi.from_asgi("/openapi.json", app)


def _cabeceras(operacion: APIOperation, token: str, secreto_banco: str) -> dict[str, str]:
    """Credentials every request of this operation carries (they override generated values)."""
    cabeceras = {"Authorization": f"Bearer {token}"}
    if CABECERA_BANCO in operacion.headers:
        cabeceras[CABECERA_BANCO] = secreto_banco
    return cabeceras


def _probar_operacion(operacion: APIOperation, cabeceras: dict[str, str]) -> None:
    """Hypothesis run of one operation: valid requests, then schema-breaking ones."""
    for modo, ejemplos in (
        (GenerationMode.POSITIVE, EJEMPLOS_POR_OPERACION),
        (GenerationMode.NEGATIVE, EJEMPLOS_NEGATIVOS),
    ):

        @given(case=operacion.as_strategy(generation_mode=modo))
        @hyp_settings(
            max_examples=ejemplos,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def prueba(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=cabeceras, checks=CHECKS)

        try:
            prueba()
        except Unsatisfiable:
            # No request can break this operation's schema (e.g. no parameters at all).
            if modo is not GenerationMode.NEGATIVE:
                raise


def _notificaciones_que_llegan_a_la_logica(
    operacion: APIOperation, cabeceras: dict[str, str], notificacion_real: dict[str, object]
) -> list[schemathesis.Response]:
    """The bank operation past its authentication: generated notifications whose monto
    and banco are valid (so the body validates and the referencia, lookup and date
    rules run) and the notification of a real FOPI (so the payment is applied)."""
    respuestas: list[schemathesis.Response] = []

    def valida(case: schemathesis.Case) -> schemathesis.Case:
        if isinstance(case.body, dict):
            case.body = {
                **case.body,
                "monto": notificacion_real["monto"],
                "banco": notificacion_real["banco"],
            }
        return case

    @given(case=operacion.as_strategy(generation_mode=GenerationMode.POSITIVE).map(valida))
    @hyp_settings(
        max_examples=EJEMPLOS_POR_OPERACION,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def prueba(case: schemathesis.Case) -> None:
        respuestas.append(case.call_and_validate(headers=cabeceras, checks=CHECKS))

    prueba()
    real = operacion.Case(body=notificacion_real, media_type="application/json")
    respuestas.append(real.call_and_validate(headers=cabeceras, checks=CHECKS))
    return respuestas


def test_api_no_falla_y_cumple_su_esquema(
    api_schema: BaseSchema, token_p2: str, secreto_banco: str, fopi_p2: dict[str, object]
) -> None:
    # schemathesis.pytest.from_fixture breaks on pytest 9 (it reads `node._nodeid`), so the
    # operations are walked here; every failing one is reported, not just the first.
    operaciones = 0
    fallas: list[str] = []
    banco: list[schemathesis.Response] = []
    for resultado in api_schema.get_all_operations():
        operacion = resultado.ok()
        operaciones += 1
        inicio = time.monotonic()
        cabeceras = _cabeceras(operacion, token_p2, secreto_banco)
        try:
            _probar_operacion(operacion, cabeceras)
            if CABECERA_BANCO in operacion.headers:
                banco += _notificaciones_que_llegan_a_la_logica(operacion, cabeceras, fopi_p2)
        except Exception as exc:  # noqa: BLE001 - collect every operation's failure, then fail once
            resumen = "\n    ".join(str(exc).strip().splitlines()[:LINEAS_POR_FALLA])
            fallas.append(f"{operacion.label} -> {type(exc).__name__}:\n    {resumen}")
        print(f"{operacion.label}: {time.monotonic() - inicio:.1f} s")
    assert operaciones >= 3, "el esquema OpenAPI no trae operaciones"
    assert not fallas, "\n\n".join(fallas)

    # The shared secret opened the door: no notification stopped at 401/403, the
    # generated ones reached the referencia/lookup rules and the real one was applied.
    assert banco, "ninguna operación declara la cabecera X-Webhook-Secret"
    assert all(r.status_code not in (401, 403) for r in banco), [r.status_code for r in banco]
    codigos = {r.json().get("codigo") for r in banco[:-1]}
    assert codigos & {"referencia_invalida", "referencia_desconocida", "fecha_pago_futura",
                      "fecha_pago_invalida", "referencia_vencida"}, codigos
    aplicada = banco[-1]
    assert aplicada.status_code == 200, aplicada.text
    assert (
        aplicada.json()["referencia"] == fopi_p2["referencia"]
        and aplicada.json()["aplicado"] is True
    )
