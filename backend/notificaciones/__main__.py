"""`python -m backend.notificaciones`: deliver queued SMS/WhatsApp notifications.

One pass by default (cron-friendly); `--loop` keeps running every `--intervalo`
seconds until interrupted. Exit code 2 when Twilio is not configured."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from datetime import UTC, datetime

from backend.db import make_engine, make_sessionmaker
from backend.privacy import FiltroPrivacidad
from backend.services.notificaciones import cliente_twilio, enviar_pendientes
from backend.settings import get_settings

log = logging.getLogger("backend.notificaciones")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m backend.notificaciones",
                                     description="Envía las notificaciones pendientes (SMS/WhatsApp) por Twilio.")
    parser.add_argument("--loop", action="store_true", help="seguir enviando hasta interrumpir")
    parser.add_argument("--intervalo", type=float, default=15.0, help="segundos entre pasadas (con --loop)")
    parser.add_argument("--lote", type=int, default=50, help="máximo de mensajes por pasada")
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    for handler in logging.getLogger().handlers:
        handler.addFilter(FiltroPrivacidad())
    settings = get_settings()
    try:
        client = cliente_twilio(settings)
    except RuntimeError as exc:
        log.error("%s", exc)
        return 2

    engine = make_engine(settings.database_url)
    factory = make_sessionmaker(engine)
    parar = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: parar.set())
    try:
        while True:
            resumen = enviar_pendientes(factory, settings, ahora=datetime.now(UTC), client=client,
                                        lote=args.lote)
            log.info("pasada: %s", resumen)
            if not args.loop or parar.wait(args.intervalo):
                break
    except KeyboardInterrupt:
        pass
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
