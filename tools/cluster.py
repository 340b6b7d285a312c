"""The production shape of the assistant on one machine (`make cluster`).

PostgreSQL (backend data and Rasa's conversations, two databases on one
server), Redis (Rasa's lock store), two backend workers, two action servers,
two Rasa replicas, the IVR and the notifications worker, behind nginx as the
single public entry:

    /ivr/...        -> ivr
    /webhooks/...   -> rasa replicas (REST, ivr and WhatsApp channels)
    /socket.io/...  -> rasa replicas (web chat; WebSocket only, see README)
    /chat, /api, /health, /static -> backend workers

and an internal nginx listener (loopback) that spreads Rasa's calls over the
action servers. Every process is started with the same command as the
Procfile's line for its kind (scripts/rasa.sh, scripts/acciones.sh, uvicorn).
The end-to-end failover tests drive this same class (tests/e2e/test_cluster.py).
"""

from __future__ import annotations

import secrets
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests import pgcluster
from tests.e2e.stack import VENV, _Proc, free_port
from tools.entorno import MODEL, ROOT, Secretos

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
REDIS = shutil.which("redis-server") or "/usr/bin/redis-server"


def _nginx_conf(c: Cluster) -> str:
    def pool(nombre: str, puertos: list[int]) -> str:
        servidores = "\n".join(
            f"    server 127.0.0.1:{p} max_fails=1 fail_timeout=3s;" for p in puertos
        )
        return f"  upstream {nombre} {{\n{servidores}\n    keepalive 16;\n  }}\n"

    proxy = """
      proxy_http_version 1.1;
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header Connection "";
      proxy_connect_timeout 2s;
      proxy_read_timeout 30s;
      # A replica that refuses the connection (dead): the request goes to the
      # next one. A request already sent is never replayed (POST).
      proxy_next_upstream error timeout;
      proxy_next_upstream_tries 2;
"""
    w = c.workdir
    return f"""
worker_processes 1;
pid {w}/nginx.pid;
error_log {w}/nginx-error.log warn;
events {{ worker_connections 512; }}
http {{
  access_log {w}/nginx-access.log;
  client_body_temp_path {w}/nginx-tmp/body;
  proxy_temp_path {w}/nginx-tmp/proxy;
  fastcgi_temp_path {w}/nginx-tmp/fastcgi;
  uwsgi_temp_path {w}/nginx-tmp/uwsgi;
  scgi_temp_path {w}/nginx-tmp/scgi;
  client_max_body_size 1m;
  # Bodies and answers stay in memory: nginx's workers run as an unprivileged
  # user that cannot write into the cluster's folder.
  client_body_buffer_size 1m;
  proxy_max_temp_file_size 0;
  map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
{pool("backend", c.backend_ports)}{pool("rasa", c.rasa_ports)}\
{pool("acciones", c.actions_ports)}{pool("ivr", [c.ivr_port])}
  server {{
    listen 127.0.0.1:{c.public_port};
    location /ivr/ {{ proxy_pass http://ivr; {proxy} }}
    location /webhooks/ {{ proxy_pass http://rasa; {proxy} }}
    location /socket.io/ {{
      proxy_pass http://rasa;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $host;
      proxy_read_timeout 1h;
    }}
    location / {{ proxy_pass http://backend; {proxy} }}
  }}
  server {{
    listen 127.0.0.1:{c.internal_port};
    location / {{ proxy_pass http://acciones; {proxy} }}
  }}
}}
"""


@dataclass
class Cluster(Secretos):
    workdir: Path
    postgres_url: str  # a server where the cluster may create its two databases
    seed_count: int = 20
    backend_ports: list[int] = field(default_factory=lambda: [free_port(), free_port()])
    actions_ports: list[int] = field(default_factory=lambda: [free_port(), free_port()])
    rasa_ports: list[int] = field(default_factory=lambda: [free_port(), free_port()])
    ivr_port: int = field(default_factory=free_port)
    redis_port: int = field(default_factory=free_port)
    public_port: int = field(default_factory=free_port)
    internal_port: int = field(default_factory=free_port)
    extra_env: dict[str, str] = field(default_factory=dict)
    procs: dict[str, _Proc] = field(default_factory=dict)
    db_url: str = ""
    tracker_url: str = ""

    @property
    def public_url(self) -> str:
        return f"http://127.0.0.1:{self.public_port}"

    def rasa_url(self, i: int) -> str:
        return f"http://127.0.0.1:{self.rasa_ports[i]}"

    def rasa_api(self, path: str, i: int = 0) -> str:
        sep = "&" if "?" in path else "?"
        return f"{self.rasa_url(i)}{path}{sep}token={self.rasa_admin_token}"

    def env(self) -> dict[str, str]:
        return self.entorno_servicios(
            database_url=self.db_url,
            tracker_store_url=self.tracker_url,
            backend_url=self.public_url,
            rasa_url=self.public_url,
            action_endpoint_url=f"http://127.0.0.1:{self.internal_port}/webhook",
            public_base_url=self.public_url,
            LOCK_STORE_URL=f"redis://127.0.0.1:{self.redis_port}/0",
            TICKET_LOCK_LIFETIME="10",
            **self.extra_env,
        )

    def _crear_bases(self) -> None:
        sufijo = secrets.token_hex(4)
        self.db_url = pgcluster.base_nueva(self.postgres_url, f"capp_{sufijo}")
        self.tracker_url = pgcluster.base_nueva(self.postgres_url, f"conversaciones_{sufijo}")

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        (self.workdir / "nginx-tmp").mkdir(exist_ok=True)
        if not MODEL.exists():
            subprocess.run([str(ROOT / "scripts" / "train.sh")], check=True)
        self._crear_bases()
        env = self.env()
        subprocess.run(
            [str(VENV / "python"), "-m", "backend.migrate"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
        subprocess.run(
            [
                str(VENV / "python"),
                "-m",
                "backend.seed",
                "--count",
                str(self.seed_count),
                "--forzar",
            ],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
        (self.workdir / "nginx.conf").write_text(_nginx_conf(self))
        w = self.workdir
        self.procs["redis"] = _Proc(
            "redis", [REDIS, "--port", str(self.redis_port), "--bind", "127.0.0.1", "--save", "",
                      "--appendonly", "no", "--dir", str(w)],
            w, w / "redis.log", "",
        )
        self.procs["nginx"] = _Proc(
            "nginx", [NGINX, "-p", str(w), "-c", str(w / "nginx.conf"), "-g", "daemon off;"],
            w, w / "nginx.log", f"{self.public_url}/health",
        )
        for i, puerto in enumerate(self.backend_ports):
            self.procs[f"backend{i}"] = _Proc.uvicorn(
                f"backend{i}", "backend.main:app", puerto, w / f"backend{i}.log"
            )
        for i, puerto in enumerate(self.actions_ports):
            self.procs[f"actions{i}"] = self._acciones(i, puerto)
        for i in range(len(self.rasa_ports)):
            self.procs[f"rasa{i}"] = self._rasa(i)
        self.procs["ivr"] = _Proc.uvicorn("ivr", "ivr.main:app", self.ivr_port, w / "ivr.log")
        for proc in self.procs.values():
            proc.start(env)
        for nombre, proc in self.procs.items():
            if nombre == "redis":
                continue
            if nombre.startswith("rasa"):
                self.esperar_rasa(int(nombre[4:]))
            else:
                proc.wait_healthy(120)

    def _acciones(self, i: int, puerto: int) -> _Proc:
        return _Proc(
            f"actions{i}",
            [str(ROOT / "scripts" / "acciones.sh")],
            ROOT,
            self.workdir / f"actions{i}.log",
            f"http://127.0.0.1:{puerto}/health",
            env_extra={"ACTIONS_PORT": str(puerto)},
        )

    def _rasa(self, i: int) -> _Proc:
        return _Proc(
            f"rasa{i}", [str(ROOT / "scripts" / "rasa.sh")], ROOT, self.workdir / f"rasa{i}.log",
            self.rasa_api("/status", i), env_extra={"RASA_PORT": str(self.rasa_ports[i])},
        )

    def esperar_rasa(self, i: int, timeout: float = 600) -> None:
        self.procs[f"rasa{i}"].wait_healthy(
            timeout, check=lambda r: r.status_code == 200 and bool(r.json().get("model_file"))
        )

    # -- failures ------------------------------------------------------------------

    def matar(self, nombre: str) -> None:
        """SIGKILL: no shutdown, no cleanup, as when a machine dies."""
        proc = self.procs[nombre]
        if proc.popen is not None and proc.popen.poll() is None:
            proc.popen.send_signal(signal.SIGKILL)
            proc.popen.wait()
        proc.popen = None

    def arrancar(self, nombre: str) -> None:
        self.procs[nombre].start(self.env())

    def detener(self, nombre: str) -> None:
        self.procs[nombre].stop()

    def stop(self) -> None:
        for proc in reversed(list(self.procs.values())):
            proc.stop()

    def logs(self) -> str:
        return "\n\n".join(f"--- {n} ---\n{p.tail(40)}" for n, p in self.procs.items())


def main() -> int:  # make cluster
    import tempfile

    pg = pgcluster.start()
    trabajo = Path(tempfile.mkdtemp(prefix="capp-cluster-"))
    cluster = Cluster(trabajo, pg.url)
    try:
        cluster.start()
    except Exception:
        print(cluster.logs(), file=sys.stderr)
        cluster.stop()
        pg.stop()
        raise
    print(
        f"""
  CAPP asistente — clúster local (2 Rasa, 2 acciones, 2 backend, Redis, PostgreSQL, nginx)
  Entrada pública (nginx) .. {cluster.public_url}
  Chat web ................. {cluster.public_url}/chat
  IVR (Twilio Voice) ....... {cluster.public_url}/ivr/voice
  WhatsApp (Twilio) ........ {cluster.public_url}/webhooks/whatsapp/webhook
  Registros ................ {trabajo}
  Token de Twilio (pruebas)  {cluster.twilio_auth_token}
  Ctrl-C para detener.
""",
        flush=True,
    )
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        cluster.stop()
        pg.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
