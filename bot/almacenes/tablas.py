"""The tables this package keeps next to Rasa's events, in the tracker store's
database: the replica registry and the WhatsApp channel's bookkeeping."""

from __future__ import annotations

import time

import sqlalchemy as sa

metadata = sa.MetaData()

replicas = sa.Table(
    "capp_replicas_rasa",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("host", sa.String(255), nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("cerrojo", sa.String(16), nullable=False),
    sa.Column("visto", sa.Float, nullable=False),
)

# WhatsApp turns accepted and not yet answered (see channels/whatsapp.py).
turnos_whatsapp = sa.Table(
    "capp_whatsapp_turnos",
    metadata,
    sa.Column("message_sid", sa.String(64), primary_key=True),
    sa.Column("remitente", sa.String(128), nullable=False, index=True),
    sa.Column("datos", sa.Text, nullable=False),
    # Until when the replica running the turn vouches for it.
    sa.Column("vence", sa.Float, nullable=False, index=True),
    sa.Column("replica", sa.String(64), nullable=False),
    sa.Column("creado", sa.Float, nullable=False),
)

# Late replies waiting for the person's next message (no outbound client).
pendientes_whatsapp = sa.Table(
    "capp_whatsapp_pendientes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("remitente", sa.String(128), nullable=False, index=True),
    sa.Column("mensaje", sa.Text, nullable=False),
    sa.Column("creado", sa.Float, nullable=False),
)


def crear_tablas(engine: sa.engine.Engine) -> None:
    """Our tables; replicas starting together may race to create them (as
    Rasa's own store notes): the loser checks they exist and goes on."""
    for intento in range(3):
        try:
            metadata.create_all(engine)
            return
        except (sa.exc.ProgrammingError, sa.exc.IntegrityError, sa.exc.OperationalError):
            if intento == 2:
                raise
            time.sleep(0.5)
