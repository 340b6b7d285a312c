"""`python -m backend.notificaciones`: deliver queued SMS/WhatsApp notifications.

One pass by default (cron-friendly); `--loop` keeps running every `--intervalo`
seconds until interrupted (SIGTERM or Ctrl-C). Without Twilio credentials it
still schedules the 48 h reminders and keeps the messages in the outbox, saying
once that delivery is off; a failing pass (e.g. the database is unreachable) is
logged and the loop goes on. Operator tools: `--inciertas` lists the messages
whose delivery is uncertain, `--reencolar ID` sends one again.

Exit codes: 0 ok, 1 a one-shot pass failed, 2 bad arguments (argparse) or an
unknown id for `--reencolar`."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from datetime import UTC, datetime

from backend.db import make_engine, make_sessionmaker
from backend.privacy import instalar_privacidad
from backend.services.envio_notificaciones import (
    enviar_pendientes,
    faltante_para_entregar,
    sin_telefonos,
)
from backend.services.notificaciones import inciertas, reencolar
from backend.settings import get_settings

log = logging.getLogger("backend.notificaciones")


def _ahora() -> datetime:
    return datetime.now(UTC)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m backend.notificaciones",
        description="Envía las notificaciones pendientes (SMS/WhatsApp) por Twilio.",
    )
    parser.add_argument("--loop", action="store_true", help="seguir enviando hasta interrumpir")
    parser.add_argument(
        "--intervalo", type=float, default=15.0, help="segundos entre pasadas (con --loop)"
    )
    parser.add_argument("--lote", type=int, default=50, help="máximo de mensajes por pasada")
    parser.add_argument(
        "--inciertas",
        action="store_true",
        help="listar los mensajes cuyo envío es incierto (revíselos en la consola de Twilio)",
    )
    parser.add_argument(
        "--reencolar",
        type=int,
        metavar="ID",
        help="volver a enviar un mensaje INCIERTA o FALLIDA tras revisarlo en Twilio",
    )
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    instalar_privacidad()  # messages, arguments and tracebacks, on every handler
    settings = get_settings()
    engine = make_engine(settings.database_url)
    factory = make_sessionmaker(engine)
    try:
        if args.inciertas or args.reencolar is not None:
            return _operador(factory, args)
        motivo = faltante_para_entregar(settings)
        if motivo:
            log.warning(
                "Entrega de SMS/WhatsApp desactivada (%s): se programan los recordatorios y los "
                "mensajes quedan en la bandeja de salida.",
                motivo,
            )
        return _pasadas(factory, settings, args)
    finally:
        engine.dispose()


def _operador(factory, args: argparse.Namespace) -> int:  # type: ignore[no-untyped-def]
    with factory() as session:
        if args.reencolar is not None:
            if not reencolar(session, notificacion_id=args.reencolar, ahora=_ahora()):
                print(
                    f"No hay un mensaje INCIERTA o FALLIDA con id {args.reencolar}.",
                    file=sys.stderr,
                )
                return 2
            print(f"Mensaje {args.reencolar} reencolado; se enviará en la siguiente pasada.")
            return 0
        filas = inciertas(session)
        for n in filas:
            print(
                f"{n.id}\t{n.tipo}\t{n.canal}\t{sin_telefonos(n.destino)}\t"
                f"{n.creado_en:%Y-%m-%d %H:%M}\t{n.ultimo_error or ''}"
            )
        print(f"{len(filas)} mensaje(s) con envío incierto.")
        return 0


def _pasadas(factory, settings, args: argparse.Namespace) -> int:  # type: ignore[no-untyped-def]
    parar = threading.Event()
    if args.loop:
        signal.signal(signal.SIGTERM, lambda *_: parar.set())
    try:
        while True:
            try:
                resumen = enviar_pendientes(
                    factory, settings, ahora=_ahora(), lote=args.lote, reloj=_ahora
                )
            except Exception as exc:  # noqa: BLE001 - a pass may fail (database down); the loop goes on
                primera = (str(exc).splitlines() or [""])[0]  # no SQL parameters in the log
                log.error(
                    "la pasada falló (%s: %s); se reintenta en %.0f s",
                    type(exc).__name__,
                    sin_telefonos(primera)[:200],
                    args.intervalo,
                )
                if not args.loop:
                    return 1
            else:
                if resumen.hubo_actividad or not args.loop:
                    log.info("pasada: %s", resumen)
            if not args.loop or parar.wait(args.intervalo):
                return 0
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
