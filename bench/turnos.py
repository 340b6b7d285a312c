"""Turn latency of the assistant next to Rasa's own `rasa init` bot, and where a NIP turn's
time goes.

    .venv/bin/python bench/turnos.py [--rondas 25] [--rafaga 32] [--rafagas 2] [--calentamiento 3]

Starts the whole stack (tests/e2e/stack.py: backend, action server, Rasa, ivr) and,
from the same .venv-rasa, a bare `rasa init --no-prompt` bot (trained once and
kept under var/bench/rasa_init/; delete that folder to retrain it) served with
`rasa run --enable-api` (REST channel). Then, over REST / HTTP on loopback:

  1. `--rondas` interleaved rounds, one turn of each kind per round:
       bare "hello"; assistant "hola"; the NIP turn of a saldo conversation
       ("quiero saber mi saldo" -> CURP of P1 -> NIP 4821: identifies and reads the
       saldo; only that last turn is timed); an IVR menu step (digit 5 at the main
       menu, a signed Twilio request that never reaches Rasa);
  2. `--rafagas` bursts of `--rafaga` concurrent bare turns, then of `--rafaga`
     concurrent saldo conversations whose NIP turns start together (P1 and P2,
     the demo personas with a loan, each with its own sender id);
  3. the NIP turn's breakdown: NLU (`/model/parse` of "4821"), policy prediction
     (`/conversations/{id}/predict`, times the predictions the turn made), each
     action and each backend call (the action server's `tiempos` log lines,
     bot/actions/medicion.py), and the rest (Rasa's tracker handling, its HTTP
     calls to the action server and their (de)serialisation).

Prints p50/p95/p99 per kind, the ratios to the bare bot and the breakdown. Asserts
nothing; a turn whose answer is not what it should be is counted and reported.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from comun import percentil  # noqa: E402
from twilio.request_validator import RequestValidator  # noqa: E402

from tests.e2e.stack import Stack, _Proc, free_port  # noqa: E402

RASA = ROOT / ".venv-rasa" / "bin" / "rasa"
BASE_DIR = ROOT / "var" / "bench" / "rasa_init"
REST = "/webhooks/rest/webhook"
PREFIJO_TIEMPOS = "tiempos "

# The demo personas with a vigente loan (README): the saldo path is the same for both.
PERSONAS = [("HEGG560427MVZRRL04", "4821"), ("BEML920313HMCLNS09", "7315")]


# ------------------------------------------------------------------ numbers
def ms(segundos: float) -> float:
    return segundos * 1000


def fmt(valor: float) -> str:
    return f"{valor:,.0f}" if valor >= 100 else f"{valor:.1f}"


def tabla(encabezados: list[str], filas: list[list[str]]) -> str:
    anchos = [max(len(str(c)) for c in col) for col in zip(encabezados, *filas, strict=True)]
    linea = lambda celdas: "  ".join(  # noqa: E731
        str(c).ljust(a) if i == 0 else str(c).rjust(a)
        for i, (c, a) in enumerate(zip(celdas, anchos, strict=True))
    )
    return "\n".join(
        [linea(encabezados), "  ".join("-" * a for a in anchos)] + [linea(f) for f in filas]
    )


# ------------------------------------------------------------- bare Rasa bot
def entorno_rasa() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHONHOME"))}
    env.update(
        RASA_TELEMETRY_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="3", PYTHONDONTWRITEBYTECODE="1"
    )
    return env


def bot_base() -> Path:
    """`rasa init --no-prompt` trained once, reused from var/bench/rasa_init/."""
    if list((BASE_DIR / "models").glob("*.tar.gz")):
        return BASE_DIR
    print(
        "==> entrenando el bot de `rasa init` (una sola vez; queda en var/bench/rasa_init/)",
        flush=True,
    )
    BASE_DIR.parent.mkdir(parents=True, exist_ok=True)  # var/bench/ on a fresh checkout
    temporal = Path(tempfile.mkdtemp(prefix="rasa-init-", dir=BASE_DIR.parent))
    subprocess.run(
        [str(RASA), "init", "--no-prompt", "--init-dir", str(temporal)],
        cwd=temporal,
        env=entorno_rasa(),
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    shutil.rmtree(BASE_DIR, ignore_errors=True)
    temporal.rename(BASE_DIR)
    return BASE_DIR


def arrancar_base(workdir: Path) -> tuple[_Proc, str]:
    """Starts the bare bot's Rasa (it loads its model while the stack starts)."""
    directorio = bot_base()
    puerto = free_port()
    url = f"http://127.0.0.1:{puerto}"
    proc = _Proc(
        "rasa_init",
        [
            str(RASA),
            "run",
            "-m",
            "models",
            "--enable-api",
            "--port",
            str(puerto),
            "--interface",
            "127.0.0.1",
            "--credentials",
            "credentials.yml",
            "--endpoints",
            "endpoints.yml",
        ],
        directorio,
        workdir / "rasa_init.log",
        f"{url}/status",
    )
    proc.start(entorno_rasa())
    return proc, url


def base_lista(base: _Proc) -> None:
    """Waits until the bare bot's Rasa has loaded its model."""
    base.wait_healthy(
        300, check=lambda r: r.status_code == 200 and bool(r.json().get("model_file"))
    )


# -------------------------------------------------------------------- turns
class Conversaciones:
    """Timed REST turns of the bare bot and of the assistant (the saldo conversation up to
    its NIP turn), with their timings and failures per class. bench/replicas.py uses it too."""

    def __init__(
        self, rasa_url: str, rasa_token: str, base_url: str, conexiones: int, timeout: float
    ) -> None:
        self.rasa_url, self.rasa_token, self.base_url = rasa_url, rasa_token, base_url
        limites = httpx.Limits(max_connections=conexiones, max_keepalive_connections=conexiones)
        self.http = httpx.AsyncClient(timeout=timeout, limits=limites)
        self.tiempos: dict[str, list[float]] = defaultdict(list)
        self.fallas: dict[str, int] = defaultdict(int)

    async def cerrar(self) -> None:
        await self.http.aclose()

    async def bare(self, clase: str = "bare") -> None:
        inicio = time.perf_counter()
        r = await self.http.post(
            self.base_url + REST, json={"sender": nuevo_sender("b"), "message": "hello"}
        )
        self.tiempos[clase].append(ms(time.perf_counter() - inicio))
        if r.status_code != 200 or not r.json():
            self.fallas[clase] += 1

    async def asistente(self, sender: str, mensaje: str) -> tuple[float, list[dict[str, Any]]]:
        inicio = time.perf_counter()
        r = await self.http.post(
            self.rasa_url + REST, json={"sender": sender, "message": mensaje},
            headers={"Authorization": f"Bearer {self.rasa_token}"},
        )
        transcurrido = ms(time.perf_counter() - inicio)
        return transcurrido, (r.json() if r.status_code == 200 else [])

    async def preparar_saldo(self, sender: str, curp: str) -> bool:
        """The two turns before the NIP one: the request and the CURP (untimed)."""
        _, a = await self.asistente(sender, "quiero saber mi saldo")
        _, b = await self.asistente(sender, curp)
        return bool(a) and bool(b)

    async def turno_nip(self, sender: str, nip: str, clase: str) -> None:
        t, mensajes = await self.asistente(sender, nip)
        self.tiempos[clase].append(t)
        textos = " ".join(str(m.get("text") or "") for m in mensajes)
        if "saldo deudor" not in textos.lower():
            self.fallas[clase] += 1


class Banco(Conversaciones):
    """The clients and the timings of one run on the single-process stack."""

    def __init__(self, stack: Stack, base_url: str, conexiones: int) -> None:
        super().__init__(stack.rasa_url, stack.rasa_token, base_url, conexiones, timeout=60)
        self.stack = stack
        self.validador = RequestValidator(stack.twilio_auth_token)
        self.acciones_log = stack.workdir / "actions.log"

    async def hola(self) -> None:
        t, mensajes = await self.asistente(nuevo_sender("h"), "hola")
        self.tiempos["hola"].append(t)
        if not mensajes:
            self.fallas["hola"] += 1
    async def conversacion_nip(
        self, clase: str, persona: tuple[str, str] = PERSONAS[0]
    ) -> tuple[str, list[str]]:
        """A saldo conversation; returns its sender id and the action server's
        `tiempos` lines written during the NIP turn (sequential runs only)."""
        sender = nuevo_sender("n")
        curp, nip = persona
        if not await self.preparar_saldo(sender, curp):
            self.fallas[clase] += 1
        desde = self.acciones_log.stat().st_size
        await self.turno_nip(sender, nip, clase)
        await asyncio.sleep(0.01)  # the action server's log line is written as it answers
        with self.acciones_log.open("rb") as f:
            f.seek(desde)
            nuevas = f.read().decode("utf-8", "replace").splitlines()
        return sender, [ln for ln in nuevas if PREFIJO_TIEMPOS in ln]

    async def ivr_menu(self) -> None:
        """Digit 5 at ISSSTETEL's main menu: the call starts (untimed), then the timed step."""
        call = {
            "CallSid": "CA" + uuid.uuid4().hex,
            "AccountSid": "AC" + "0" * 32,
            "From": "+525512345678",
            "To": "+525540001000",
            "CallStatus": "in-progress",
            "Direction": "inbound",
            "ApiVersion": "2010-04-01",
        }
        raiz = await self._twilio("/ivr/voice", call)
        gather = raiz.find(".//Gather") if raiz is not None else None
        if gather is None or not gather.get("action"):
            self.fallas["ivr"] += 1
            return
        inicio = time.perf_counter()
        raiz = await self._twilio(gather.get("action", ""), {**call, "Digits": "5"})
        self.tiempos["ivr"].append(ms(time.perf_counter() - inicio))
        if raiz is None or raiz.find(".//Gather") is None:
            self.fallas["ivr"] += 1

    async def _twilio(self, accion: str, params: dict[str, str]) -> ET.Element | None:
        publica = accion if accion.startswith("http") else self.stack.public_base_url + accion
        ruta = publica[len(self.stack.public_base_url):]
        firma = self.validador.compute_signature(publica, params)
        r = await self.http.post(
            self.stack.ivr_url + ruta, data=params, headers={"X-Twilio-Signature": firma}
        )
        return ET.fromstring(r.content) if r.status_code == 200 and r.content else None

    # ------------------------------------------------------- the breakdown
    async def nlu(self, texto: str) -> float:
        inicio = time.perf_counter()
        r = await self.http.post(self.stack.rasa_api("/model/parse"), json={"text": texto})
        r.raise_for_status()
        return ms(time.perf_counter() - inicio)

    async def prediccion(self, sender: str) -> float:
        inicio = time.perf_counter()
        r = await self.http.post(self.stack.rasa_api(f"/conversations/{sender}/predict"))
        r.raise_for_status()
        return ms(time.perf_counter() - inicio)

    async def leer_tracker(self, sender: str) -> float:
        """GET of the tracker: what /predict costs besides the prediction (HTTP, reading and
        serialising the tracker), subtracted from it in the estimate."""
        inicio = time.perf_counter()
        r = await self.http.get(self.stack.rasa_api(f"/conversations/{sender}/tracker"))
        r.raise_for_status()
        return ms(time.perf_counter() - inicio)

    async def turno_en_tracker(self, sender: str) -> tuple[int, int, int]:
        """(predictions made in the last turn, events in the tracker, bytes of the tracker JSON)."""
        r = await self.http.get(self.stack.rasa_api(f"/conversations/{sender}/tracker"))
        r.raise_for_status()
        eventos = r.json()["events"]
        ultimo_usuario = max(i for i, e in enumerate(eventos) if e.get("event") == "user")
        predichas = sum(
            1 for e in eventos[ultimo_usuario:] if e.get("event") == "action" and e.get("policy")
        )
        return predichas, len(eventos), len(r.content)


def nuevo_sender(tipo: str) -> str:
    return f"bench-{tipo}-{uuid.uuid4().hex[:12]}"


def leer_tiempos(lineas: list[str]) -> list[dict[str, Any]]:
    registros = []
    for linea in lineas:
        try:
            registros.append(json.loads(linea.split(PREFIJO_TIEMPOS, 1)[1]))
        except (IndexError, ValueError):
            continue
    return registros


# ---------------------------------------------------------------------- run
async def medir(banco: Banco, args: argparse.Namespace) -> dict[str, Any]:
    desglose: dict[str, list[float]] = defaultdict(list)
    desglose_rafaga: dict[str, list[float]] = defaultdict(list)
    predicciones: list[int] = []
    tamanos: list[tuple[int, int]] = []

    print(f"==> calentamiento ({args.calentamiento} de cada clase)", flush=True)
    for _ in range(args.calentamiento):
        await banco.bare("calentamiento")
        await banco.hola()
        await banco.conversacion_nip("calentamiento")
        await banco.ivr_menu()
    banco.tiempos.clear()
    banco.fallas.clear()

    print(
        f"==> {args.rondas} rondas intercaladas: bare, hola, turno del NIP, paso del menú IVR",
        flush=True,
    )
    for i in range(args.rondas):
        await banco.bare()
        await banco.hola()
        sender, lineas = await banco.conversacion_nip("nip")
        await banco.ivr_menu()
        acumular(desglose, leer_tiempos(lineas))
        # What Rasa does outside the actions, measured right after the turn on the same
        # conversation.
        desglose["NLU (/model/parse \"4821\")"].append(await banco.nlu("4821"))
        desglose["NLU bare (/model/parse \"hello\")"].append(await _nlu_base(banco))
        desglose["una predicción de políticas (/predict)"].append(await banco.prediccion(sender))
        desglose["lectura del tracker (GET /tracker)"].append(await banco.leer_tracker(sender))
        predichas, eventos, bytes_tracker = await banco.turno_en_tracker(sender)
        predicciones.append(predichas)
        tamanos.append((eventos, bytes_tracker))
        if (i + 1) % 10 == 0:
            print(f"    {i + 1}/{args.rondas}", flush=True)

    for n in range(args.rafagas):
        print(f"==> ráfaga {n + 1}/{args.rafagas}: {args.rafaga} turnos bare a la vez", flush=True)
        await asyncio.gather(*(banco.bare("rafaga_bare") for _ in range(args.rafaga)))
        print(
            f"==> ráfaga {n + 1}/{args.rafagas}: {args.rafaga} conversaciones de saldo, turnos "
            f"del NIP a la vez",
            flush=True,
        )
        senders = [nuevo_sender("r") for _ in range(args.rafaga)]
        personas = [PERSONAS[i % len(PERSONAS)] for i in range(args.rafaga)]
        listos = await asyncio.gather(
            *(banco.preparar_saldo(s, p[0]) for s, p in zip(senders, personas, strict=True))
        )
        banco.fallas["rafaga_nip"] += listos.count(False)
        desde = banco.acciones_log.stat().st_size
        await asyncio.gather(
            *(
                banco.turno_nip(s, p[1], "rafaga_nip")
                for s, p in zip(senders, personas, strict=True)
            )
        )
        await asyncio.sleep(0.05)
        with banco.acciones_log.open("rb") as f:
            f.seek(desde)
            lineas = [
                ln
                for ln in f.read().decode("utf-8", "replace").splitlines()
                if PREFIJO_TIEMPOS in ln
            ]
        acumular(
            desglose_rafaga,
            [r for r in leer_tiempos(lineas) if r["accion"] != "action_validate_slot_mappings"],
        )
    return {"desglose": desglose, "desglose_rafaga": desglose_rafaga, "predicciones": predicciones,
            "tamanos": tamanos}


def acumular(desglose: dict[str, list[float]], registros: list[dict[str, Any]]) -> None:
    """Each action's time, each backend call's round trip and the backend's own share."""
    for registro in registros:
        desglose[f"acción {registro['accion']}"].append(registro["ms"])
        for llamada in registro.get("backend", []):
            clave = f"  backend {llamada['metodo']} {llamada['ruta']}"
            desglose[clave].append(llamada["ms"])
            if "servidor_ms" in llamada:
                desglose[
                    f"    en el backend (Server-Timing)  {llamada['ruta'].rsplit('/', 1)[-1]}"
                ].append(llamada["servidor_ms"])


async def _nlu_base(banco: Banco) -> float:
    inicio = time.perf_counter()
    r = await banco.http.post(banco.base_url + "/model/parse", json={"text": "hello"})
    r.raise_for_status()
    return ms(time.perf_counter() - inicio)


def informe(banco: Banco, extra: dict[str, Any], args: argparse.Namespace) -> str:
    t = banco.tiempos
    clases = [
        ("bare", 'bot de `rasa init`, "hello"', "bare"),
        ("hola", 'asistente, "hola"', "bare"),
        ("nip", "asistente, turno del NIP (identidad + saldo)", "bare"),
        ("ivr", "paso del menú IVR (sin Rasa)", "bare"),
        ("rafaga_bare", f"{args.rafaga} turnos bare a la vez", "rafaga_bare"),
        (
            "rafaga_nip",
            f"{args.rafaga} conversaciones de saldo a la vez, turno del NIP",
            "rafaga_bare",
        ),
    ]
    filas = []
    for clave, nombre, contra in clases:
        v = t.get(clave) or []
        if not v:
            continue
        p95 = percentil(v, 95)
        base = percentil(t[contra], 95) if t.get(contra) else float("nan")
        filas.append([nombre, str(len(v)), fmt(percentil(v, 50)), fmt(p95), fmt(percentil(v, 99)),
                      f"{p95 / base:.2f}", str(banco.fallas.get(clave, 0))])
    salida = ["", "Latencia por turno (ms, medida en el cliente, loopback)",
              tabla(["turno", "n", "p50", "p95", "p99", "p95/bare", "fallas"], filas)]

    desglose = extra["desglose"]
    predichas = statistics.median(extra["predicciones"]) if extra["predicciones"] else 0
    total = statistics.median(t["nip"]) if t.get("nip") else 0.0
    filas = []
    medianas: dict[str, float] = {}
    for nombre, valores in desglose.items():
        medianas[nombre] = statistics.median(valores)
        filas.append(
            [nombre, str(len(valores)), fmt(medianas[nombre]), fmt(percentil(valores, 95))]
        )
    nlu = medianas.get('NLU (/model/parse "4821")', 0.0)
    # /predict answers with the tracker: its own HTTP and tracker handling are not the prediction's.
    pred = max(0.0, medianas.get("una predicción de políticas (/predict)", 0.0)
               - medianas.get("lectura del tracker (GET /tracker)", 0.0))
    acciones = sum(v for k, v in medianas.items() if k.startswith("acción "))
    resto = total - nlu - pred * predichas - acciones
    salida += [
        "",
        f"Desglose del turno del NIP (mediana {fmt(total)} ms; {predichas:.0f} predicciones de "
        f"políticas "
        "por turno; /model/parse y /predict incluyen su propio viaje HTTP)",
        tabla(["parte", "n", "p50", "p95"], filas),
    ]
    salida.append(
        f"estimado: NLU {fmt(nlu)} + políticas {predichas:.0f}×{fmt(pred)} (/predict − GET "
        f"/tracker) + acciones {fmt(acciones)} "
        f"+ resto {fmt(resto)} (tracker, llamadas de Rasa al servidor de acciones y su "
        f"(de)serialización) "
        f"= {fmt(total)} ms"
    )
    if extra["desglose_rafaga"]:
        filas = [[n, str(len(v)), fmt(statistics.median(v)), fmt(percentil(v, 95))]
                 for n, v in extra["desglose_rafaga"].items()]
        salida += [
            "",
            f"Desglose de los turnos del NIP en las ráfagas de {args.rafaga} (acciones y backend)",
            tabla(["parte", "n", "p50", "p95"], filas),
        ]
    if extra["tamanos"]:
        eventos, octetos = extra["tamanos"][-1]
        salida.append(
            f"tracker de una conversación de saldo tras el turno del NIP: {eventos} eventos, "
            f"{octetos / 1024:.1f} KiB en JSON (Rasa lo envía entero en cada llamada a una acción)"
        )
    return "\n".join(salida)


async def principal(args: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="bench-turnos-"))
    inicio = time.monotonic()
    stack = Stack(workdir, seed_count=args.semilla)
    base: _Proc | None = None
    try:
        print(
            "==> levantando el bot de `rasa init` y el asistente (backend, acciones, Rasa, IVR)",
            flush=True,
        )
        base, base_url = arrancar_base(workdir)
        stack.start()
        base_lista(base)
        print(f"    listo en {time.monotonic() - inicio:.0f} s; registros en {workdir}", flush=True)
        banco = Banco(stack, base_url, conexiones=max(2 * args.rafaga, 16))
        try:
            extra = await medir(banco, args)
        finally:
            await banco.cerrar()
        print(informe(banco, extra, args))
        print(
            f"\n(corrida completa en {time.monotonic() - inicio:.0f} s; {os.cpu_count()} núcleos)"
        )
    finally:
        stack.stop()
        if base is not None:
            base.stop()
    if not args.conservar:
        shutil.rmtree(workdir, ignore_errors=True)


def parser_de(doc: str | None) -> argparse.ArgumentParser:
    """A bench's command line: its docstring as help and --conservar."""
    parser = argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--conservar", action="store_true", help="conservar los registros de los servicios"
    )
    return parser


def al_menos_uno(parser: argparse.ArgumentParser, args: argparse.Namespace, *nombres: str) -> None:
    for nombre in nombres:
        if getattr(args, nombre) < 1:
            parser.error(f"--{nombre} debe ser al menos 1")


def main() -> None:
    parser = parser_de(__doc__)
    parser.add_argument(
        "--rondas", type=int, default=25, help="rondas intercaladas de un turno de cada clase"
    )
    parser.add_argument("--rafaga", type=int, default=32, help="turnos simultáneos en cada ráfaga")
    parser.add_argument("--rafagas", type=int, default=2, help="cuántas ráfagas de cada clase")
    parser.add_argument(
        "--calentamiento", type=int, default=3, help="turnos de cada clase antes de medir"
    )
    parser.add_argument(
        "--semilla", type=int, default=20, help="derechohabientes sintéticos además de las personas"
    )
    args = parser.parse_args()
    al_menos_uno(parser, args, "rondas", "rafaga", "rafagas")
    asyncio.run(principal(args))


if __name__ == "__main__":
    main()
