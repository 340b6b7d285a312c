"""Property run over the whole OpenAPI schema of the backend (every route, whoever wrote it).

For each operation schemathesis generates requests from the schema and checks
that the app never answers 5xx and that every answer matches the response
schema it declares (routes declare backend.errors.ERROR_RESPONSES, so 4xx
bodies are checked too). The app runs on a migrated database seeded with the
demo personas (SQLite and PostgreSQL, like every backend test); personal routes
get a valid token for persona P2, so generation goes past the 401.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

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

# Small enough for the whole run to stay well under a minute per database.
EJEMPLOS_POR_OPERACION = 10
EJEMPLOS_NEGATIVOS = 5
LINEAS_POR_FALLA = 25
CURP_P2 = "BEML920313HMCLNS09"


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
def api_schema(settings: BackendSettings, engine: Engine, session_factory: sessionmaker[Session]) -> BaseSchema:
    app = create_app(settings)
    app.state.engine = engine
    app.state.sessionmaker = session_factory
    return schemathesis.openapi.from_asgi("/openapi.json", app)


def _probar_operacion(operacion: APIOperation, token: str) -> None:
    """Hypothesis run of one operation: valid requests, then schema-breaking ones."""
    cabeceras = {"Authorization": f"Bearer {token}"}
    for modo, ejemplos in ((GenerationMode.POSITIVE, EJEMPLOS_POR_OPERACION), (GenerationMode.NEGATIVE, EJEMPLOS_NEGATIVOS)):

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
            case.call_and_validate(headers=cabeceras, checks=[not_a_server_error, response_schema_conformance])

        try:
            prueba()
        except Unsatisfiable:
            # No request can break this operation's schema (e.g. no parameters at all).
            if modo is not GenerationMode.NEGATIVE:
                raise


def test_api_no_falla_y_cumple_su_esquema(api_schema: BaseSchema, token_p2: str) -> None:
    # schemathesis.pytest.from_fixture breaks on pytest 9 (it reads `node._nodeid`), so the
    # operations are walked here; every failing one is reported, not just the first.
    operaciones = 0
    fallas: list[str] = []
    for resultado in api_schema.get_all_operations():
        operacion = resultado.ok()
        operaciones += 1
        inicio = time.monotonic()
        try:
            _probar_operacion(operacion, token_p2)
        except Exception as exc:  # noqa: BLE001 - collect every operation's failure, then fail once
            resumen = "\n    ".join(str(exc).strip().splitlines()[:LINEAS_POR_FALLA])
            fallas.append(f"{operacion.label} -> {type(exc).__name__}:\n    {resumen}")
        print(f"{operacion.label}: {time.monotonic() - inicio:.1f} s")
    assert operaciones >= 3, "el esquema OpenAPI no trae operaciones"
    assert not fallas, "\n\n".join(fallas)
