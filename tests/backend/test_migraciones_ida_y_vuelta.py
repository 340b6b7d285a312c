"""Alembic migrations go down to base and up again, and land on exactly the models' schema.

test_migraciones.py compares the suite's database with the models; this one
checks every downgrade (a revision whose downgrade forgets a table, an index or a
PostgreSQL enum type breaks the next upgrade) and compares server defaults too.
Both run on SQLite and PostgreSQL.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text

from backend.db import make_engine
from backend.migrate import alembic_config, upgrade
from backend.models import Base
from tests.pgcluster import base_nueva


def _diferencias(engine: Engine) -> list[object]:
    """What `alembic revision --autogenerate` would write: [] when the database
    matches the models (tables, columns, types, server defaults, indexes, constraints)."""
    with engine.connect() as conn:
        contexto = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True}
        )
        return list(compare_metadata(contexto, Base.metadata))


def _tablas(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def _revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


@pytest.fixture(params=["sqlite", "postgresql"])
def base_vacia(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A database no migration has touched (the suite's shared one stays at head)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('migra') / 'migra.db'}"
        return
    servidor = request.getfixturevalue("postgres_server_url")
    nombre = f"capp_migra_{os.getpid()}"
    yield base_nueva(servidor, nombre)
    admin = make_engine(servidor, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{nombre}" WITH (FORCE)'))
    admin.dispose()


def test_bajar_a_base_y_subir_de_nuevo(base_vacia: str) -> None:
    cfg = alembic_config(base_vacia)
    cabeza = ScriptDirectory.from_config(cfg).get_current_head()
    tablas_modelo = set(Base.metadata.tables) | {"alembic_version"}
    engine = make_engine(base_vacia)
    try:
        upgrade(base_vacia)
        assert _revision(engine) == cabeza
        assert _tablas(engine) == tablas_modelo
        assert _diferencias(engine) == []

        command.downgrade(cfg, "base")
        assert _revision(engine) is None
        assert _tablas(engine) <= {"alembic_version"}, "el downgrade dejó tablas"
        if engine.dialect.name == "postgresql":
            with engine.connect() as conn:
                tipos = conn.execute(text(
                    "SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
                    "WHERE n.nspname = 'public' AND t.typtype = 'e'"
                )).scalars().all()
            assert tipos == [], "el downgrade dejó tipos enum"

        upgrade(base_vacia)
        assert _revision(engine) == cabeza
        assert _tablas(engine) == tablas_modelo
        assert _diferencias(engine) == []
    finally:
        engine.dispose()
