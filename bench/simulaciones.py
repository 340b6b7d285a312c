"""Simulations per second with one worker.

(a) the service function in-process; (b) over HTTP against a real uvicorn
(1 worker, free port) driven by N load processes, each with a keep-alive httpx
client. The load generator shares the machine with the server, so (b) also
prints requests per CPU-second of the server process: what one worker sustains
when it has a core to itself.

    .venv/bin/python bench/simulaciones.py [--segundos 5] [--clientes 2]
"""

from __future__ import annotations

import argparse
import itertools
import multiprocessing
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from backend.services.simulacion import simular  # noqa: E402

# A spread of realistic requests: seed-004 salary levels, both plazo limits, renovación.
SUELDOS = ["5186.10", "8833.04", "12690.80", "23134.41", "51861.00"]
CASOS: list[dict[str, Any]] = [
    {"producto": "credito_complementario", "sueldo_base_mensual": s, "plazo_quincenas": plazo,
     "anios_cotizacion": anios, "renovacion": renov, "sexo": "M"}
    for s in SUELDOS
    for plazo, anios in ((24, 3), (36, 8), (72, 12))
    for renov in (False, True)
]


def en_proceso(segundos: float) -> float:
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


def _puerto_libre() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def por_http(segundos: float, clientes: int) -> tuple[float, float]:
    """(requests/s seen by the clients, requests per CPU-second of the server process)."""
    puerto = _puerto_libre()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp}/bench.db", "PYTHONPATH": str(ROOT)}
        servidor = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "backend.main:app", "--host", "127.0.0.1",
             "--port", str(puerto), "--workers", "1", "--log-level", "warning", "--no-access-log"],
            cwd=ROOT, env=env,
        )
        try:
            base = f"http://127.0.0.1:{puerto}"
            with httpx.Client(base_url=base, timeout=10) as cliente:
                for _ in range(100):
                    try:
                        cliente.get("/api/v1/productos")
                        break
                    except httpx.TransportError:
                        time.sleep(0.1)
                casos = [{**c, "sueldo_base_mensual": float(c["sueldo_base_mensual"])} for c in CASOS]
                for c in casos:  # warm-up, and every case must succeed
                    r = cliente.post("/api/v1/simulaciones", json=c)
                    r.raise_for_status()
            cpu_antes = _cpu_segundos(servidor.pid)
            inicio = time.time()
            fin = inicio + segundos
            with multiprocessing.Pool(clientes) as pool:
                cuentas = pool.map(_cliente, [(base, casos, fin, k * 7) for k in range(clientes)])
            duracion = time.time() - inicio
            cpu = _cpu_segundos(servidor.pid) - cpu_antes
            total = sum(cuentas)
            return total / duracion, total / cpu if cpu else float("nan")
        finally:
            servidor.terminate()
            servidor.wait(timeout=10)


def _cliente(args: tuple[str, list[dict], float, int]) -> int:
    """One load process: a keep-alive httpx client posting back to back until the deadline."""
    base, casos, fin, desfase = args
    cuenta = 0
    ciclo = itertools.islice(itertools.cycle(casos), desfase, None)
    with httpx.Client(base_url=base, timeout=10) as cliente:
        while time.time() < fin:
            r = cliente.post("/api/v1/simulaciones", json=next(ciclo))
            if r.status_code != 200:
                raise RuntimeError(f"{r.status_code}: {r.text}")
            cuenta += 1
    return cuenta


def _cpu_segundos(pid: int) -> float:
    """User + system CPU seconds used so far by process `pid` (Linux /proc)."""
    campos = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(campos[11]) + int(campos[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--segundos", type=float, default=5.0)
    parser.add_argument("--clientes", type=int, default=2,
                        help="load processes, each with one keep-alive connection")
    args = parser.parse_args()
    print(f"(a) servicio en proceso: {en_proceso(args.segundos):,.0f} simulaciones/s")
    observada, capacidad = por_http(args.segundos, args.clientes)
    print(f"(b) HTTP, uvicorn 1 worker, {args.clientes} cliente(s) httpx keep-alive: "
          f"{observada:,.0f} simulaciones/s observadas")
    # The load generator shares the CPU with the server; requests per CPU-second of the
    # server process is what one worker sustains when it has a core to itself.
    print(f"    capacidad del worker: {capacidad:,.0f} simulaciones por segundo de CPU del servidor")


if __name__ == "__main__":
    main()
