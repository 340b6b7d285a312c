"""The whole schema: derechohabientes and loans, offices and citas, FOPI, the
notifications outbox, identity locks, failed attempts and idempotency keys

Revision ID: 0007
Revises:

Revisions 0001-0006 were squashed into this one, which kept the id of the old
head: a database already at 0007 is untouched by `upgrade head`, an empty one
gets every table at once. A database left at 0001-0006 must first be brought to
0007 with a checkout from before the squash (README, Operación).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = None
branch_labels = None
depends_on = None

# Every table, parents first; downgrade drops them in the reverse order.
TABLAS = (
    "derechohabiente", "prestamo", "movimiento", "oficina", "cita", "cita_evento", "fopi", "notificacion",
    "cita_intento_cancelacion", "intento_identidad", "intento_fallido", "clave_idempotencia",
)


def _cuando(nombre: str, nulo: bool = False) -> sa.Column:
    return sa.Column(nombre, sa.DateTime(timezone=True), nullable=nulo)


def _dinero(nombre: str, nulo: bool = False) -> sa.Column:
    return sa.Column(nombre, sa.Numeric(precision=12, scale=2), nullable=nulo)


def _texto(nombre: str, largo: int, nulo: bool = False) -> sa.Column:
    return sa.Column(nombre, sa.String(length=largo), nullable=nulo)


def _entero(nombre: str, nulo: bool = False) -> sa.Column:
    return sa.Column(nombre, sa.Integer(), nullable=nulo)


def _id(tabla: str) -> tuple[sa.Column, sa.PrimaryKeyConstraint]:
    return _entero("id"), sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{tabla}"))


def _fk(tabla: str, columna: str, destino: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([columna], [f"{destino}.id"], name=op.f(f"fk_{tabla}_{columna}_{destino}"))


def _unica(tabla: str, columna: str) -> sa.UniqueConstraint:
    return sa.UniqueConstraint(columna, name=op.f(f"uq_{tabla}_{columna}"))


def upgrade() -> None:
    op.create_table(
        "derechohabiente", *_id("derechohabiente"),
        _texto("curp", 18), _texto("nombre", 80), _texto("primer_apellido", 80),
        _texto("segundo_apellido", 80, nulo=True), _texto("sexo", 1), sa.Column("fecha_nacimiento", sa.Date(), nullable=False),
        _texto("tipo", 12), _texto("dependencia", 120, nulo=True), _dinero("sueldo_base_mensual"),
        _entero("anios_cotizacion"), _texto("telefono", 20, nulo=True), _texto("email", 120, nulo=True),
        _texto("nip_hash", 200), _cuando("creado_en"),
    )
    op.create_index(op.f("ix_derechohabiente_curp"), "derechohabiente", ["curp"], unique=True)

    op.create_table(
        "prestamo", *_id("prestamo"),
        _texto("folio", 20), _entero("derechohabiente_id"), _texto("producto", 40), _dinero("monto"),
        _entero("plazo_quincenas"), sa.Column("tasa_anual", sa.Numeric(precision=6, scale=4), nullable=False),
        _dinero("descuento_quincenal"), sa.Column("fecha_otorgamiento", sa.Date(), nullable=False),
        sa.Column("fecha_primer_descuento", sa.Date(), nullable=False), _texto("estatus", 12),
        sa.Column("fecha_liquidacion", sa.Date(), nullable=True), _cuando("creado_en"),
        _fk("prestamo", "derechohabiente_id", "derechohabiente"), _unica("prestamo", "folio"),
    )
    op.create_index("ix_prestamo_dh_estatus", "prestamo", ["derechohabiente_id", "estatus"])

    op.create_table(
        "movimiento", *_id("movimiento"),
        _entero("prestamo_id"), _entero("quincena", nulo=True), sa.Column("fecha", sa.Date(), nullable=False),
        _dinero("monto"), _texto("origen", 16), _texto("referencia", 40, nulo=True), _cuando("creado_en"),
        _fk("movimiento", "prestamo_id", "prestamo"),
        sa.UniqueConstraint("origen", "referencia", name="uq_movimiento_origen_referencia"),
    )
    op.create_index("ix_movimiento_prestamo_fecha", "movimiento", ["prestamo_id", "fecha"])

    op.create_table(
        "oficina", *_id("oficina"),
        _texto("clave", 20), _texto("nombre", 160), _texto("estado", 60), _texto("ciudad", 80),
        _texto("direccion", 300), _texto("telefono", 40, nulo=True), _texto("horario", 120),
        _entero("ventanillas"), sa.Column("activa", sa.Boolean(), nullable=False), _cuando("creado_en"),
        _unica("oficina", "clave"),
    )

    op.create_table(
        "cita", *_id("cita"),
        _texto("clave", 6), _entero("derechohabiente_id"), _entero("oficina_id"), _cuando("inicio"),
        _cuando("fin"), _entero("lugar", nulo=True), _texto("estatus", 10), _texto("canal_notificacion", 10),
        _cuando("creado_en"), _cuando("cancelada_en", nulo=True),
        _fk("cita", "derechohabiente_id", "derechohabiente"), _fk("cita", "oficina_id", "oficina"),
        _unica("cita", "clave"),
        # Capacity: one row per (office, slot, place); cancelled citas free their place (lugar NULL).
        sa.UniqueConstraint("oficina_id", "inicio", "lugar", name="uq_cita_oficina_inicio_lugar"),
    )
    op.create_index("ix_cita_derechohabiente", "cita", ["derechohabiente_id"])
    op.create_index("ix_cita_estatus_inicio", "cita", ["estatus", "inicio"])
    # One AGENDADA cita per person, enforced by the database (also under races).
    op.create_index(
        "uq_cita_agendada_por_derechohabiente", "cita", ["derechohabiente_id"], unique=True,
        sqlite_where=sa.text("estatus = 'AGENDADA'"), postgresql_where=sa.text("estatus = 'AGENDADA'"),
    )

    op.create_table(
        "cita_evento", *_id("cita_evento"),
        _entero("cita_id"), _texto("estatus", 10), _cuando("registrado_en"), _texto("origen", 20, nulo=True),
        _fk("cita_evento", "cita_id", "cita"),
    )
    op.create_index("ix_cita_evento_cita", "cita_evento", ["cita_id"])

    op.create_table(
        "fopi", *_id("fopi"),
        _texto("referencia", 20), _entero("prestamo_id"), _texto("concepto", 16), _dinero("monto"),
        _dinero("interes_moratorio", nulo=True), sa.Column("quincenas", sa.JSON(), nullable=True),
        sa.Column("fecha_emision", sa.Date(), nullable=False), sa.Column("vigencia", sa.Date(), nullable=False),
        _texto("estatus", 10), sa.Column("fecha_pago", sa.Date(), nullable=True), _texto("banco", 60, nulo=True),
        _texto("folio_banco", 40, nulo=True), _cuando("pagado_en", nulo=True), _cuando("creado_en"),
        _cuando("actualizado_en"),
        _fk("fopi", "prestamo_id", "prestamo"), _unica("fopi", "referencia"),
    )
    op.create_index("ix_fopi_prestamo_estatus", "fopi", ["prestamo_id", "estatus"])

    op.create_table(
        "notificacion", *_id("notificacion"),
        _texto("clave_unica", 80), _texto("tipo", 30), _texto("canal", 10), _texto("destino", 20),
        sa.Column("cuerpo", sa.Text(), nullable=False), _entero("derechohabiente_id", nulo=True),
        _entero("cita_id", nulo=True), _texto("adjunto_tipo", 30, nulo=True), _texto("adjunto_id", 40, nulo=True),
        _texto("estado", 12), _entero("intentos"), _cuando("proximo_intento"), _cuando("reclamada_hasta", nulo=True),
        _texto("twilio_sid", 40, nulo=True), _texto("ultimo_error", 300, nulo=True), _cuando("creado_en"),
        _cuando("enviada_en", nulo=True), _texto("reclamo", 32, nulo=True),
        _fk("notificacion", "derechohabiente_id", "derechohabiente"), _fk("notificacion", "cita_id", "cita"),
        _unica("notificacion", "clave_unica"), _unica("notificacion", "twilio_sid"),
    )
    op.create_index("ix_notificacion_estado_proximo", "notificacion", ["estado", "proximo_intento"])

    op.create_table(
        "cita_intento_cancelacion",
        _texto("clave", 6), _entero("intentos_fallidos"), _cuando("bloqueado_hasta", nulo=True),
        _cuando("actualizado_en"),
        sa.PrimaryKeyConstraint("clave", name=op.f("pk_cita_intento_cancelacion")),
    )

    op.create_table(
        "intento_identidad",
        _texto("curp", 18), _entero("intentos_fallidos"), _cuando("bloqueado_hasta", nulo=True),
        _entero("bloqueos"), _cuando("actualizado_en"),
        sa.PrimaryKeyConstraint("curp", name=op.f("pk_intento_identidad")),
    )

    op.create_table(
        "intento_fallido", *_id("intento_fallido"),
        _texto("ambito", 20), _texto("origen", 64), _cuando("creado_en"),
    )
    op.create_index("ix_intento_fallido_origen", "intento_fallido", ["ambito", "origen", "creado_en"])
    op.create_index("ix_intento_fallido_creado", "intento_fallido", ["ambito", "creado_en"])

    op.create_table(
        "clave_idempotencia",
        _texto("clave", 128), _texto("huella", 64), _entero("status", nulo=True),
        sa.Column("cuerpo", sa.Text(), nullable=True), _cuando("creado_en"), _cuando("expira_en"),
        sa.PrimaryKeyConstraint("clave", name=op.f("pk_clave_idempotencia")),
    )
    op.create_index(op.f("ix_clave_idempotencia_expira_en"), "clave_idempotencia", ["expira_en"])


def downgrade() -> None:
    # Dropping a table drops its indexes too (both databases).
    for tabla in reversed(TABLAS):
        op.drop_table(tabla)
