"""A throwaway PostgreSQL cluster on a free loopback port, for tests and benches.

PostgreSQL refuses to run as root, so when we are root the server runs as the
`postgres` system user (created by Debian's package). `python -m tests.pgcluster`
starts one, prints its URL and stays up until interrupted.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if found:
        return found[-1]
    path = shutil.which(name)
    if not path:
        raise RuntimeError(f"PostgreSQL no está instalado ({name}); ejecute `make setup`.")
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def base_nueva(servidor: str, nombre: str) -> str:
    """Create the empty database `nombre` on the server at URL `servidor` (dropping
    one of that name first); its URL."""
    from sqlalchemy import create_engine, text

    admin = create_engine(servidor, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{nombre}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{nombre}"'))
    admin.dispose()
    return servidor.rsplit("/", 1)[0] + "/" + nombre


def _as_postgres(cmd: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


@dataclass
class PgCluster:
    datadir: str
    port: int

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def create_database(self, name: str) -> str:
        subprocess.run(
            _as_postgres([_bin("psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                          "-q", "-c", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
                          "-c", f'CREATE DATABASE "{name}"']),
            check=True, capture_output=True,
        )
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        subprocess.run(
            _as_postgres([_bin("pg_ctl"), "-D", self.datadir, "-m", "immediate", "stop"]),
            capture_output=True,
        )
        shutil.rmtree(os.path.dirname(self.datadir), ignore_errors=True)


def start() -> PgCluster:
    base = tempfile.mkdtemp(prefix="capp-pg-")
    datadir = os.path.join(base, "data")
    os.chmod(base, 0o755)
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
    subprocess.run(
        _as_postgres(
            [
                _bin("initdb"),
                "-D",
                datadir,
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ]
        ),
        check=True,
        capture_output=True,
    )
    port = _free_port()
    opts = (
        f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off -c "
        f"synchronous_commit=off -c full_page_writes=off -c max_connections=200"
    )
    subprocess.run(
        _as_postgres(
            [
                _bin("pg_ctl"),
                "-D",
                datadir,
                "-o",
                opts,
                "-l",
                os.path.join(base, "log"),
                "-w",
                "start",
            ]
        ),
        check=True,
        capture_output=True,
    )
    cluster = PgCluster(datadir=datadir, port=port)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return cluster
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("PostgreSQL no arrancó a tiempo")


if __name__ == "__main__":
    c = start()
    print(c.url, flush=True)
    signal.signal(signal.SIGTERM, lambda *_: (c.stop(), sys.exit(0)))
    try:
        signal.pause()
    except KeyboardInterrupt:
        c.stop()
