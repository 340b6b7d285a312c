"""Cancelling a cita, by the person (token) or by phone (clave + fecha de nacimiento).

A cita can be cancelled up to `cancelacion_anticipacion_horas` before it starts;
cancelling twice answers the same. Cancelling by clave + fecha de nacimiento
(the phone path) is limited like the NIP: `cancelacion_max_intentos` failures
lock that clave for `cancelacion_bloqueo_minutos`, counted in
`cita_intento_cancelacion` for known and unknown claves alike, so neither the
"not found" nor the lock tells whether a clave exists."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import and_, case, delete, literal, null, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.types import DateTime

from backend.contacto import LINEA_CITAS
from backend.models import Cita, Derechohabiente, IntentoCancelacion
from backend.models.cita import AGENDADA, ATENDIDA, CANCELADA, VENCIDA
from backend.services import notificaciones
from backend.services.citas import (
    cambiar_estatus,
    cita_no_encontrada,
    normalizar_clave,
    registrar_evento,
)
from backend.services.disponibilidad import (
    fecha_larga,
    horas_cancelacion,
    local,
    plazo_cancelacion,
    utc,
)
from backend.services.errores import (
    Bloqueado,
    Conflicto,
    ErrorDominio,
    NoAutenticado,
    NoEncontrado,
)
from backend.settings import BackendSettings, get_settings

log = logging.getLogger("backend.citas")


@dataclass(frozen=True)
class ResultadoCancelacion:
    cita: Cita
    ya_estaba_cancelada: bool


def _no_encontrada_publica() -> ErrorDominio:
    # Same answer whether the clave does not exist or the birth date is wrong.
    return NoEncontrado("No encontramos una cita con esa clave y esa fecha de nacimiento. "
                        "Revise ambos datos e intente de nuevo.", "cita_no_encontrada")


def _bloqueo(hasta: datetime) -> ErrorDominio:
    fin = local(hasta)
    return Bloqueado(
        "Por su seguridad, la cancelación con esa clave de cita quedó bloqueada tras varios "
        "intentos con datos que no coinciden. Podrá intentarlo de nuevo a partir de las "
        f"{fin:%H:%M} horas del {fin:%d/%m/%Y} (hora del centro de México), o cancelar "
        "identificándose con su CURP y su NIP.",
        "bloqueado",
        bloqueado_hasta=fin.isoformat(timespec="seconds"),
    )


def _insert_para(session: Session):  # type: ignore[no-untyped-def]
    """INSERT ... ON CONFLICT for the session's database (both dialects have it)."""
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def _fallo_cancelacion(session: Session, *, clave: str, ahora: datetime, max_intentos: int,
                       bloqueo: timedelta) -> datetime | None:
    """Count one failed attempt for `clave` atomically; commit; return the lock end
    if the clave is (now) locked. A lock that already expired starts a new count."""
    t = IntentoCancelacion.__table__
    ahora = utc(ahora)
    hasta = literal(ahora + bloqueo, DateTime(timezone=True))
    insert = _insert_para(session)(t).values(
        clave=clave, intentos_fallidos=1, actualizado_en=ahora,
        bloqueado_hasta=(ahora + bloqueo) if max_intentos <= 1 else None,
    )
    vencido = and_(t.c.bloqueado_hasta.is_not(None), t.c.bloqueado_hasta <= ahora)
    nuevos = case((vencido, 1), else_=t.c.intentos_fallidos + 1)
    fila = session.execute(
        insert.on_conflict_do_update(
            index_elements=[t.c.clave],
            set_={"intentos_fallidos": nuevos, "actualizado_en": ahora,
                  "bloqueado_hasta": case((nuevos >= max_intentos, hasta), else_=null())},
            where=or_(t.c.bloqueado_hasta.is_(None), t.c.bloqueado_hasta <= ahora),
        ).returning(t.c.bloqueado_hasta)
    ).one_or_none()
    # Forget stale counters (a day without attempts, not locked) so the table stays small.
    session.execute(
        delete(IntentoCancelacion).where(
            IntentoCancelacion.actualizado_en < ahora - timedelta(days=1),
            or_(
                IntentoCancelacion.bloqueado_hasta.is_(None),
                IntentoCancelacion.bloqueado_hasta <= ahora,
            ),
        )
    )
    session.commit()
    if fila is None:  # locked by a parallel attempt in the meantime
        return _bloqueado_hasta(session, clave=clave, ahora=ahora) or ahora + bloqueo
    return utc(fila[0]) if fila[0] is not None else None


def _bloqueado_hasta(session: Session, *, clave: str, ahora: datetime) -> datetime | None:
    hasta = session.scalar(
        select(IntentoCancelacion.bloqueado_hasta).where(IntentoCancelacion.clave == clave)
    )
    return utc(hasta) if hasta is not None and utc(hasta) > utc(ahora) else None


def buscar_para_cancelar(
    session: Session,
    *,
    clave: str,
    derechohabiente: Derechohabiente | None,
    fecha_nacimiento: date | None,
    ahora: datetime | None = None,
    settings: BackendSettings | None = None,
) -> Cita:
    if derechohabiente is None and fecha_nacimiento is None:
        raise NoAutenticado("Para cancelar necesita identificarse con su CURP y su NIP, "
                            "o indicar su fecha de nacimiento junto con la clave de cita.",
                            "no_autenticado")
    try:
        clave = normalizar_clave(clave)
    except ErrorDominio:
        if derechohabiente is None:
            raise _no_encontrada_publica() from None
        raise
    if derechohabiente is not None:
        cita = session.scalar(select(Cita).where(Cita.clave == clave))
        if cita is None or cita.derechohabiente_id != derechohabiente.id:
            raise cita_no_encontrada(clave)
        return cita
    ahora = utc(ahora or datetime.now(UTC))
    bloqueada = _bloqueado_hasta(session, clave=clave, ahora=ahora)
    if bloqueada is not None:
        session.rollback()
        log.info("cancelación por teléfono: clave bloqueada")
        raise _bloqueo(bloqueada)
    cita = session.scalar(select(Cita).where(Cita.clave == clave))
    if cita is None or cita.derechohabiente.fecha_nacimiento != fecha_nacimiento:
        session.rollback()
        settings = settings or get_settings()
        hasta = _fallo_cancelacion(
            session, clave=clave, ahora=ahora, max_intentos=settings.cancelacion_max_intentos,
            bloqueo=timedelta(minutes=settings.cancelacion_bloqueo_minutos))
        if hasta is not None:
            log.warning("cancelación por teléfono: clave bloqueada por intentos fallidos")
            raise _bloqueo(hasta)
        raise _no_encontrada_publica()
    if session.get(IntentoCancelacion, clave) is not None:  # the right data clears earlier failures
        session.execute(delete(IntentoCancelacion).where(IntentoCancelacion.clave == clave))
        session.commit()
    return cita


def limite_cancelacion(cita: Cita) -> datetime:
    return utc(cita.inicio) - plazo_cancelacion()


def cancelar(
    session: Session,
    *,
    clave: str,
    ahora: datetime,
    derechohabiente: Derechohabiente | None = None,
    fecha_nacimiento: date | None = None,
    origen: str = "web",
    settings: BackendSettings | None = None,
) -> ResultadoCancelacion:
    """Cancel up to `horas_cancelacion()` before the start; cancelling twice answers the same."""
    cita = buscar_para_cancelar(session, clave=clave, derechohabiente=derechohabiente,
                                fecha_nacimiento=fecha_nacimiento, ahora=ahora,
                                settings=settings)
    if cita.estatus == CANCELADA:
        return ResultadoCancelacion(cita, True)
    if cita.estatus == ATENDIDA:
        raise Conflicto(f"La cita {cita.clave} ya fue atendida; no es posible cancelarla.",
                        "cita_atendida")
    if cita.estatus == VENCIDA or utc(cita.inicio) <= utc(ahora):
        raise Conflicto(f"La cita {cita.clave} ya pasó; no es posible cancelarla.", "cita_pasada")
    limite = limite_cancelacion(cita)
    if utc(ahora) > limite:
        raise Conflicto(
            f"Ya no es posible cancelar la cita {cita.clave}: las cancelaciones se aceptan hasta "
            f"{horas_cancelacion()} horas antes de la cita y el plazo venció el "
            f"{fecha_larga(limite)} a las {local(limite):%H:%M} horas. El plazo es el mismo en la "
            f"{LINEA_CITAS} y en el Sistema de Citas Administrativas.",
            "plazo_cancelacion_vencido",
            limite_cancelacion=local(limite).isoformat(),
        )
    # Of two simultaneous cancellations exactly one records the event.
    if cambiar_estatus(session, cita, desde=(AGENDADA,), a=CANCELADA,
                        conflicto="La cita cambió mientras la cancelábamos; consulte su bitácora.",
                        lugar=None, cancelada_en=utc(ahora)):
        return ResultadoCancelacion(cita, True)
    registrar_evento(session, cita, CANCELADA, ahora=ahora, origen=origen)
    session.flush()
    session.refresh(cita)
    # Nothing still unsent about the cita makes sense now, not even its booking notice.
    notificaciones.descartar_pendientes(
        session,
        cita_id=cita.id,
        tipos=(
            notificaciones.CITA_AGENDADA,
            notificaciones.RECORDATORIO_CITA,
            notificaciones.HOJA_CITA,
        ),
    )
    canal = notificaciones.SMS if origen == "telefono" else None
    notificaciones.encolar_cita(session, cita=cita, tipo=notificaciones.CITA_CANCELADA, ahora=ahora,
                                canal=canal)
    session.commit()
    return ResultadoCancelacion(cita, False)
