"""The one HTTP client the actions use to reach the backend.

Thin and typed: every call has a timeout (<= 3 s), only idempotent GETs are
retried, and failures become two exceptions the actions know how to answer:

* `BackendNoDisponible` - the backend is down, slow or answered 5xx;
* `BackendError(status, detail, data)` - the backend said no (4xx) with a
  Spanish `detail` that can be shown to the user as is.

The base URL comes from `BACKEND_URL` (default http://localhost:8000). Tests
replace the network with `usar_transporte(httpx.MockTransport(...))`.
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any, Dict, List, Optional

import httpx

logger = logging.getLogger(__name__)

TIMEOUT_SEGUNDOS = 3.0
REINTENTOS_GET = 1
PAUSA_REINTENTO = 0.2

_transporte: Optional[httpx.AsyncBaseTransport] = None


class BackendNoDisponible(Exception):
    """The backend could not be reached in time (connection refused, timeout, 5xx)."""


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
    global _transporte
    _transporte = transporte


def base_url() -> str:
    return os.environ.get("BACKEND_URL", "http://localhost:8000").rstrip("/")


class BackendClient:
    """Async client for the CAPP backend; use as `async with cliente(token) as api:`."""

    def __init__(self, token: Optional[str] = None, *, timeout: float = TIMEOUT_SEGUNDOS) -> None:
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.AsyncClient(
            base_url=base_url(),
            headers=headers,
            timeout=httpx.Timeout(min(timeout, TIMEOUT_SEGUNDOS)),
            transport=_transporte,
        )

    async def __aenter__(self) -> BackendClient:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self._http.aclose()

    # ------------------------------------------------------------------ core
    async def _enviar(self, metodo: str, ruta: str, **kwargs: Any) -> Any:
        intentos = 1 + (REINTENTOS_GET if metodo == "GET" else 0)
        for intento in range(intentos):
            try:
                respuesta = await self._http.request(metodo, ruta, **kwargs)
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                logger.warning("backend %s %s sin respuesta (%s)", metodo, ruta_sin_datos(ruta), type(exc).__name__)
                if intento + 1 < intentos:
                    await asyncio.sleep(PAUSA_REINTENTO)
                    continue
                raise BackendNoDisponible(type(exc).__name__) from exc
            if respuesta.status_code >= 500:
                logger.warning("backend %s %s respondió %s", metodo, ruta_sin_datos(ruta), respuesta.status_code)
                if intento + 1 < intentos:
                    await asyncio.sleep(PAUSA_REINTENTO)
                    continue
                raise BackendNoDisponible(f"HTTP {respuesta.status_code}")
            return _cuerpo(respuesta)
        raise BackendNoDisponible("sin respuesta")  # pragma: no cover - loop always returns or raises

    async def get(self, ruta: str, params: Optional[Dict[str, Any]] = None) -> Any:
        return await self._enviar("GET", ruta, params=params)

    async def post(self, ruta: str, json: Optional[Dict[str, Any]] = None) -> Any:
        return await self._enviar("POST", ruta, json=json)

    # ------------------------------------------------------------- identity
    async def verificar(self, curp: str, nip: str) -> Dict[str, Any]:
        return await self.post("/api/v1/identidad/verificar", {"curp": curp, "nip": nip})

    async def perfil(self) -> Dict[str, Any]:
        return await self.get("/api/v1/identidad/perfil")

    # ---------------------------------------------------------------- loans
    async def saldo(self) -> Dict[str, Any]:
        return await self.get("/api/v1/prestamos/saldo")

    async def prestamo_vigente(self) -> Dict[str, Any]:
        return await self.get("/api/v1/prestamos/vigente")

    async def prestamos(self) -> List[Dict[str, Any]]:
        return await self.get("/api/v1/prestamos")

    async def enlace_estado_cuenta(self, folio: Optional[str] = None) -> Dict[str, Any]:
        """A signed, expiring public URL to the estado de cuenta PDF: {"url", "expira_en"}."""
        params = {"folio": folio} if folio else None
        return await self._enviar("POST", "/api/v1/prestamos/estado-de-cuenta/enlace", params=params)

    async def simular(self, **datos: Any) -> Dict[str, Any]:
        cuerpo = {k: v for k, v in datos.items() if v is not None}
        return await self.post("/api/v1/simulaciones", cuerpo)

    # ---------------------------------------------------------------- citas
    async def oficinas(self) -> List[Dict[str, Any]]:
        return await self.get("/api/v1/oficinas")

    async def disponibilidad(self, oficina_id: Any, desde: str, hasta: str, limite: int = 20) -> Dict[str, Any]:
        return await self.get(
            f"/api/v1/oficinas/{oficina_id}/disponibilidad",
            {"desde": desde, "hasta": hasta, "limite": limite},
        )

    async def agendar_cita(self, oficina_id: Any, inicio: str, origen: Optional[str] = None) -> Dict[str, Any]:
        return await self.post("/api/v1/citas", {"oficina_id": oficina_id, "inicio": inicio, "origen": origen})

    async def citas(self) -> List[Dict[str, Any]]:
        return await self.get("/api/v1/citas")

    async def cancelar_cita(self, clave: str, fecha_nacimiento: Optional[str] = None,
                            origen: Optional[str] = None) -> Dict[str, Any]:
        cuerpo: Dict[str, Any] = {}
        if fecha_nacimiento:
            cuerpo["fecha_nacimiento"] = fecha_nacimiento
        if origen:
            cuerpo["origen"] = origen
        return await self.post(f"/api/v1/citas/{clave}/cancelar", cuerpo or None)

    async def enlace_hoja(self, clave: str) -> Dict[str, Any]:
        return await self.post(f"/api/v1/citas/{clave}/enlace")

    async def reenviar_hoja(self, clave: str) -> Dict[str, Any]:
        return await self.post(f"/api/v1/citas/{clave}/reenviar")

    # --------------------------------------------------------------- pagos
    async def fopi(self, tipo: str, monto: Optional[float] = None) -> Dict[str, Any]:
        cuerpo: Dict[str, Any] = {"tipo": tipo}
        if monto is not None:
            cuerpo["monto"] = monto
        return await self.post("/api/v1/pagos/fopi", cuerpo)

    async def regularizacion(self) -> Dict[str, Any]:
        return await self.get("/api/v1/regularizacion")

    async def fopi_regularizacion(self) -> Dict[str, Any]:
        return await self.post("/api/v1/regularizacion/fopi")


def cliente(token: Optional[str] = None) -> BackendClient:
    return BackendClient(token)


def ruta_sin_datos(ruta: str) -> str:
    """Paths can carry a clave de cita; keep logs free of identifiers."""
    partes = ruta.split("/")
    return "/".join("…" if (len(p) == 6 and p.isalnum() and p.isupper()) else p for p in partes)


def _cuerpo(respuesta: httpx.Response) -> Any:
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
    return datos
