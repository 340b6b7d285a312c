"""What the benches share: the percentile they report, a free port, and the
backend served by a real uvicorn (one worker, as `make run` starts it).

The benches run as scripts (`python bench/x.py`), so this module is imported as
`comun`; it needs nothing but the standard library and httpx.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


def percentil(valores: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordenados = sorted(valores)
    return ordenados[min(len(ordenados) - 1, max(0, round(p / 100 * len(ordenados) + 0.5) - 1))]


def puerto_libre() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def backend_uvicorn(
    cwd: Path, env: dict[str, str]
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """`backend.main:app` of the checkout `cwd` on a free loopback port, up once
    /health answers 200 (at most ~20 s); yields the process and its base URL."""
    puerto = puerto_libre()
    servidor = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "backend.main:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(puerto),
            "--workers",
            "1",
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=cwd,
        env=env,
    )
    base = f"http://127.0.0.1:{puerto}"
    try:
        with httpx.Client(base_url=base, timeout=10) as cliente:
            for _ in range(200):
                try:
                    if cliente.get("/health").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
        yield servidor, base
    finally:
        servidor.terminate()
        servidor.wait(timeout=15)
