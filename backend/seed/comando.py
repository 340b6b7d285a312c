"""`python -m backend.seed`: migrations, then personas, offices and citas, and
the synthetic derechohabientes."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session

from backend.privacy import mascara_curp
from backend.seed import citas
from backend.seed.personas import PERSONAS, sembrar_personas
from backend.seed.sinteticos import sembrar_sinteticos
from backend.services.disponibilidad import local

RAIZ = Path(__file__).resolve().parent.parent.parent


def sembrar(
    session: Session, *, count: int, ahora: datetime | None = None, progreso: bool = False
) -> None:
    ahora = ahora or datetime.now(UTC)
    hoy = local(ahora).date()
    sembrar_personas(session, hoy=hoy, ahora=ahora)
    citas.sembrar_oficinas(session)
    citas.sembrar_citas_demo(session, ahora=ahora)
    sembrar_sinteticos(session, count=count, hoy=hoy, ahora=ahora, progreso=progreso)


def base_desechable(url: str) -> bool:
    """True for databases the demo personas may be reset on without --forzar: the
    local default (sqlite:///var/capp.db) and any SQLite file under the repository's
    var/ or the system's temporary folder (tests, the e2e stack, benchmarks)."""
    try:
        u = make_url(url)
    except ArgumentError:
        return False
    if u.get_backend_name() != "sqlite":
        return False
    if not u.database or u.database == ":memory:":
        return True
    ruta = Path(u.database)
    ruta = (ruta if ruta.is_absolute() else Path.cwd() / ruta).resolve()
    return any(ruta.is_relative_to(Path(carpeta).resolve())
               for carpeta in (RAIZ / "var", Path.cwd() / "var", tempfile.gettempdir()))


def main(argv: Sequence[str] | None = None) -> int:
    from backend.db import make_engine, make_sessionmaker
    from backend.migrate import upgrade
    from backend.settings import get_settings

    parser = argparse.ArgumentParser(
        prog="python -m backend.seed", description="Siembra datos de demostración."
    )
    parser.add_argument(
        "--count", type=int, default=1000, help="derechohabientes sintéticos (omisión: 1000)"
    )
    parser.add_argument("--database-url", default=None, help="omisión: DATABASE_URL")
    parser.add_argument(
        "--forzar",
        "--force",
        action="store_true",
        help="siembra aunque la base no sea la local de desarrollo (restablece NIP y "
        "bloqueos de las personas de demostración)",
    )
    args = parser.parse_args(argv)
    if args.count < 0:
        parser.error("--count no puede ser negativo")
    settings = get_settings()
    url = args.database_url or settings.database_url
    if not args.forzar and not base_desechable(url):
        print(
            "No siembro: la base de datos no es la local de desarrollo (sqlite:///var/capp.db) y "
            "la semilla restablece las personas de demostración (NIP conocidos). Si de verdad es "
            "una base de pruebas, repita con --forzar.",
            file=sys.stderr,
        )
        return 2
    upgrade(url)
    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as session:
            inicio = time.monotonic()
            sembrar(session, count=args.count, progreso=True)
            print(f"Semilla lista en {time.monotonic() - inicio:.1f} s. Personas de demostración "
                  "(sus CURP completas y NIP están en README.md):")
            for p in PERSONAS:  # never print a NIP, not even a demo one
                print(
                    f"  {p.clave} {mascara_curp(p.curp)} - {p.nombre} {p.primer_apellido} "
                    f"{p.segundo_apellido}"
                )
    finally:
        engine.dispose()
    return 0
