"""bloqueos de identidad por CURP (conocidas o no), intentos fallidos por origen,
claves de idempotencia

Revision ID: 0007
Revises: 0006

NIP hashes are not touched: an argon2 hash cannot be turned into the new HMAC
form without the NIP, so each one is rewritten at that person's next successful
login (backend/services/nip_hash.py). Lock counters move from `derechohabiente`
to `intento_identidad`, which also counts CURPs nobody has.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "intento_identidad",
        sa.Column("curp", sa.String(length=18), nullable=False),
        sa.Column("intentos_fallidos", sa.Integer(), nullable=False),
        sa.Column("bloqueado_hasta", sa.DateTime(timezone=True), nullable=True),
        sa.Column("bloqueos", sa.Integer(), nullable=False),
        sa.Column("actualizado_en", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("curp", name=op.f("pk_intento_identidad")),
    )
    op.create_table(
        "intento_fallido",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ambito", sa.String(length=20), nullable=False),
        sa.Column("origen", sa.String(length=64), nullable=False),
        sa.Column("creado_en", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intento_fallido")),
    )
    op.create_index("ix_intento_fallido_origen", "intento_fallido", ["ambito", "origen", "creado_en"])
    op.create_index("ix_intento_fallido_creado", "intento_fallido", ["ambito", "creado_en"])
    op.create_table(
        "clave_idempotencia",
        sa.Column("clave", sa.String(length=128), nullable=False),
        sa.Column("huella", sa.String(length=64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("cuerpo", sa.Text(), nullable=True),
        sa.Column("creado_en", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expira_en", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("clave", name=op.f("pk_clave_idempotencia")),
    )
    op.create_index(op.f("ix_clave_idempotencia_expira_en"), "clave_idempotencia", ["expira_en"])
    # Keep the counters and locks in force at upgrade time.
    op.execute(
        "INSERT INTO intento_identidad (curp, intentos_fallidos, bloqueado_hasta, bloqueos, actualizado_en) "
        "SELECT curp, intentos_fallidos, bloqueado_hasta, 0, CURRENT_TIMESTAMP FROM derechohabiente "
        "WHERE intentos_fallidos > 0 OR bloqueado_hasta IS NOT NULL"
    )
    with op.batch_alter_table("derechohabiente", schema=None) as batch_op:
        batch_op.drop_column("bloqueado_hasta")
        batch_op.drop_column("intentos_fallidos")


def downgrade() -> None:
    with op.batch_alter_table("derechohabiente", schema=None) as batch_op:
        batch_op.add_column(sa.Column("intentos_fallidos", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("bloqueado_hasta", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE derechohabiente SET intentos_fallidos = (SELECT i.intentos_fallidos FROM intento_identidad i "
        "WHERE i.curp = derechohabiente.curp), bloqueado_hasta = (SELECT i.bloqueado_hasta FROM "
        "intento_identidad i WHERE i.curp = derechohabiente.curp) "
        "WHERE curp IN (SELECT curp FROM intento_identidad)"
    )
    op.drop_index(op.f("ix_clave_idempotencia_expira_en"), table_name="clave_idempotencia")
    op.drop_table("clave_idempotencia")
    op.drop_index("ix_intento_fallido_creado", table_name="intento_fallido")
    op.drop_index("ix_intento_fallido_origen", table_name="intento_fallido")
    op.drop_table("intento_fallido")
    op.drop_table("intento_identidad")
