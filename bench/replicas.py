"""What Rasa replicas buy: the saldo NIP turn alone and in bursts, on the production shape.

    .venv/bin/python bench/replicas.py [--replicas 1,2] [--rafaga 32] [--rafagas 2]
        [--secuenciales 15]

For each replica count N it starts tools/cluster.py's deployment (`make cluster`):
PostgreSQL tracker store, Redis lock store, N Rasa replicas and N action servers
behind nginx, two backend workers. Beside it runs Rasa's own `rasa init` bot
(bench/turnos.py's baseline, same .venv-rasa). Over REST, through nginx:

  1. `--secuenciales` saldo conversations one after another; only the NIP turn is
     timed ("quiero saber mi saldo" -> CURP -> NIP);
  2. `--rafagas` times: `--rafaga` concurrent bare turns, then `--rafaga` saldo
     conversations whose NIP turns start together.

Prints p50/p95/p99 per replica count and the burst's p95 over the bare burst's
p95 of the same round. bench/turnos.py measures the single-process stack
(`make run`: SQLite tracker, in-memory lock store) and breaks the turn down.
Asserts nothing; a NIP turn without the saldo in its answer is counted as a failure.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import tempfile
import time
from pathlib import Path

from comun import percentil
from turnos import (
    PERSONAS,
    Conversaciones,
    al_menos_uno,
    arrancar_base,
    base_lista,
    fmt,
    nuevo_sender,
    parser_de,
    tabla,
)

from tests import pgcluster
from tests.e2e.stack import free_port
from tools.cluster import Cluster


class Corrida(Conversaciones):
    """One deployment's clients and timings: the assistant through nginx."""

    def __init__(self, cluster: Cluster, base_url: str, conexiones: int) -> None:
        super().__init__(cluster.public_url, cluster.rasa_token, base_url, conexiones, timeout=90)
        self.cluster = cluster

    async def secuencial(self, clase: str) -> None:
        sender = nuevo_sender("s")
        curp, nip = PERSONAS[0]
        if not await self.preparar_saldo(sender, curp):
            self.fallas[clase] += 1
        await self.turno_nip(sender, nip, clase)

    async def rafaga(self, n: int) -> None:
        await asyncio.gather(*(self.bare("rafaga_bare") for _ in range(n)))
        senders = [nuevo_sender("r") for _ in range(n)]
        personas = [PERSONAS[i % len(PERSONAS)] for i in range(n)]
        listos = await asyncio.gather(
            *(self.preparar_saldo(s, p[0]) for s, p in zip(senders, personas, strict=True))
        )
        self.fallas["rafaga_nip"] += listos.count(False)
        await asyncio.gather(
            *(self.turno_nip(s, p[1], "rafaga_nip") for s, p in zip(senders, personas, strict=True))
        )


async def medir(cluster: Cluster, base_url: str, args: argparse.Namespace) -> Corrida:
    corrida = Corrida(cluster, base_url, conexiones=max(2 * args.rafaga, 16))
    try:
        # warm-up: models, connection pools, every replica
        for _ in range(3 * len(cluster.rasa_ports)):
            await corrida.secuencial("calentamiento")
        corrida.tiempos.clear()
        corrida.fallas.clear()
        for _ in range(args.secuenciales):
            await corrida.secuencial("nip")
        for n in range(args.rafagas):
            print(
                f"    ráfaga {n + 1}/{args.rafagas}: {args.rafaga} turnos bare, luego "
                f"{args.rafaga} turnos del NIP",
                flush=True,
            )
            await corrida.rafaga(args.rafaga)
    finally:
        await corrida.cerrar()
    return corrida


def fila(replicas: int, corrida: Corrida) -> list[str]:
    t = corrida.tiempos
    nip, rafaga, bare = t.get("nip", []), t.get("rafaga_nip", []), t.get("rafaga_bare", [])
    if not (nip and rafaga and bare):
        return [str(replicas)] + ["-"] * 8
    return [
        str(replicas),
        fmt(percentil(nip, 50)),
        fmt(percentil(nip, 95)),
        fmt(percentil(bare, 95)),
        fmt(percentil(rafaga, 50)),
        fmt(percentil(rafaga, 95)),
        fmt(percentil(rafaga, 99)),
        f"{percentil(rafaga, 95) / percentil(bare, 95):.2f}",
        str(sum(corrida.fallas.values())),
    ]


async def principal(args: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="bench-replicas-"))
    inicio = time.monotonic()
    pg = pgcluster.start()
    base, base_url = arrancar_base(workdir)
    filas = []
    try:
        base_lista(base)
        for replicas in args.replicas:
            print(
                f"==> {replicas} réplica(s) de Rasa y {replicas} servidor(es) de acciones detrás "
                f"de nginx",
                flush=True,
            )
            cluster = Cluster(workdir / f"r{replicas}", pg.url,
                              rasa_ports=[free_port() for _ in range(replicas)],
                              actions_ports=[free_port() for _ in range(replicas)])
            try:
                cluster.start()
                filas.append(fila(replicas, await medir(cluster, base_url, args)))
            except Exception:
                print(cluster.logs())
                raise
            finally:
                cluster.stop()
    finally:
        base.stop()
        pg.stop()
    print(
        f"\nTurno del NIP en la forma de producción (PostgreSQL + Redis + nginx), ms; ráfagas de "
        f"{args.rafaga}"
    )
    print(
        tabla(
            [
                "réplicas",
                "NIP p50",
                "NIP p95",
                "bare ráfaga p95",
                "ráfaga NIP p50",
                "ráfaga NIP p95",
                "ráfaga NIP p99",
                "p95/bare",
                "fallas",
            ],
            filas,
        )
    )
    print(f"\n(corrida completa en {time.monotonic() - inicio:.0f} s; {os.cpu_count()} núcleos; "
          f"{args.secuenciales} turnos secuenciales y {args.rafagas} ráfagas por configuración)")
    if not args.conservar:
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    parser = parser_de(__doc__)
    parser.add_argument(
        "--replicas", default="1,2", help="cuántas réplicas de Rasa probar, separadas por comas"
    )
    parser.add_argument("--rafaga", type=int, default=32, help="turnos simultáneos en cada ráfaga")
    parser.add_argument("--rafagas", type=int, default=2, help="cuántas ráfagas por configuración")
    parser.add_argument("--secuenciales", type=int, default=15, help="turnos del NIP de uno en uno")
    args = parser.parse_args()
    try:
        args.replicas = [int(x) for x in str(args.replicas).split(",") if x.strip()]
    except ValueError:
        parser.error("--replicas: números enteros separados por comas, p. ej. 1,2")
    if not args.replicas or min(args.replicas) < 1:
        parser.error("--replicas: al menos una réplica")
    al_menos_uno(parser, args, "rafaga", "rafagas", "secuenciales")
    asyncio.run(principal(args))


if __name__ == "__main__":
    main()
