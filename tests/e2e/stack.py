"""The whole assistant on free loopback ports, for end-to-end tests.

Starts, as real processes: the backend (uvicorn, seeded temporary SQLite), the
Rasa action server, Rasa itself (trained model bot/models/capp.tar.gz, trained
first by scripts/train.sh if missing or stale) and the ivr service. Every
process reads its settings from the environment, like in production.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TypeVar

import httpx
from sqlalchemy.orm import Session

from tools.entorno import MODEL, ROOT, Secretos

BOT = ROOT / "bot"
VENV = ROOT / ".venv" / "bin"
VENV_RASA = ROOT / ".venv-rasa" / "bin"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class _Proc:
    name: str
    cmd: list[str]
    cwd: Path
    log: Path
    health: str
    popen: subprocess.Popen[bytes] | None = None
    env_extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def uvicorn(cls, name: str, app: str, port: int, log: Path) -> _Proc:
        """A FastAPI service (backend, ivr) as the Procfile starts it: uvicorn on loopback."""
        cmd = [str(VENV / "uvicorn"), app, "--host", "127.0.0.1", "--port", str(port)]
        return cls(name, cmd, ROOT, log, f"http://127.0.0.1:{port}/health")

    def start(self, env: dict[str, str]) -> None:
        out = self.log.open("ab")
        self.popen = subprocess.Popen(
            self.cmd,
            cwd=self.cwd,
            env={**env, **self.env_extra},
            stdout=out,
            stderr=subprocess.STDOUT,
        )

    def stop(self) -> None:
        if self.popen and self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        self.popen = None

    def wait_healthy(self, timeout: float, check: callable | None = None) -> None:  # type: ignore[valid-type]
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            if self.popen is None or self.popen.poll() is not None:
                raise RuntimeError(f"{self.name} terminó al arrancar:\n{self.tail()}")
            try:
                r = httpx.get(self.health, timeout=2)
                if r.status_code < 500 and (check is None or check(r)):
                    return
                last = f"HTTP {r.status_code}"
            except httpx.HTTPError as exc:
                last = type(exc).__name__
            time.sleep(0.5)
        raise RuntimeError(f"{self.name} no respondió en {timeout:.0f} s ({last}):\n{self.tail()}")

    def tail(self, n: int = 60) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""


@dataclass
class Stack(Secretos):
    workdir: Path
    seed_count: int = 20
    backend_port: int = field(default_factory=free_port)
    actions_port: int = field(default_factory=free_port)
    rasa_port: int = field(default_factory=free_port)
    ivr_port: int = field(default_factory=free_port)
    procs: dict[str, _Proc] = field(default_factory=dict)

    @property
    def backend_url(self) -> str:
        return f"http://127.0.0.1:{self.backend_port}"

    @property
    def actions_url(self) -> str:
        return f"http://127.0.0.1:{self.actions_port}"

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def ivr_url(self) -> str:
        return f"http://127.0.0.1:{self.ivr_port}"

    @property
    def public_base_url(self) -> str:
        """The origin Twilio signs against (a proxy would route /ivr and /webhooks)."""
        return self.ivr_url

    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.workdir / 'stack.db'}"

    def env(self) -> dict[str, str]:
        return self.entorno_servicios(
            database_url=self.db_url,
            tracker_store_url=f"sqlite:///{self.workdir / 'conversaciones.db'}",
            backend_url=self.backend_url,
            rasa_url=self.rasa_url,
            action_endpoint_url=f"{self.actions_url}/webhook",
            public_base_url=self.public_base_url,
            RASA_PORT=str(self.rasa_port),
            ACTIONS_PORT=str(self.actions_port),
        )

    # -- lifecycle -----------------------------------------------------------

    def seed(self) -> None:
        subprocess.run(
            [str(VENV / "python"), "-m", "backend.seed", "--count", str(self.seed_count)],
            cwd=ROOT, env=self.env(), check=True, capture_output=True,
        )

    def reset_db(self) -> None:
        """Back to the seeded state (demo personas and citas as in DESIGN.md)."""
        from backend.db import make_engine
        from backend.models import Base

        engine = make_engine(self.db_url)
        with engine.begin() as conn:
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(table.delete())
        engine.dispose()
        self.seed()

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        if not MODEL.exists() or os.environ.get("CAPP_RETRAIN"):
            subprocess.run([str(ROOT / "scripts" / "train.sh")], check=True)
        self.seed()
        logs = self.workdir
        self.procs = {
            "backend": _Proc.uvicorn(
                "backend", "backend.main:app", self.backend_port, logs / "backend.log"
            ),
            "actions": _Proc(
                "actions",
                # The same launchers as the Procfile's lines.
                [str(ROOT / "scripts" / "acciones.sh")],
                ROOT,
                logs / "actions.log",
                f"{self.actions_url}/health",
            ),
            "rasa": _Proc(
                "rasa",
                [str(ROOT / "scripts" / "rasa.sh")],
                # /status is behind --auth-token like the rest of Rasa's HTTP API.
                ROOT,
                logs / "rasa.log",
                self.rasa_api("/status"),
            ),
            "ivr": _Proc.uvicorn("ivr", "ivr.main:app", self.ivr_port, logs / "ivr.log"),
        }
        env = self.env()
        for proc in self.procs.values():
            proc.start(env)
        self.procs["backend"].wait_healthy(60)
        self.procs["actions"].wait_healthy(120)
        self.procs["ivr"].wait_healthy(60)
        self.procs["rasa"].wait_healthy(
            300, check=lambda r: r.status_code == 200 and bool(r.json().get("model_file"))
        )

    def stop(self) -> None:
        for proc in reversed(list(self.procs.values())):
            proc.stop()

    @contextmanager
    def backend_down(self) -> Iterator[None]:
        """The backend is stopped inside the block and started again after it."""
        backend = self.procs["backend"]
        backend.stop()
        try:
            yield
        finally:
            backend.start(self.env())
            backend.wait_healthy(60)

    @contextmanager
    def session(self) -> Iterator[Session]:
        from backend.db import make_engine, make_sessionmaker

        engine = make_engine(self.db_url)
        try:
            with make_sessionmaker(engine)() as s:
                yield s
        finally:
            engine.dispose()

    def rasa_api(self, path: str) -> str:
        """URL of a Rasa HTTP API route (tracker, parse...), with its auth token."""
        sep = "&" if "?" in path else "?"
        return f"{self.rasa_url}{path}{sep}token={self.rasa_admin_token}"

    def logs(self) -> str:
        return "\n\n".join(f"--- {n} ---\n{p.tail()}" for n, p in self.procs.items())


class Servicios(Protocol):
    def start(self) -> None: ...
    def stop(self) -> None: ...
    def logs(self) -> str: ...


S = TypeVar("S", bound=Servicios)


@contextmanager
def en_marcha(servicios: S) -> Iterator[S]:
    """A Stack or a Cluster started for the block and stopped after it; when it
    fails to start, what its services said is printed first."""
    try:
        servicios.start()
    except Exception:
        print(servicios.logs())
        servicios.stop()
        raise
    try:
        yield servicios
    finally:
        servicios.stop()


if __name__ == "__main__":  # python -m tests.e2e.stack : bring it up by hand
    import tempfile

    s = Stack(Path(tempfile.mkdtemp(prefix="capp-stack-")))
    s.start()
    print(
        "backend",
        s.backend_url,
        "rasa",
        s.rasa_url,
        "ivr",
        s.ivr_url,
        "token",
        s.twilio_auth_token,
        flush=True,
    )
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        s.stop()
        sys.exit(0)
