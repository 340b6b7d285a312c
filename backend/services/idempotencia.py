"""Idempotency-Key and X-Turno-Vence for booking and cancelling a cita.

* `X-Turno-Vence` (Unix epoch seconds): the moment the caller (the IVR turn)
  stops waiting. A request that arrives after it is refused with 409
  `turno_vencido` and changes nothing: nobody would hear the answer, and the
  caller may already have been told the operation did not happen. 409, not 408:
  HTTP clients and proxies may resend a 408 on their own, which is exactly the
  late write this header exists to prevent.
* `Idempotency-Key` (at most 128 printable characters): the first request with
  a key runs and its answer (status and body, errors below 500 included) is kept
  for `idempotencia_horas`; a repeat gets that same answer again, without booking
  or cancelling twice. The same key with a different operation, person or body
  is a 409 `idempotencia_conflicto`; a repeat while the first is still running
  is a 409 `idempotencia_en_curso`. A 5xx is not kept (the retry runs again).

The service answers with `Respuesta` (status and JSON body); the router turns it
into the HTTP answer.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.errors import cuerpo_error, estado_http
from backend.models import ClaveIdempotencia
from backend.services.errores import Conflicto, ErrorDominio, ReglaIncumplida

log = logging.getLogger("backend.idempotencia")
_CLAVE_RE = re.compile(r"^[\x21-\x7e]{1,128}$")


def validar_clave(clave: str | None) -> str | None:
    if clave is None:
        return None
    if not _CLAVE_RE.fullmatch(clave):
        raise ReglaIncumplida(
            "El encabezado Idempotency-Key debe tener de 1 a 128 caracteres visibles, "
            "sin espacios.",
            "datos_invalidos",
            campos=["Idempotency-Key"],
        )
    return clave


def validar_vence(vence: str | None) -> float | None:
    if vence is None:
        return None
    try:
        valor = float(vence)
    except ValueError:
        valor = float("nan")
    if not (0 < valor < 1e11):  # NaN, inf and nonsense all fail here
        raise ReglaIncumplida("El encabezado X-Turno-Vence debe ser un instante en segundos Unix.",
                              "datos_invalidos", campos=["X-Turno-Vence"])
    return valor


@dataclass(frozen=True)
class Turno:
    clave: str | None
    vence: float | None
    reloj: Callable[[], float] = time.time

    def exigir_a_tiempo(self) -> None:
        if self.vence is not None and self.reloj() > self.vence:
            log.info(
                "solicitud tardía rechazada (%.1f s después del límite)", self.reloj() - self.vence
            )
            raise Conflicto(
                "La solicitud llegó después de que la llamada dejó de esperarla; no se hizo "
                "ningún cambio. Si todavía lo necesita, pídalo de nuevo.",
                "turno_vencido",
            )


def _huella(operacion: str, sujeto: str, cuerpo: Any) -> str:
    datos = json.dumps([operacion, sujeto, cuerpo], sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(datos.encode()).hexdigest()


@dataclass(frozen=True)
class Respuesta:
    """What to answer: an HTTP status and a JSON-able body (fresh or replayed)."""

    status: int
    cuerpo: Any


def ejecutar(
    session: Session,
    turno: Turno,
    *,
    operacion: str,
    sujeto: str,
    cuerpo: Any,
    status_ok: int,
    horas: int,
    funcion: Callable[[], Any],
) -> Respuesta:
    """Run `funcion` (which returns a JSON-able body) at most once per key."""
    if turno.clave is None:
        turno.exigir_a_tiempo()
        return Respuesta(status_ok, funcion())
    ahora = datetime.now(UTC)
    huella = _huella(operacion, sujeto, cuerpo)
    session.execute(delete(ClaveIdempotencia).where(ClaveIdempotencia.expira_en < ahora))
    session.commit()
    previa = session.get(ClaveIdempotencia, turno.clave)
    if previa is None:
        turno.exigir_a_tiempo()  # a late first request reserves nothing
        try:
            session.add(
                ClaveIdempotencia(
                    clave=turno.clave,
                    huella=huella,
                    status=None,
                    cuerpo=None,
                    creado_en=ahora,
                    expira_en=ahora + timedelta(hours=horas),
                )
            )
            session.commit()
        except IntegrityError:  # a parallel request with the same key got there first
            session.rollback()
            previa = session.get(ClaveIdempotencia, turno.clave)
            if previa is None:  # pragma: no cover - it expired in between
                raise Conflicto("La misma solicitud se está procesando; espere un momento.",
                                "idempotencia_en_curso") from None
    if previa is not None:
        if previa.huella != huella:
            raise Conflicto("Esa clave de idempotencia ya se usó para otra solicitud.",
                            "idempotencia_conflicto")
        if previa.status is None or previa.cuerpo is None:
            raise Conflicto("La misma solicitud se está procesando; espere un momento.",
                            "idempotencia_en_curso")
        log.info("%s repetida con la misma clave: se repite la respuesta", operacion)
        return Respuesta(previa.status, json.loads(previa.cuerpo))

    def guardar(status: int, contenido: dict[str, Any]) -> None:
        session.rollback()
        session.execute(update(ClaveIdempotencia).where(ClaveIdempotencia.clave == turno.clave)
                        .values(status=status, cuerpo=json.dumps(contenido, ensure_ascii=False)))
        session.commit()

    def olvidar() -> None:
        session.rollback()
        session.execute(delete(ClaveIdempotencia).where(ClaveIdempotencia.clave == turno.clave))
        session.commit()

    try:
        resultado = funcion()
    except ErrorDominio as error:
        status = estado_http(error)
        if status >= 500:
            olvidar()
        else:
            guardar(status, cuerpo_error(error))
        raise
    except BaseException:
        with contextlib.suppress(Exception):
            olvidar()
        raise
    guardar(status_ok, resultado)
    return Respuesta(status_ok, resultado)
