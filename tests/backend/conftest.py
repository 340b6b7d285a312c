"""Backend fixtures: every DB test runs on SQLite and on PostgreSQL.

The schema always comes from the Alembic migrations. PostgreSQL comes from
TEST_POSTGRES_URL (set by scripts/test.sh) or a throwaway cluster started here.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from backend.db import make_engine, make_sessionmaker
from backend.deps import reloj
from backend.main import create_app
from backend.migrate import upgrade
from backend.models import Base, Derechohabiente
from backend.seed import sembrar_personas
from backend.settings import BackendSettings
from tests import pgcluster
from tests.backend._citas_apoyo import auth as encabezados_de


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    url = os.environ.get("TEST_POSTGRES_URL")
    if url:
        yield url
        return
    cluster = pgcluster.start()
    try:
        yield cluster.url
    finally:
        cluster.stop()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated, empty database URL (one per backend per test session)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'capp.db'}"
    else:
        server = request.getfixturevalue("postgres_server_url")
        url = pgcluster.base_nueva(server, f"capp_test_{os.getpid()}")
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


def _truncate(engine: Engine) -> None:
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture
def session_factory(engine: Engine) -> Iterator[sessionmaker[Session]]:
    _truncate(engine)
    yield make_sessionmaker(engine)
    _truncate(engine)


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    with session_factory() as s:
        yield s


# Shared secrets of the machine-to-machine endpoints in the test settings, so every
# suite (schemathesis included) reaches the logic behind the secret check.
SECRETO_BANCO = "secreto-de-prueba-del-banco"
SECRETO_CAPP = "secreto-de-prueba-del-capp"
CABECERAS_INTERNAS = {"X-Webhook-Secret": SECRETO_BANCO, "X-CAPP-Secret": SECRETO_CAPP}


@pytest.fixture
def settings(db_url: str) -> BackendSettings:
    # entorno=desarrollo: the suites (schemathesis included) read /openapi.json.
    return BackendSettings(database_url=db_url, token_secret="test-secret-" + "x" * 24,
                           backend_public_url="http://testserver", entorno="desarrollo",
                           banco_webhook_secret=SECRETO_BANCO, capp_interno_secret=SECRETO_CAPP)


@pytest.fixture
def cabeceras_internas() -> dict[str, str]:
    """Headers that pass the bank-webhook and CAPP-staff secret checks of `settings`."""
    return dict(CABECERAS_INTERNAS)


@pytest.fixture
def dh(session: Session) -> Derechohabiente:
    """A derechohabiente without a loan (tests/backend/datos_pagos.py builds one)."""
    from tests.backend.datos_pagos import crear_derechohabiente  # it imports this module

    return crear_derechohabiente(session)


@pytest.fixture
def auth(dh: Derechohabiente, settings: BackendSettings) -> dict[str, str]:
    """Bearer headers of `dh` (issued on the real clock, valid whatever the app's clock says)."""
    return encabezados_de(settings, dh)


# The identity suites' instant: 12:00 in Mexico City, with the demo personas seeded for it.
AHORA_PERSONAS = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)
URL_VERIFICAR = "/api/v1/identidad/verificar"


@pytest.fixture
def personas(session: Session) -> None:
    sembrar_personas(session, hoy=AHORA_PERSONAS.date(), ahora=AHORA_PERSONAS)


class Reloj:
    """A settable clock for the `reloj` dependency: set `.ahora` to move time."""

    def __init__(self, ahora: datetime) -> None:
        self.ahora = ahora

    def __call__(self) -> datetime:
        return self.ahora


def fijar_reloj(client: TestClient, ahora: datetime) -> Reloj:
    """The app behind `client` reads its clock from the returned Reloj, starting at `ahora`."""
    r = Reloj(ahora)
    client.app.dependency_overrides[reloj] = r  # type: ignore[attr-defined]
    return r


@pytest.fixture
def reloj_fijo(client: TestClient) -> Reloj:
    return fijar_reloj(client, AHORA_PERSONAS)


def verificar(client: TestClient, curp: str, nip: str, **kw: Any) -> httpx.Response:
    """POST CURP and NIP to identidad/verificar."""
    return client.post(URL_VERIFICAR, json={"curp": curp, "nip": nip}, **kw)


@pytest.fixture
def client(
    settings: BackendSettings, engine: Engine, session_factory: sessionmaker[Session]
) -> Iterator[TestClient]:
    app = create_app(settings)
    app.state.engine = engine
    app.state.sessionmaker = session_factory
    with TestClient(app) as c:
        yield c


ROOT = Path(__file__).resolve().parents[2]
