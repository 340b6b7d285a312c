"""The Alembic migrations build exactly the schema the models describe (both databases).

A model changed without a new revision shows up here as a difference."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from backend.models import Base


def test_migraciones_igual_a_los_modelos(engine: Engine) -> None:
    with engine.connect() as conn:
        contexto = MigrationContext.configure(conn, opts={"compare_type": True})
        diferencias = compare_metadata(contexto, Base.metadata)
    assert diferencias == []


def test_tablas_nuevas_de_citas_y_notificaciones(engine: Engine) -> None:
    inspector = inspect(engine)
    assert {c["name"] for c in inspector.get_columns("cita_intento_cancelacion")} == {
        "clave", "intentos_fallidos", "bloqueado_hasta", "actualizado_en"}
    assert "reclamo" in {c["name"] for c in inspector.get_columns("notificacion")}
