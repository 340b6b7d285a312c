"""citas, oficinas y bitácora (backend citas)

Revision ID: 0002
Revises: 0001
Placeholder in the fixed migration chain; its owner fills in upgrade/downgrade.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "oficina",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clave", sa.String(length=20), nullable=False),
        sa.Column("nombre", sa.String(length=160), nullable=False),
        sa.Column("estado", sa.String(length=60), nullable=False),
        sa.Column("ciudad", sa.String(length=80), nullable=False),
        sa.Column("direccion", sa.String(length=300), nullable=False),
        sa.Column("telefono", sa.String(length=40), nullable=True),
        sa.Column("horario", sa.String(length=120), nullable=False),
        sa.Column("ventanillas", sa.Integer(), nullable=False),
        sa.Column("activa", sa.Boolean(), nullable=False),
        sa.Column("creado_en", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oficina")),
        sa.UniqueConstraint("clave", name=op.f("uq_oficina_clave")),
    )
    op.create_table(
        "cita",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clave", sa.String(length=6), nullable=False),
        sa.Column("derechohabiente_id", sa.Integer(), nullable=False),
        sa.Column("oficina_id", sa.Integer(), nullable=False),
        sa.Column("inicio", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fin", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lugar", sa.Integer(), nullable=True),
        sa.Column("estatus", sa.String(length=10), nullable=False),
        sa.Column("canal_notificacion", sa.String(length=10), nullable=False),
        sa.Column("creado_en", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cancelada_en", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["derechohabiente_id"], ["derechohabiente.id"],
                                name=op.f("fk_cita_derechohabiente_id_derechohabiente")),
        sa.ForeignKeyConstraint(["oficina_id"], ["oficina.id"], name=op.f("fk_cita_oficina_id_oficina")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cita")),
        sa.UniqueConstraint("clave", name=op.f("uq_cita_clave")),
        # Capacity: one row per (office, slot, place); cancelled citas free their place (lugar NULL).
        sa.UniqueConstraint("oficina_id", "inicio", "lugar", name="uq_cita_oficina_inicio_lugar"),
    )
    with op.batch_alter_table("cita", schema=None) as batch_op:
        batch_op.create_index("ix_cita_derechohabiente", ["derechohabiente_id"], unique=False)
        batch_op.create_index("ix_cita_estatus_inicio", ["estatus", "inicio"], unique=False)
        # One AGENDADA cita per person, enforced by the database (also under races).
        batch_op.create_index(
            "uq_cita_agendada_por_derechohabiente",
            ["derechohabiente_id"],
            unique=True,
            sqlite_where=sa.text("estatus = 'AGENDADA'"),
            postgresql_where=sa.text("estatus = 'AGENDADA'"),
        )
    op.create_table(
        "cita_evento",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cita_id", sa.Integer(), nullable=False),
        sa.Column("estatus", sa.String(length=10), nullable=False),
        sa.Column("registrado_en", sa.DateTime(timezone=True), nullable=False),
        sa.Column("origen", sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(["cita_id"], ["cita.id"], name=op.f("fk_cita_evento_cita_id_cita")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cita_evento")),
    )
    with op.batch_alter_table("cita_evento", schema=None) as batch_op:
        batch_op.create_index("ix_cita_evento_cita", ["cita_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("cita_evento", schema=None) as batch_op:
        batch_op.drop_index("ix_cita_evento_cita")
    op.drop_table("cita_evento")
    with op.batch_alter_table("cita", schema=None) as batch_op:
        batch_op.drop_index("uq_cita_agendada_por_derechohabiente")
        batch_op.drop_index("ix_cita_estatus_inicio")
        batch_op.drop_index("ix_cita_derechohabiente")
    op.drop_table("cita")
    op.drop_table("oficina")
