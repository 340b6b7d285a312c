"""FOPI y regularización (backend pagos)

Revision ID: 0003
Revises: 0002
The `fopi` table: bank payment forms (pago parcial, liquidación, regularización).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fopi",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("referencia", sa.String(length=20), nullable=False),
        sa.Column("prestamo_id", sa.Integer(), nullable=False),
        sa.Column("concepto", sa.String(length=16), nullable=False),
        sa.Column("monto", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("interes_moratorio", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("quincenas", sa.JSON(), nullable=True),
        sa.Column("fecha_emision", sa.Date(), nullable=False),
        sa.Column("vigencia", sa.Date(), nullable=False),
        sa.Column("estatus", sa.String(length=10), nullable=False),
        sa.Column("fecha_pago", sa.Date(), nullable=True),
        sa.Column("banco", sa.String(length=60), nullable=True),
        sa.Column("folio_banco", sa.String(length=40), nullable=True),
        sa.Column("pagado_en", sa.DateTime(timezone=True), nullable=True),
        sa.Column("creado_en", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actualizado_en", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["prestamo_id"], ["prestamo.id"], name=op.f("fk_fopi_prestamo_id_prestamo")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fopi")),
        sa.UniqueConstraint("referencia", name=op.f("uq_fopi_referencia")),
    )
    with op.batch_alter_table("fopi", schema=None) as batch_op:
        batch_op.create_index("ix_fopi_prestamo_estatus", ["prestamo_id", "estatus"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("fopi", schema=None) as batch_op:
        batch_op.drop_index("ix_fopi_prestamo_estatus")
    op.drop_table("fopi")
