"""Simulations per second of one worker, next to a baseline on the same server.

(a) the service function in-process; (b) over HTTP against a real uvicorn (one
worker, free port, as `make run` starts it) driven by N load processes, each with
a keep-alive httpx client: first the baseline `GET /health` (framework plus one
trivial query), then `POST /api/v1/simulaciones` over a spread of realistic
requests, for the same number of seconds each, alternating for a few rounds.

The load generator shares the machine's cores with the server, so every row
also gives requests per CPU-second of the server process: what the worker
sustains with a core to itself. The target (>= 1,000 simulations/s per worker)
is judged on the observed figure, the conservative one.

    .venv/bin/python bench/simulaciones.py [--segundos 5] [--clientes 2] [--rondas 3]
        [--raiz OTRA_COPIA]

`--raiz` serves the app of another checkout (e.g. an older commit) with this same
load, to compare versions.
"""

from __future__ import annotations

import argparse
import itertools
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from comun import backend_uvicorn, percentil

ROOT = Path(__file__).resolve().parents[1]

OBJETIVO = 1000  # simulations per second per worker (issue 2)
SIM = "/api/v1/simulaciones"

# A spread of realistic requests: seed-004 salary levels, both plazo limits, renovación.
SUELDOS = ["5186.10", "8833.04", "12690.80", "23134.41", "51861.00"]
CASOS: list[dict[str, Any]] = [
    {"producto": "credito_complementario", "sueldo_base_mensual": s, "plazo_quincenas": plazo,
     "anios_cotizacion": anios, "renovacion": renov, "sexo": "M"}
    for s in SUELDOS
    for plazo, anios in ((24, 3), (36, 8), (72, 12))
    for renov in (False, True)
]


@dataclass
class Fila:
    etiqueta: str
    por_segundo: float  # requests/s seen by the clients
    por_cpu: float  # requests per CPU-second of the server process
    p50_ms: float
    p99_ms: float


def en_proceso(segundos: float, raiz: Path) -> float:
    sys.path.insert(0, str(raiz))
    from backend.services.simulacion import simular

    casos: Iterator[dict[str, Any]] = itertools.cycle(
        [{**c, "sueldo_base_mensual": Decimal(c["sueldo_base_mensual"]),
          "anios_cotizacion": Decimal(c["anios_cotizacion"])} for c in CASOS]
    )
    n = 0
    inicio = time.perf_counter()
    fin = inicio + segundos
    while time.perf_counter() < fin:
        for _ in range(100):
            simular(**next(casos))
        n += 100
    return n / (time.perf_counter() - inicio)


def _cpu_segundos(pid: int) -> float:
    """User + system CPU seconds used so far by process `pid` (Linux /proc)."""
    campos = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(campos[11]) + int(campos[12])) / os.sysconf("SC_CLK_TCK")


def _cliente(args: tuple[str, str, str, list[dict[str, Any]] | None, float, int]) -> list[float]:
    """One load process: a keep-alive client sending back to back until the deadline;
    returns each request's latency in seconds."""
    base, metodo, ruta, casos, fin, desfase = args
    tiempos: list[float] = []
    ciclo = itertools.islice(itertools.cycle(casos or [None]), desfase, None)
    with httpx.Client(base_url=base, timeout=10) as cliente:
        while time.time() < fin:
            cuerpo = next(ciclo)
            t0 = time.perf_counter()
            r = cliente.request(metodo, ruta, json=cuerpo)
            tiempos.append(time.perf_counter() - t0)
            if r.status_code != 200:
                raise RuntimeError(f"{metodo} {ruta} -> {r.status_code}: {r.text}")
    return tiempos


def _medir(servidor: subprocess.Popen[bytes], base: str, etiqueta: str, metodo: str, ruta: str,
           casos: list[dict[str, Any]] | None, segundos: float, clientes: int) -> Fila:
    cpu_antes = _cpu_segundos(servidor.pid)
    inicio = time.time()
    with multiprocessing.Pool(clientes) as pool:
        tiempos = pool.map(
            _cliente,
            [(base, metodo, ruta, casos, inicio + segundos, k * 7) for k in range(clientes)],
        )
    duracion = time.time() - inicio
    cpu = _cpu_segundos(servidor.pid) - cpu_antes
    todos = [t * 1000 for lista in tiempos for t in lista]
    return Fila(etiqueta, len(todos) / duracion, len(todos) / cpu if cpu else float("nan"),
                statistics.median(todos), percentil(todos, 99))


def _mediana(filas: list[Fila]) -> Fila:
    """The round with the median throughput (its CPU and latency figures go with it)."""
    return sorted(filas, key=lambda f: f.por_segundo)[len(filas) // 2]


def por_http(segundos: float, clientes: int, raiz: Path, rondas: int) -> list[Fila]:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(raiz)}
        # /health asks the database: give it a migrated one, as `make run` does.
        subprocess.run(
            [sys.executable, "-m", "backend.migrate", url], cwd=raiz, env=env, check=True
        )
        with backend_uvicorn(raiz, env) as (servidor, base):
            casos = [{**c, "sueldo_base_mensual": float(c["sueldo_base_mensual"])} for c in CASOS]
            with httpx.Client(base_url=base, timeout=10) as cliente:
                for _ in range(3):  # warm-up; every case must succeed
                    for c in casos:
                        cliente.post(SIM, json=c).raise_for_status()
                    cliente.get("/health").raise_for_status()
            # Baseline and simulations alternate, round after round, so a busy moment of
            # the machine weighs on both alike; the median round is reported.
            rondas_base, rondas_sim = [], []
            for _ in range(rondas):
                rondas_base.append(
                    _medir(
                        servidor,
                        base,
                        "GET /health (línea base)",
                        "GET",
                        "/health",
                        None,
                        segundos,
                        clientes,
                    )
                )
                rondas_sim.append(
                    _medir(servidor, base, f"POST {SIM}", "POST", SIM, casos, segundos, clientes)
                )
            return [_mediana(rondas_base), _mediana(rondas_sim)]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--segundos", type=float, default=5.0, help="seconds per measured endpoint")
    parser.add_argument(
        "--clientes",
        type=int,
        default=2,
        help="load processes, each with one keep-alive connection",
    )
    parser.add_argument(
        "--rondas",
        type=int,
        default=3,
        help="alternating baseline/simulation rounds (median reported)",
    )
    parser.add_argument(
        "--raiz", type=Path, default=ROOT, help="checkout whose app is measured (default: this one)"
    )
    args = parser.parse_args()
    raiz = args.raiz.resolve()

    print(
        f"app: {raiz}  ({os.cpu_count()} núcleos compartidos entre servidor y {args.clientes} "
        f"cliente(s))"
    )
    print(f"(a) servicio en proceso: {en_proceso(args.segundos, raiz):,.0f} simulaciones/s")
    filas = por_http(args.segundos, args.clientes, raiz, args.rondas)
    print(
        f"(b) HTTP, uvicorn 1 worker, {args.clientes} cliente(s) httpx keep-alive; mediana de "
        f"{args.rondas} "
        f"rondas alternadas de {args.segundos:g} s por operación:"
    )
    print(
        f"    {'operación':<32} {'pet/s':>8} {'pet/s CPU':>10} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'vs base':>8}"
    )
    linea_base = filas[0]
    for f in filas:
        print(
            f"    {f.etiqueta:<32} {f.por_segundo:>8,.0f} {f.por_cpu:>10,.0f} {f.p50_ms:>7.2f} "
            f"{f.p99_ms:>7.2f} "
            f"{f.por_segundo / linea_base.por_segundo:>7.2f}x"
        )
    print(
        "    (pet/s CPU: peticiones por segundo de CPU del proceso servidor, lo que sostiene un "
        "worker con un núcleo propio)"
    )
    sim = filas[-1]
    estado = "CUMPLE" if sim.por_segundo >= OBJETIVO else (
        "cumple solo con un núcleo propio" if sim.por_cpu >= OBJETIVO else "NO CUMPLE")
    print(f"objetivo >= {OBJETIVO:,} simulaciones/s por worker: {estado} "
          f"({sim.por_segundo:,.0f}/s observadas, {sim.por_cpu:,.0f}/s por segundo de CPU)")


if __name__ == "__main__":
    main()
