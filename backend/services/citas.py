"""Citas administrativas: book, mark attended, bitácora.

Capacity and "one AGENDADA cita per person" are enforced by the database
(see backend/models/cita.py), so they hold under concurrent requests; this
module turns the constraint violations into clear Spanish conflicts.

Statuses: AGENDADA -> CANCELADA (by the person, up to
`cancelacion_anticipacion_horas` before) or ATENDIDA (marked by CAPP staff on
the day of the cita or later). VENCIDA is internal (see
backend/models/cita.py): it never appears as a bitácora row.

Cancelling lives in backend/services/cancelacion_citas.py, the hoja de
asignación and its links in backend/services/hoja_cita.py."""

from __future__ import annotations

import logging
import re
import secrets
import string
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.models import Cita, Derechohabiente, EventoCita
from backend.models.cita import AGENDADA, ATENDIDA, CANCELADA, VENCIDA
from backend.services import notificaciones
from backend.services.disponibilidad import (
    DURACION,
    fecha_larga,
    local,
    utc,
    validar_inicio,
)
from backend.services.errores import (
    Conflicto,
    ErrorDominio,
    NoDisponible,
    NoEncontrado,
)
from backend.services.oficinas import obtener_oficina

ALFABETO_CLAVE = string.ascii_uppercase + string.digits
LONGITUD_CLAVE = 6
INTENTOS_CLAVE = 10  # fresh claves tried on collision before giving up with a 503
_CLAVE_RE = re.compile(r"^[A-Z0-9]{6}$")
log = logging.getLogger("backend.citas")

# Constraint names as the database reports them (PostgreSQL: diag.constraint_name;
# SQLite only names the columns, hence the second element).
_R_CLAVE = ("uq_cita_clave", "cita.clave")
_R_PERSONA = ("uq_cita_agendada_por_derechohabiente", "cita.derechohabiente_id")
_R_LUGAR = ("uq_cita_oficina_inicio_lugar", "cita.lugar")


def nueva_clave() -> str:
    """6 characters A-Z/0-9 from a CSPRNG (36^6 ≈ 2.2 thousand million claves)."""
    return "".join(secrets.choice(ALFABETO_CLAVE) for _ in range(LONGITUD_CLAVE))


def normalizar_clave(clave: str) -> str:
    """`cc3-qz8 ` -> `CC3QZ8`; 404 for anything that cannot be a clave."""
    limpia = re.sub(r"[\s\-_.]", "", clave or "").upper()
    if not _CLAVE_RE.match(limpia):
        raise NoEncontrado(
            "La clave de cita tiene 6 letras o números, por ejemplo AB12CD. Revísela por favor.",
            "clave_invalida",
        )
    return limpia


def _restriccion(exc: IntegrityError, *candidatas: tuple[str, str]) -> tuple[str, str] | None:
    orig = exc.orig
    nombre = getattr(getattr(orig, "diag", None), "constraint_name", None)
    mensaje = str(orig)
    for r in candidatas:
        if nombre == r[0] or (nombre is None and (r[1] in mensaje or r[0] in mensaje)):
            return r
    return None


def _texto_cita(cita: Cita) -> str:
    return f"el {fecha_larga(cita.inicio)} a las {local(cita.inicio):%H:%M} horas"


def _ya_tiene_cita(cita: Cita) -> ErrorDominio:
    return Conflicto(
        f"Usted ya tiene una cita agendada con la clave {cita.clave} {_texto_cita(cita)}. "
        "Solo puede tener una cita a la vez: si desea cambiarla, primero cancele la actual.",
        "cita_vigente_existente",
        clave_cita_vigente=cita.clave,
    )


def _horario_lleno() -> ErrorDominio:
    return Conflicto(
        "Lo sentimos, ese horario ya no tiene lugares disponibles. Elija otro horario, por favor.",
        "horario_lleno",
    )


def registrar_evento(
    session: Session, cita: Cita, estatus: str, *, ahora: datetime, origen: str
) -> None:
    session.add(
        EventoCita(cita_id=cita.id, estatus=estatus, registrado_en=utc(ahora), origen=origen)
    )


def _vencer_pasadas(session: Session, *, derechohabiente_id: int, ahora: datetime) -> None:
    """AGENDADA citas whose time is over become VENCIDA, which frees the person to
    book again. No bitácora row: seed 003's bitácora has no such event.

    Always issues an UPDATE, which also opens the write transaction on SQLite
    before any SAVEPOINT (pysqlite only begins transactions on DML)."""
    session.execute(
        update(Cita)
        .where(Cita.derechohabiente_id == derechohabiente_id, Cita.estatus == AGENDADA,
               Cita.fin <= utc(ahora))
        .values(estatus=VENCIDA)
    )
    session.flush()


def cita_no_encontrada(clave: str) -> ErrorDominio:
    return NoEncontrado(f"No encontramos una cita con la clave {clave} a su nombre. "
                        "Revise la clave en su bitácora de citas.", "cita_no_encontrada")


def cita_vigente(session: Session, *, derechohabiente_id: int) -> Cita | None:
    return session.scalar(
        select(Cita).where(Cita.derechohabiente_id == derechohabiente_id, Cita.estatus == AGENDADA)
    )


def agendar(
    session: Session,
    *,
    derechohabiente: Derechohabiente,
    oficina_id: int,
    inicio: datetime,
    ahora: datetime,
    canal_notificacion: str | None = None,
    origen: str = "web",
) -> Cita:
    """Book the slot `inicio` at an office; commits and returns the AGENDADA cita."""
    oficina = obtener_oficina(session, oficina_id=oficina_id)
    inicio_utc = validar_inicio(inicio, ahora=ahora)
    _vencer_pasadas(session, derechohabiente_id=derechohabiente.id, ahora=ahora)
    vigente = cita_vigente(session, derechohabiente_id=derechohabiente.id)
    if vigente is not None:
        session.rollback()
        raise _ya_tiene_cita(vigente)

    tomados = set(session.scalars(
        select(Cita.lugar).where(Cita.oficina_id == oficina.id, Cita.inicio == inicio_utc,
                                 Cita.lugar.is_not(None))
    ))
    for lugar in (n for n in range(1, oficina.ventanillas + 1) if n not in tomados):
        for _ in range(INTENTOS_CLAVE):  # a collision is ~1 in 10^9 per existing cita; retry
            cita = Cita(
                clave=nueva_clave(),
                derechohabiente_id=derechohabiente.id,
                oficina_id=oficina.id,
                inicio=inicio_utc,
                fin=inicio_utc + DURACION,
                lugar=lugar,
                estatus=AGENDADA,
                canal_notificacion=canal_notificacion or notificaciones.WHATSAPP,
                creado_en=utc(ahora),
            )
            try:
                with session.begin_nested():
                    session.add(cita)
                    session.flush()
            except IntegrityError as exc:
                violada = _restriccion(exc, _R_CLAVE, _R_PERSONA, _R_LUGAR)
                if violada is _R_CLAVE:
                    continue
                if violada is _R_PERSONA:
                    session.rollback()
                    otra = cita_vigente(session, derechohabiente_id=derechohabiente.id)
                    session.rollback()
                    if otra is not None:
                        raise _ya_tiene_cita(otra) from exc
                    raise Conflicto("Usted ya tiene una cita en proceso de registro; "
                                    "consulte su bitácora.", "cita_vigente_existente") from exc
                if violada is _R_LUGAR:
                    break  # someone took this place a moment ago: try the next one
                raise
            registrar_evento(session, cita, AGENDADA, ahora=ahora, origen=origen)
            session.flush()
            notificaciones.encolar_cita(
                session, cita=cita, tipo=notificaciones.CITA_AGENDADA, ahora=ahora
            )
            session.commit()
            return cita
        else:
            session.rollback()
            log.error("agendar: %d claves seguidas ya existían; se responde 503", INTENTOS_CLAVE)
            raise NoDisponible(
                "No pudimos generar la clave de su cita en este momento. Su cita no quedó "
                "registrada; intente de nuevo en unos minutos.",
                "clave_no_disponible",
            )
    session.rollback()
    raise _horario_lleno()


def cambiar_estatus(session: Session, cita: Cita, *, desde: tuple[str, ...], a: str, conflicto: str,
                     **valores: object) -> bool:
    """Conditional UPDATE from `desde` to `a`: of two simultaneous requests exactly
    one changes the row. True when another request had already made it `a` (the
    caller answers idempotently); a Conflicto with `conflicto` when it went anywhere else."""
    resultado = session.execute(
        update(Cita)
        .where(Cita.id == cita.id, Cita.estatus.in_(desde))
        .values(estatus=a, **valores)
        .execution_options(synchronize_session=False)
    )
    if resultado.rowcount == 1:  # type: ignore[attr-defined]
        return False
    session.rollback()
    session.refresh(cita)
    if cita.estatus == a:
        return True
    raise Conflicto(conflicto, "conflicto")


@dataclass(frozen=True)
class ResultadoAtencion:
    cita: Cita
    ya_estaba_atendida: bool


def marcar_atendida(
    session: Session, *, clave: str, ahora: datetime, origen: str = "capp"
) -> ResultadoAtencion:
    """CAPP staff record that the person came (expediente "SI" in the bitácora).

    Allowed on the day of the cita or later, for an AGENDADA cita or one that went
    VENCIDA meanwhile; a cancelled cita cannot be attended; twice answers the same."""
    clave = normalizar_clave(clave)
    cita = session.scalar(select(Cita).where(Cita.clave == clave))
    if cita is None:
        raise NoEncontrado(f"No existe una cita con la clave {clave}.", "cita_no_encontrada")
    if cita.estatus == ATENDIDA:
        return ResultadoAtencion(cita, True)
    if cita.estatus == CANCELADA:
        raise Conflicto(f"La cita {clave} fue cancelada; no puede marcarse como atendida.",
                        "cita_cancelada")
    if local(ahora).date() < local(cita.inicio).date():
        raise Conflicto(
            f"La cita {clave} es para el {fecha_larga(cita.inicio)}; solo puede marcarse "
            "como atendida ese día o después.",
            "cita_futura",
        )
    if cambiar_estatus(
        session,
        cita,
        desde=(AGENDADA, VENCIDA),
        a=ATENDIDA,
        conflicto="La cita cambió mientras la registrábamos; consulte la bitácora.",
    ):
        return ResultadoAtencion(cita, True)
    registrar_evento(session, cita, ATENDIDA, ahora=ahora, origen=origen)
    notificaciones.descartar_pendientes(
        session, cita_id=cita.id, tipos=(notificaciones.RECORDATORIO_CITA,)
    )
    session.commit()
    session.refresh(cita)
    return ResultadoAtencion(cita, False)


@dataclass(frozen=True)
class FilaBitacora:
    evento: EventoCita
    cita: Cita


def bitacora(session: Session, *, derechohabiente: Derechohabiente) -> list[FilaBitacora]:
    """Every event of the person's citas, newest first (as "Listado de citas")."""
    filas = session.execute(
        select(EventoCita, Cita)
        .join(Cita, EventoCita.cita_id == Cita.id)
        .where(Cita.derechohabiente_id == derechohabiente.id)
        .order_by(EventoCita.registrado_en.desc(), EventoCita.id.desc())
    ).all()
    return [FilaBitacora(evento=e, cita=c) for e, c in filas]


def obtener_cita(session: Session, *, derechohabiente: Derechohabiente, clave: str) -> Cita:
    clave = normalizar_clave(clave)
    cita = session.scalar(select(Cita).where(Cita.clave == clave))
    if cita is None or cita.derechohabiente_id != derechohabiente.id:
        raise cita_no_encontrada(clave)
    return cita


def registrado_en(cita: Cita) -> datetime:
    eventos = [e for e in cita.eventos if e.estatus == AGENDADA]
    return utc(eventos[0].registrado_en) if eventos else utc(cita.creado_en)
