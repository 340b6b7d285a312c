"""The one HTTP client the actions use to reach the backend.

Thin and typed: every call ends within 3 s in all (the one retry that only
idempotent GETs get included), the calls of one client within 5 s, every
answer is checked to be the JSON shape the endpoint promises, and failures
become two exceptions the actions know how to answer:

* `BackendNoDisponible` - the backend is down, slow, answered 5xx or not JSON;
* `BackendError(status, detail, data)` - the backend said no (4xx) with a
  Spanish `detail` that can be shown to the user as is.

The base URL comes from `BACKEND_URL` (default http://localhost:8000). Tests
replace the network with `usar_transporte(httpx.MockTransport(...))`.

One `httpx.AsyncClient` serves the whole process (per event loop): its pool
keeps connections to the backend alive between actions, so a turn does not pay
a TCP connect per action. `cliente(token)` is a cheap view on it that carries
the token and the action's time budget. Each request is recorded (method, path
without claves, status, milliseconds) for the action's `tiempos` log line
(actions/medicion.py).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import re
import time
import weakref
from typing import Any, Dict, List, Optional, Tuple

import httpx

from bot.actions.medicion import registrar_llamada
from bot.texto import enmascarar_curps

logger = logging.getLogger(__name__)

TIMEOUT_SEGUNDOS = 3.0  # one call, retries included
PRESUPUESTO_SEGUNDOS = 5.0  # every call one client (one action) makes, together
REINTENTOS_GET = 1
PAUSA_REINTENTO = 0.2
MINIMO_PARA_REINTENTAR = 0.5  # a retry with less time left than this cannot succeed

# Keep-alive pool towards the backend. Idle connections are dropped before
# uvicorn's own keep-alive timeout (5 s), so a reused connection is never one the
# server is closing at that very moment.
LIMITES = httpx.Limits(max_connections=100, max_keepalive_connections=32, keepalive_expiry=4.0)

_transporte: Optional[httpx.AsyncBaseTransport] = None
# The shared client and the event loop it belongs to (a client cannot move between loops).
_compartido: Optional[
    Tuple[weakref.ReferenceType[asyncio.AbstractEventLoop], httpx.AsyncClient]
] = None


class BackendNoDisponible(Exception):
    """The backend could not be reached in time (connection refused, timeout, 5xx,
    or an answer that is not the JSON the endpoint promises)."""


class BackendError(Exception):
    """The backend answered with a 4xx; `detail` is Spanish, fit for the user."""

    def __init__(self, status: int, detail: str, data: Optional[Dict[str, Any]] = None) -> None:
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail
        self.data: Dict[str, Any] = data or {}

    @property
    def codigo(self) -> Optional[str]:
        return self.data.get("codigo")


def usar_transporte(transporte: Optional[httpx.AsyncBaseTransport]) -> None:
    """Route every request through `transporte` (tests); `None` restores the network."""
    global _transporte, _compartido
    _transporte = transporte
    _compartido = None  # the next call builds a client on the new transport


def http_compartido() -> httpx.AsyncClient:
    """The process's client for the running event loop, created on first use."""
    global _compartido
    loop = asyncio.get_running_loop()
    if _compartido is not None:
        dueno, http = _compartido
        if dueno() is loop and not http.is_closed:
            return http
    http = httpx.AsyncClient(
        base_url=base_url(),
        headers={"Accept": "application/json"},
        timeout=httpx.Timeout(TIMEOUT_SEGUNDOS),
        limits=LIMITES,
        transport=_transporte,
    )
    _compartido = (weakref.ref(loop), http)
    return http


def base_url() -> str:
    return os.environ.get("BACKEND_URL", "http://localhost:8000").rstrip("/")


class BackendClient:
    """Async client for the CAPP backend; use as `async with cliente(token) as api:`.

    Each call ends within `TIMEOUT_SEGUNDOS` (connect, send, wait and read, and
    the GET retry, all together), and all the calls of one client within
    `PRESUPUESTO_SEGUNDOS`, so an action always answers well before Rasa (or a
    phone caller) gives up on it.
    """

    def __init__(
        self,
        token: Optional[str] = None,
        *,
        timeout: float = TIMEOUT_SEGUNDOS,
        presupuesto: float = PRESUPUESTO_SEGUNDOS,
        conversacion: Optional[str] = None,
    ) -> None:
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}
        if conversacion:
            # The backend throttles failed identity checks per source; every
            # conversation reaches it from this server, so each one is named
            # as its own source (hashed: a sender id is a phone number).
            self._headers["X-Forwarded-For"] = origen_de_conversacion(conversacion)
        self._timeout = min(timeout, TIMEOUT_SEGUNDOS)
        self._limite = time.monotonic() + min(presupuesto, PRESUPUESTO_SEGUNDOS)

    async def __aenter__(self) -> BackendClient:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        # The connections stay in the shared pool for the next action.
        return None

    # ------------------------------------------------------------------ core
    async def _enviar(self, metodo: str, ruta: str, **kwargs: Any) -> Any:
        limite = min(time.monotonic() + self._timeout, self._limite)
        intentos = 1 + (REINTENTOS_GET if metodo == "GET" else 0)
        encabezados = {**self._headers, **(kwargs.pop("headers", None) or {})}
        motivo = "sin tiempo"
        for intento in range(intentos):
            if intento:
                if limite - time.monotonic() < PAUSA_REINTENTO + MINIMO_PARA_REINTENTAR:
                    break
                await asyncio.sleep(PAUSA_REINTENTO)
            restante = limite - time.monotonic()
            if restante <= 0:
                break
            inicio = time.perf_counter()
            try:
                respuesta = await asyncio.wait_for(
                    http_compartido().request(metodo, ruta, headers=encabezados,
                                              timeout=httpx.Timeout(restante), **kwargs),
                    restante,
                )
            # asyncio.TimeoutError is not the builtin one on Python 3.10 (the Rasa side).
            except (asyncio.TimeoutError, httpx.TimeoutException, httpx.TransportError) as exc:  # noqa: UP041
                registrar_llamada(
                    metodo, ruta_sin_datos(ruta), None, (time.perf_counter() - inicio) * 1000
                )
                motivo = type(exc).__name__
                logger.warning(
                    "backend %s %s sin respuesta (%s)", metodo, ruta_sin_datos(ruta), motivo
                )
                continue
            registrar_llamada(
                metodo,
                ruta_sin_datos(ruta),
                respuesta.status_code,
                (time.perf_counter() - inicio) * 1000,
                respuesta.headers.get("server-timing"),
            )
            if respuesta.status_code >= 500:
                motivo = f"HTTP {respuesta.status_code}"
                logger.warning(
                    "backend %s %s respondió %s",
                    metodo,
                    ruta_sin_datos(ruta),
                    respuesta.status_code,
                )
                continue
            return _cuerpo(respuesta, metodo, ruta)
        raise BackendNoDisponible(motivo)

    async def _dict(self, metodo: str, ruta: str, **kwargs: Any) -> Dict[str, Any]:
        datos = await self._enviar(metodo, ruta, **kwargs)
        if not isinstance(datos, dict):
            logger.warning(
                "backend %s %s: se esperaba un objeto JSON", metodo, ruta_sin_datos(ruta)
            )
            raise BackendNoDisponible("respuesta inesperada")
        return datos

    async def _lista(self, ruta: str, **kwargs: Any) -> List[Dict[str, Any]]:
        datos = await self._enviar("GET", ruta, **kwargs)
        if not isinstance(datos, list) or not all(isinstance(d, dict) for d in datos):
            logger.warning("backend GET %s: se esperaba una lista JSON", ruta_sin_datos(ruta))
            raise BackendNoDisponible("respuesta inesperada")
        return datos

    async def get(self, ruta: str, params: Optional[Dict[str, Any]] = None) -> Any:
        return await self._enviar("GET", ruta, params=params)

    async def post(self, ruta: str, json: Optional[Dict[str, Any]] = None) -> Any:
        return await self._enviar("POST", ruta, json=json)

    # ------------------------------------------------------------- identity
    async def verificar(self, curp: str, nip: str) -> Dict[str, Any]:
        return await self._dict(
            "POST", "/api/v1/identidad/verificar", json={"curp": curp, "nip": nip}
        )

    async def perfil(self) -> Dict[str, Any]:
        return await self._dict("GET", "/api/v1/identidad/perfil")

    # ---------------------------------------------------------------- loans
    async def saldo(self) -> Dict[str, Any]:
        return await self._dict("GET", "/api/v1/prestamos/saldo")

    async def prestamo_vigente(self) -> Dict[str, Any]:
        return await self._dict("GET", "/api/v1/prestamos/vigente")

    async def prestamos(self) -> List[Dict[str, Any]]:
        return await self._lista("/api/v1/prestamos")

    async def enlace_estado_cuenta(self, folio: Optional[str] = None) -> Dict[str, Any]:
        """A signed, expiring public URL to the estado de cuenta PDF: {"url", "expira_en"}."""
        params = {"folio": folio} if folio else None
        return await self._dict("POST", "/api/v1/prestamos/estado-de-cuenta/enlace", params=params)

    async def productos(self) -> List[Dict[str, Any]]:
        """The product catalogue (public, a read: retried)."""
        productos = (await self._dict("GET", "/api/v1/productos")).get("productos")
        if not isinstance(productos, list) or not all(isinstance(p, dict) for p in productos):
            raise BackendNoDisponible("respuesta inesperada")
        return productos

    async def simular(self, **datos: Any) -> Dict[str, Any]:
        cuerpo = {k: v for k, v in datos.items() if v is not None}
        return await self._dict("POST", "/api/v1/simulaciones", json=cuerpo)

    # ---------------------------------------------------------------- citas
    async def oficinas(self, q: Optional[str] = None) -> List[Dict[str, Any]]:
        return await self._lista("/api/v1/oficinas", params={"q": q} if q else None)

    async def disponibilidad(
        self, oficina_id: Any, desde: str, hasta: str, limite: int = 20
    ) -> Dict[str, Any]:
        return await self._dict(
            "GET",
            f"/api/v1/oficinas/{oficina_id}/disponibilidad",
            params={"desde": desde, "hasta": hasta, "limite": limite},
        )

    async def agendar_cita(
        self,
        oficina_id: Any,
        inicio: str,
        origen: Optional[str] = None,
        *,
        idempotency_key: Optional[str] = None,
        vence: Optional[float] = None,
    ) -> Dict[str, Any]:
        """`idempotency_key`: the same key books at most once (a retried turn gets the
        first answer); `vence`: epoch seconds after which the backend must not book
        (the caller has given up on the turn)."""
        return await self._dict("POST", "/api/v1/citas",
                                json={"oficina_id": oficina_id, "inicio": inicio, "origen": origen},
                                headers=_encabezados_de_turno(idempotency_key, vence))

    async def citas(self) -> List[Dict[str, Any]]:
        return await self._lista("/api/v1/citas")

    async def cancelar_cita(self, clave: str, fecha_nacimiento: Optional[str] = None,
                            origen: Optional[str] = None, *, idempotency_key: Optional[str] = None,
                            vence: Optional[float] = None) -> Dict[str, Any]:
        """`idempotency_key` and `vence` as in `agendar_cita`."""
        cuerpo: Dict[str, Any] = {}
        if fecha_nacimiento:
            cuerpo["fecha_nacimiento"] = fecha_nacimiento
        if origen:
            cuerpo["origen"] = origen
        return await self._dict("POST", f"/api/v1/citas/{clave}/cancelar", json=cuerpo or None,
                                headers=_encabezados_de_turno(idempotency_key, vence))

    async def enlace_hoja(self, clave: str) -> Dict[str, Any]:
        return await self._dict("POST", f"/api/v1/citas/{clave}/enlace")

    async def reenviar_hoja(self, clave: str) -> Dict[str, Any]:
        return await self._dict("POST", f"/api/v1/citas/{clave}/reenviar")

    # --------------------------------------------------------------- pagos
    async def fopi(self, tipo: str, monto: Optional[float] = None) -> Dict[str, Any]:
        cuerpo: Dict[str, Any] = {"tipo": tipo}
        if monto is not None:
            cuerpo["monto"] = monto
        return await self._dict("POST", "/api/v1/pagos/fopi", json=cuerpo)

    async def regularizacion(self) -> Dict[str, Any]:
        return await self._dict("GET", "/api/v1/regularizacion")

    async def fopi_regularizacion(self) -> Dict[str, Any]:
        return await self._dict("POST", "/api/v1/regularizacion/fopi")


def cliente(token: Optional[str] = None, *, conversacion: Optional[str] = None) -> BackendClient:
    return BackendClient(token, conversacion=conversacion)


def origen_de_conversacion(sender_id: str) -> str:
    """`conv-<16 hex>`: stable per conversation, reveals nothing of the sender."""
    return "conv-" + hashlib.sha256(sender_id.encode("utf-8")).hexdigest()[:16]


def _encabezados_de_turno(idempotency_key: Optional[str], vence: Optional[float]) -> Dict[str, str]:
    """`Idempotency-Key` and `X-Turno-Vence` (epoch seconds) for the writes that take them."""
    encabezados: Dict[str, str] = {}
    if idempotency_key:
        encabezados["Idempotency-Key"] = idempotency_key
    if vence is not None:
        encabezados["X-Turno-Vence"] = f"{vence:.3f}"
    return encabezados


# ----------------------------------------------------------------- privacy
_SECRETOS_EN_URL = re.compile(
    r"(?i)\b(token|firma|signature|sig|curp|nip|fecha_nacimiento)=[^&\s\"']+"
)


def ruta_sin_datos(ruta: str) -> str:
    """Paths can carry a clave de cita; keep logs free of identifiers."""
    partes = ruta.split("/")
    return "/".join("…" if (len(p) == 6 and p.isalnum() and p.isupper()) else p for p in partes)


def texto_sin_datos(texto: str) -> str:
    """Any log text with claves in paths, CURPs and secret query values masked."""
    texto = enmascarar_curps(texto)
    texto = _SECRETOS_EN_URL.sub(lambda m: f"{m.group(1)}=…", texto)
    return re.sub(r"(/api/v1/citas/)[A-Za-z0-9]{6}\b", r"\1…", texto)


class FiltroDatosPersonales(logging.Filter):
    """Masks what the HTTP libraries would log (full URLs with claves) if their
    INFO/DEBUG output is ever switched on; they are kept at WARNING anyway."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            mensaje = record.getMessage()
        except Exception:  # noqa: BLE001 - a malformed record must not break logging
            return True
        record.msg, record.args = texto_sin_datos(mensaje), None
        return True


def silenciar_bibliotecas_http() -> None:
    """httpx logs every request URL at INFO, and httpcore every step at DEBUG."""
    for nombre in ("httpx", "httpcore"):
        biblioteca = logging.getLogger(nombre)
        biblioteca.setLevel(logging.WARNING)
        if not any(isinstance(f, FiltroDatosPersonales) for f in biblioteca.filters):
            biblioteca.addFilter(FiltroDatosPersonales())


silenciar_bibliotecas_http()


def _cuerpo(respuesta: httpx.Response, metodo: str = "", ruta: str = "") -> Any:
    try:
        datos = respuesta.json()
    except ValueError:
        datos = None
    if respuesta.status_code >= 400:
        if not isinstance(datos, dict):
            datos = {}
        detail = datos.get("detail")
        if not isinstance(detail, str) or not detail:
            detail = ""
        raise BackendError(respuesta.status_code, detail, datos)
    if datos is None and respuesta.content:
        logger.warning(
            "backend %s %s respondió %s sin JSON",
            metodo,
            ruta_sin_datos(ruta),
            respuesta.status_code,
        )
        raise BackendNoDisponible("respuesta sin JSON")
    return datos
