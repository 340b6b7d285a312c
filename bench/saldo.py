"""Saldo lookup latency (p50/p99, ms) with N derechohabientes, on SQLite and PostgreSQL.

    .venv/bin/python bench/saldo.py [--count 1000000] [--muestras 2000] [--postgres-url URL]
        [--solo sqlite|postgresql]

Seeds with `backend.seed` (idempotent; the SQLite file under var/bench/ is reused
between runs), then measures, for random people with a vigente loan:
  - servicio: backend.services.prestamos.saldo_vigente in-process, a fresh session each call;
  - http saldo: GET /api/v1/prestamos/saldo with a valid token against a real uvicorn
    (one worker) over keep-alive HTTP, next to the baseline `http /health` on the same server.
Without --postgres-url a throwaway cluster is started with tests/pgcluster.py.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from comun import backend_uvicorn, percentil  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from backend.db import make_engine, make_sessionmaker  # noqa: E402
from backend.migrate import upgrade  # noqa: E402
from backend.models import Derechohabiente, Prestamo  # noqa: E402
from backend.security import emitir_token  # noqa: E402
from backend.seed import sembrar  # noqa: E402
from backend.services.prestamos import saldo_vigente  # noqa: E402
from backend.settings import BackendSettings  # noqa: E402
from tests.pgcluster import base_nueva  # noqa: E402


def medir(
    nombre: str, url: str, count: int, muestras: int
) -> list[tuple[str, str, int, float, float, float]]:
    print(f"==> {nombre}: migrando y sembrando {count:,} derechohabientes", flush=True)
    upgrade(url)
    engine = make_engine(url, pool_size=5) if not url.startswith("sqlite") else make_engine(url)
    factory = make_sessionmaker(engine)
    inicio = time.monotonic()
    with factory() as s:
        sembrar(s, count=count, progreso=True)
    print(f"    semilla: {time.monotonic() - inicio:.1f} s", flush=True)
    with factory() as s:
        total = s.scalar(select(func.count()).select_from(Derechohabiente))
        ids = list(
            s.scalars(
                select(Prestamo.derechohabiente_id)
                .where(Prestamo.estatus == "VIGENTE")
                .order_by(func.random())
                .limit(muestras)
            )
        )
    hoy = datetime.now(ZoneInfo("America/Mexico_City")).date()
    filas = []

    tiempos = []
    for dh_id in ids[:50]:  # warm-up: caches, connections
        with factory() as s:
            saldo_vigente(s, derechohabiente_id=dh_id, al=hoy)
    for dh_id in ids:
        t0 = time.perf_counter()
        with factory() as s:
            saldo_vigente(s, derechohabiente_id=dh_id, al=hoy)
        tiempos.append((time.perf_counter() - t0) * 1000)
    filas.append(
        (
            nombre,
            "servicio",
            total,
            statistics.median(tiempos),
            percentil(tiempos, 99),
            max(tiempos),
        )
    )

    secreto = "bench-" + "x" * 32
    settings = BackendSettings(database_url=url, token_secret=secreto)
    with factory() as s:
        tokens = [emitir_token(s.get(Derechohabiente, dh_id), settings)[0] for dh_id in ids]  # type: ignore[arg-type]

    # A real uvicorn with one worker, as in production, driven over keep-alive HTTP.
    # Baseline in the same run: GET /health on the same server (framework + one
    # trivial query), so the saldo's own cost is the difference.
    env = {**os.environ, "DATABASE_URL": url, "TOKEN_SECRET": secreto}
    with (
        backend_uvicorn(ROOT, env) as (_servidor, base),
        httpx.Client(base_url=base, timeout=10) as client,
    ):
        for etiqueta, peticiones in (
            ("http /health", [("/health", {}) for _ in tokens]),
            (
                "http saldo",
                [("/api/v1/prestamos/saldo", {"Authorization": f"Bearer {t}"}) for t in tokens],
            ),
        ):
            for ruta, cab in peticiones[:50]:
                client.get(ruta, headers=cab)
            tiempos = []
            for ruta, cab in peticiones:
                t0 = time.perf_counter()
                r = client.get(ruta, headers=cab)
                tiempos.append((time.perf_counter() - t0) * 1000)
                assert r.status_code == 200, r.text
            filas.append(
                (
                    nombre,
                    etiqueta,
                    total,
                    statistics.median(tiempos),
                    percentil(tiempos, 99),
                    max(tiempos),
                )
            )
    engine.dispose()
    return filas


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--muestras", type=int, default=2000)
    parser.add_argument("--postgres-url", default=None)
    parser.add_argument("--solo", choices=("sqlite", "postgresql"), default=None)
    args = parser.parse_args()
    random.seed(0)

    filas = []
    if args.solo in (None, "sqlite"):
        db = ROOT / "var" / "bench" / f"saldo-{args.count}.db"
        db.parent.mkdir(parents=True, exist_ok=True)
        filas += medir("SQLite", f"sqlite:///{db}", args.count, args.muestras)
    if args.solo in (None, "postgresql"):
        cluster = None
        url = args.postgres_url
        if url is None:
            from tests import pgcluster

            cluster = pgcluster.start()
            url = base_nueva(cluster.url, "capp_bench")
        try:
            filas += medir("PostgreSQL", url, args.count, args.muestras)
        finally:
            if cluster is not None:
                cluster.stop()

    print()
    print(f"Consulta de saldo ({args.muestras} muestras, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC)")
    print(
        f"{'base':<11} {'modo':<13} {'derechohabientes':>17} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'máx ms':>8}"
    )
    for base, modo, total, p50, p99, maximo in filas:
        print(f"{base:<11} {modo:<13} {total:>17,} {p50:>8.2f} {p99:>8.2f} {maximo:>8.2f}")
    peor = max(f[4] for f in filas if f[1] != "http /health")
    print(f"p99 más alto: {peor:.2f} ms (objetivo <= 20 ms): {'OK' if peor <= 20 else 'NO CUMPLE'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
