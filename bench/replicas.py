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
import uuid
from collections import defaultdict
from pathlib import Path

import httpx
from comun import percentil
from turnos import PERSONAS, REST, arrancar_base, fmt, ms, tabla

from tests import pgcluster
from tests.e2e.stack import free_port
from tools.cluster import Cluster


class Corrida:
    """One deployment's clients and timings."""

    def __init__(self, cluster: Cluster, base_url: str, conexiones: int) -> None:
        self.cluster = cluster
        self.base_url = base_url
        limites = httpx.Limits(max_connections=conexiones, max_keepalive_connections=conexiones)
        self.http = httpx.AsyncClient(timeout=90, limits=limites)
        self.tiempos: dict[str, list[float]] = defaultdict(list)
        self.fallas: dict[str, int] = defaultdict(int)

    async def decir(self, sender: str, mensaje: str) -> tuple[float, str]:
        inicio = time.perf_counter()
        r = await self.http.post(
            self.cluster.public_url + REST,
            json={"sender": sender, "message": mensaje},
            headers={"Authorization": f"Bearer {self.cluster.rasa_token}"},
        )
        transcurrido = ms(time.perf_counter() - inicio)
        textos = (
            " ".join(str(m.get("text") or "") for m in r.json()) if r.status_code == 200 else ""
        )
        return transcurrido, textos

    async def bare(self) -> None:
        inicio = time.perf_counter()
        r = await self.http.post(
            self.base_url + REST, json={"sender": _sender("b"), "message": "hello"}
        )
        self.tiempos["rafaga_bare"].append(ms(time.perf_counter() - inicio))
        if r.status_code != 200 or not r.json():
            self.fallas["rafaga_bare"] += 1

    async def preparar(self, sender: str, curp: str) -> bool:
        _, a = await self.decir(sender, "quiero saber mi saldo")
        _, b = await self.decir(sender, curp)
        return bool(a) and bool(b)

    async def nip(self, sender: str, nip: str, clase: str) -> None:
        t, textos = await self.decir(sender, nip)
        self.tiempos[clase].append(t)
        if "saldo deudor" not in textos.lower():
            self.fallas[clase] += 1

    async def secuencial(self, clase: str) -> None:
        sender = _sender("s")
        curp, nip = PERSONAS[0]
        if not await self.preparar(sender, curp):
            self.fallas[clase] += 1
        await self.nip(sender, nip, clase)

    async def rafaga(self, n: int) -> None:
        await asyncio.gather(*(self.bare() for _ in range(n)))
        senders = [_sender("r") for _ in range(n)]
        personas = [PERSONAS[i % len(PERSONAS)] for i in range(n)]
        listos = await asyncio.gather(
            *(self.preparar(s, p[0]) for s, p in zip(senders, personas, strict=True))
        )
        self.fallas["rafaga_nip"] += listos.count(False)
        await asyncio.gather(
            *(self.nip(s, p[1], "rafaga_nip") for s, p in zip(senders, personas, strict=True))
        )


def _sender(tipo: str) -> str:
    return f"bench-{tipo}-{uuid.uuid4().hex[:12]}"


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
        await corrida.http.aclose()
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
        base.wait_healthy(
            300, check=lambda r: r.status_code == 200 and bool(r.json().get("model_file"))
        )
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
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--replicas", default="1,2", help="cuántas réplicas de Rasa probar, separadas por comas"
    )
    parser.add_argument("--rafaga", type=int, default=32, help="turnos simultáneos en cada ráfaga")
    parser.add_argument("--rafagas", type=int, default=2, help="cuántas ráfagas por configuración")
    parser.add_argument("--secuenciales", type=int, default=15, help="turnos del NIP de uno en uno")
    parser.add_argument(
        "--conservar", action="store_true", help="conservar los registros de los servicios"
    )
    args = parser.parse_args()
    try:
        args.replicas = [int(x) for x in str(args.replicas).split(",") if x.strip()]
    except ValueError:
        parser.error("--replicas: números enteros separados por comas, p. ej. 1,2")
    if not args.replicas or min(args.replicas) < 1:
        parser.error("--replicas: al menos una réplica")
    for nombre in ("rafaga", "rafagas", "secuenciales"):
        if getattr(args, nombre) < 1:
            parser.error(f"--{nombre} debe ser al menos 1")
    asyncio.run(principal(args))


if __name__ == "__main__":
    main()
