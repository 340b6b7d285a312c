"""Throttling of failed attempts per source and globally, counted in the database
(table `intento_fallido`) so that every worker and every process sees the same
counts.

Two scopes, counted apart: "identidad" (POST /api/v1/identidad/verificar) and
"cancelacion" (cancelling a cita by clave + fecha de nacimiento). A source that
has `intentos_por_origen` failures within the last `intentos_ventana_minutos`
gets 429 with Retry-After until the oldest of them leaves the window; all
sources together are held to `intentos_globales` failures per window (a ceiling
an ordinary busy hour never reaches: it stops a spray from many addresses).

The source is the client address; behind a proxy listed in PROXIES_CONFIABLES,
the address that proxy saw (X-Forwarded-For, read from the right, skipping the
trusted hops). An X-Forwarded-For from anyone else is ignored.
"""

from __future__ import annotations

import ipaddress
import logging
import math
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import ColumnElement, delete, func, insert, select
from sqlalchemy.orm import Session
from starlette.requests import Request

from backend.models import IntentoFallido
from backend.services.disponibilidad import utc
from backend.services.errores import DemasiadosIntentos, ErrorDominio
from backend.settings import BackendSettings, lista_proxies

log = logging.getLogger("backend.limites")

IDENTIDAD = "identidad"
CANCELACION = "cancelacion"

Red = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _redes(texto: str) -> tuple[Red, ...]:
    redes = []
    for parte in (p.strip() for p in texto.split(",")):
        if parte:
            try:
                redes.append(ipaddress.ip_network(parte, strict=False))
            except ValueError:
                log.error("PROXIES_CONFIABLES: %r no es una dirección ni una red; se ignora", parte)
    return tuple(redes)


def _confiable(direccion: str, redes: tuple[Red, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(direccion.strip())
    except ValueError:
        return False
    return any(ip in red for red in redes)


def origen_de(request: Request, settings: BackendSettings) -> str:
    """The address attempts are counted against (at most 64 characters)."""
    par = request.client.host if request.client else "desconocido"
    redes = _redes(",".join(lista_proxies(settings)))
    if _confiable(par, redes):
        saltos = [
            s.strip() for v in request.headers.getlist("x-forwarded-for") for s in v.split(",")
        ]
        for salto in reversed([s for s in saltos if s]):
            if not _confiable(salto, redes):
                return salto[:64]
    return par[:64]


def _ventana(settings: BackendSettings) -> timedelta:
    return timedelta(minutes=settings.intentos_ventana_minutos)


def _demasiados(segundos: float, *, por_origen: bool) -> ErrorDominio:
    espera = max(1, math.ceil(segundos))
    minutos = max(1, math.ceil(espera / 60))
    quien = "desde su conexión" if por_origen else "en el servicio"
    return DemasiadosIntentos(
        f"Por su seguridad hicimos una pausa: hubo demasiados intentos fallidos {quien}. "
        f"Podrá intentarlo de nuevo en {minutos} {'minuto' if minutos == 1 else 'minutos'}.",
        "demasiados_intentos",
        reintentar_en=espera,
    )


def _espera(
    session: Session,
    filtro: list[ColumnElement[bool]],
    exceso: int,
    desde: datetime,
    ventana: timedelta,
    ahora: datetime,
) -> float:
    """Seconds until fewer than the limit remain in the window: the attempt that
    must leave is the `exceso`-th oldest (0-based) inside it."""
    momento = session.scalar(
        select(IntentoFallido.creado_en).where(*filtro, IntentoFallido.creado_en > desde)
        .order_by(IntentoFallido.creado_en).offset(exceso).limit(1)
    )
    return ((utc(momento) + ventana) - ahora).total_seconds() if momento is not None else 1.0


def exigir_cupo(session: Session, *, ambito: str, origen: str, ahora: datetime,
                settings: BackendSettings) -> None:
    """Raise 429 when this source, or everybody together, used up the failures
    allowed in the window. Reads only; counts nothing."""
    ahora = utc(ahora)
    ventana = _ventana(settings)
    desde = ahora - ventana
    limites = (
        (
            [IntentoFallido.ambito == ambito, IntentoFallido.origen == origen],
            settings.intentos_por_origen,
            True,
        ),
        ([IntentoFallido.ambito == ambito], settings.intentos_globales, False),
    )
    for filtros, limite, por_origen in limites:
        n = session.scalar(select(func.count()).select_from(IntentoFallido)
                           .where(*filtros, IntentoFallido.creado_en > desde)) or 0
        if n >= limite:
            espera = _espera(session, filtros, n - limite, desde, ventana, ahora)
            session.rollback()
            if por_origen:
                log.warning("límite por origen alcanzado (%s, %d fallos)", ambito, n)
            else:
                log.error("límite global de intentos fallidos alcanzado (%s, %d fallos)", ambito, n)
            raise _demasiados(espera, por_origen=por_origen)


def registrar_fallo(session: Session, *, ambito: str, origen: str, ahora: datetime,
                    settings: BackendSettings) -> None:
    """Count one failed attempt (own transaction) and drop those out of every window."""
    ahora = utc(ahora)
    session.execute(
        insert(IntentoFallido).values(ambito=ambito, origen=origen[:64], creado_en=ahora)
    )
    session.execute(
        delete(IntentoFallido).where(
            IntentoFallido.ambito == ambito,
            IntentoFallido.creado_en < ahora - 2 * _ventana(settings),
        )
    )
    session.commit()
