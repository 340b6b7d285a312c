"""outbox de notificaciones (backend citas)

Revision ID: 0004
Revises: 0003
Placeholder in the fixed migration chain; its owner fills in upgrade/downgrade.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notificacion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clave_unica", sa.String(length=80), nullable=False),
        sa.Column("tipo", sa.String(length=30), nullable=False),
        sa.Column("canal", sa.String(length=10), nullable=False),
        sa.Column("destino", sa.String(length=20), nullable=False),
        sa.Column("cuerpo", sa.Text(), nullable=False),
        sa.Column("derechohabiente_id", sa.Integer(), nullable=True),
        sa.Column("cita_id", sa.Integer(), nullable=True),
        sa.Column("adjunto_tipo", sa.String(length=30), nullable=True),
        sa.Column("adjunto_id", sa.String(length=40), nullable=True),
        sa.Column("estado", sa.String(length=12), nullable=False),
        sa.Column("intentos", sa.Integer(), nullable=False),
        sa.Column("proximo_intento", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reclamada_hasta", sa.DateTime(timezone=True), nullable=True),
        sa.Column("twilio_sid", sa.String(length=40), nullable=True),
        sa.Column("ultimo_error", sa.String(length=300), nullable=True),
        sa.Column("creado_en", sa.DateTime(timezone=True), nullable=False),
        sa.Column("enviada_en", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["derechohabiente_id"], ["derechohabiente.id"],
                                name=op.f("fk_notificacion_derechohabiente_id_derechohabiente")),
        sa.ForeignKeyConstraint(["cita_id"], ["cita.id"], name=op.f("fk_notificacion_cita_id_cita")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notificacion")),
        sa.UniqueConstraint("clave_unica", name=op.f("uq_notificacion_clave_unica")),
        sa.UniqueConstraint("twilio_sid", name=op.f("uq_notificacion_twilio_sid")),
    )
    with op.batch_alter_table("notificacion", schema=None) as batch_op:
        batch_op.create_index("ix_notificacion_estado_proximo", ["estado", "proximo_intento"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("notificacion", schema=None) as batch_op:
        batch_op.drop_index("ix_notificacion_estado_proximo")
    op.drop_table("notificacion")
