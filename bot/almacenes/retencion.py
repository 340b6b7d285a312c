"""Retention: conversations hold personal data, so events older than
TRACKER_RETENCION_DIAS days go (whole sessions only), with the WhatsApp
bookkeeping of the same age. The tracker store applies it at start-up and
every few hours; `python -m bot.almacenes retencion` runs it as a job."""

from __future__ import annotations

import json
import logging
import time
from typing import List, Optional

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore

from bot.almacenes.entorno import dias_de_retencion, url_de_almacen
from bot.almacenes.tablas import metadata, pendientes_whatsapp, turnos_whatsapp

logger = logging.getLogger(__name__)


def aplicar_retencion(engine: sa.engine.Engine, dias: float, ahora: Optional[float] = None) -> int:
    """Delete every event older than `dias` days, whole sessions only: the
    sessions before a conversation's latest one, and conversations whose
    latest event is older. Returns the number of events deleted."""
    limite = (ahora or time.time()) - dias * 86400
    events = SQLTrackerStore.SQLEvent.__table__
    e2 = events.alias("e2")
    ultimo_inicio = (
        sa.select(sa.func.max(e2.c.timestamp))
        .where(e2.c.sender_id == events.c.sender_id, e2.c.type_name == "session_started")
        .scalar_subquery()
    )
    e3 = events.alias("e3")
    ultimo_evento = (
        sa.select(sa.func.max(e3.c.timestamp))
        .where(e3.c.sender_id == events.c.sender_id)
        .scalar_subquery()
    )
    with engine.begin() as con:
        borrados = con.execute(
            events.delete().where(
                events.c.timestamp < limite,
                sa.or_(events.c.timestamp < ultimo_inicio, ultimo_evento < limite),
            )
        ).rowcount
        con.execute(turnos_whatsapp.delete().where(turnos_whatsapp.c.creado < limite))
        con.execute(pendientes_whatsapp.delete().where(pendientes_whatsapp.c.creado < limite))
    if borrados:
        logger.info(
            "Retención: %s eventos de conversaciones de más de %s días borrados.", borrados, dias
        )
    return int(borrados or 0)


def principal(argv: Optional[List[str]] = None) -> int:
    """`python -m bot.almacenes retencion [--dias N]` (run from the repository root)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m bot.almacenes")
    sub = parser.add_subparsers(dest="orden", required=True)
    ret = sub.add_parser(
        "retencion", help="borra conversaciones más viejas que TRACKER_RETENCION_DIAS"
    )
    ret.add_argument("--dias", type=float, default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    engine = sa.create_engine(url_de_almacen())
    SQLTrackerStore.Base.metadata.create_all(engine)
    metadata.create_all(engine)
    dias = dias_de_retencion() if args.dias is None else args.dias
    borrados = aplicar_retencion(engine, dias)
    print(json.dumps({"eventos_borrados": borrados, "dias": dias}))
    return 0
