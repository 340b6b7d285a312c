"""Completion rate of the conversation suite (tests/e2e/conversaciones/*.yml).

    .venv/bin/python bench/conversaciones.py [-k TEXTO] [--canal rest|whatsapp|telefono]
        [--transcripciones]

Starts the whole stack (tests/e2e/stack.py: backend, action server, Rasa, ivr),
plays every conversation over every channel it lists, and prints the share that
completed (every expectation met) overall and per channel, register and topic,
plus the failures with their reason. Writes var/bench/conversaciones.json
(every case: ok, reason, turns, seconds, transcript). Asserts nothing: the exit
status is 0 whatever the rate.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.e2e.conversaciones.jugador import CANALES, cargar, casos, jugar  # noqa: E402
from tests.e2e.stack import Stack  # noqa: E402

SALIDA = ROOT / "var" / "bench" / "conversaciones.json"


def _tasa(filas: list[dict]) -> str:
    ok = sum(f["ok"] for f in filas)
    return f"{ok}/{len(filas)} ({100 * ok / len(filas):.0f} %)" if filas else "-"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description="Tasa de conversaciones completadas, por canal, registro y tema."
    )
    p.add_argument("-k", default="", help="solo las conversaciones cuyo id contiene este texto")
    p.add_argument("--canal", choices=CANALES, help="solo este canal")
    p.add_argument(
        "--transcripciones", action="store_true", help="imprimir la transcripción de cada falla"
    )
    args = p.parse_args(argv)

    conversaciones = [c for c in cargar() if args.k in c.id]
    todos = [(c, ch) for c, ch in casos(conversaciones) if not args.canal or ch == args.canal]
    print(
        f"{len(conversaciones)} conversaciones, {len(todos)} casos; levantando el stack...",
        flush=True,
    )
    stack = Stack(Path(tempfile.mkdtemp(prefix="capp-conv-")))
    filas: list[dict] = []
    inicio = time.monotonic()
    try:
        stack.start()
        print(f"stack listo en {time.monotonic() - inicio:.0f} s", flush=True)
        for conv, canal in todos:
            r = jugar(stack, conv, canal)
            filas.append(
                {
                    "id": conv.id,
                    "canal": canal,
                    "registro": conv.registro,
                    "tema": conv.tema,
                    "ok": r.ok,
                    "fallo": r.fallo,
                    "turnos": r.turnos,
                    "segundos": round(r.segundos, 2),
                    "transcripcion": [{"quien": q, "texto": t} for q, t in r.transcripcion],
                }
            )
            print(f"  {'ok   ' if r.ok else 'FALLA'} {conv.id} [{canal}] {r.segundos:.1f} s"
                  + ("" if r.ok else f": {r.fallo}"), flush=True)
            if not r.ok and args.transcripciones:
                print(r.informe(), flush=True)
    finally:
        stack.stop()

    print(f"\nCompletadas: {_tasa(filas)}")
    for eje in ("canal", "registro", "tema"):
        grupos: dict[str, list[dict]] = defaultdict(list)
        for f in filas:
            grupos[f[eje]].append(f)
        print(f"por {eje}: " + "; ".join(f"{k} {_tasa(v)}" for k, v in sorted(grupos.items())))
    SALIDA.parent.mkdir(parents=True, exist_ok=True)
    resumen = {
        "total": len(filas),
        "completadas": sum(f["ok"] for f in filas),
        "por": {
            eje: {
                k: {"casos": len(v), "completadas": sum(f["ok"] for f in v)}
                for k, v in sorted(
                    {f[eje]: [g for g in filas if g[eje] == f[eje]] for f in filas}.items()
                )
            }
            for eje in ("canal", "registro", "tema")
        },
        "casos": filas,
    }
    SALIDA.write_text(json.dumps(resumen, ensure_ascii=False, indent=2), encoding="utf-8")
    print(f"escrito {SALIDA.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
