"""intentos de cancelación por clave; reclamo (token) de las notificaciones

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cita_intento_cancelacion",
        sa.Column("clave", sa.String(length=6), nullable=False),
        sa.Column("intentos_fallidos", sa.Integer(), nullable=False),
        sa.Column("bloqueado_hasta", sa.DateTime(timezone=True), nullable=True),
        sa.Column("actualizado_en", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("clave", name=op.f("pk_cita_intento_cancelacion")),
    )
    with op.batch_alter_table("notificacion", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reclamo", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("notificacion", schema=None) as batch_op:
        batch_op.drop_column("reclamo")
    op.drop_table("cita_intento_cancelacion")
