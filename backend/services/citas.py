"""Citas administrativas: book, cancel, mark attended, bitácora, hoja de asignación.

Capacity and "one AGENDADA cita per person" are enforced by the database
(see backend/models/cita.py), so they hold under concurrent requests; this
module turns the constraint violations into clear Spanish 409s.

Statuses: AGENDADA -> CANCELADA (by the person, up to `cancelacion_anticipacion_horas` before) or ATENDIDA
(marked by CAPP staff on the day of the cita or later). VENCIDA is internal (see
backend/models/cita.py): it never appears as a bitácora row.

Cancelling by clave + fecha de nacimiento (the phone path) is limited like the
NIP: `cancelacion_max_intentos` failures lock that clave for
`cancelacion_bloqueo_minutos` (423), counted in `cita_intento_cancelacion` for
known and unknown claves alike, so neither the 404 nor the lock tells whether a
clave exists."""

from __future__ import annotations

import logging
import re
import secrets
import string
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import and_, case, delete, literal, null, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.types import DateTime

from backend.models import Cita, Derechohabiente, EventoCita, IntentoCancelacion
from backend.models.cita import AGENDADA, ATENDIDA, CANCELADA, VENCIDA
from backend.privacy import mascara_curp
from backend.services import enlaces, notificaciones
from backend.services.disponibilidad import (
    DURACION,
    fecha_larga,
    hora_texto,
    horas_cancelacion,
    local,
    plazo_cancelacion,
    registro_texto,
    utc,
    validar_inicio,
)
from backend.services.errores import (
    Bloqueado,
    Conflicto,
    ErrorDominio,
    NoAutenticado,
    NoDisponible,
    NoEncontrado,
)
from backend.services.oficinas import obtener_oficina
from backend.services.pdf_hoja_cita import DatosHoja, generar_hoja
from backend.settings import BackendSettings, get_settings

ALFABETO_CLAVE = string.ascii_uppercase + string.digits
LONGITUD_CLAVE = 6
INTENTOS_CLAVE = 10  # fresh claves tried on collision before giving up with a 503
TTL_ENLACE_HOJA = timedelta(hours=24)
KIND_HOJA = "hoja_cita"
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


def _registrar(session: Session, cita: Cita, estatus: str, *, ahora: datetime, origen: str) -> None:
    session.add(EventoCita(cita_id=cita.id, estatus=estatus, registrado_en=utc(ahora), origen=origen))


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
            _registrar(session, cita, AGENDADA, ahora=ahora, origen=origen)
            session.flush()
            notificaciones.encolar_cita(session, cita=cita, tipo=notificaciones.CITA_AGENDADA, ahora=ahora)
            session.commit()
            return cita
        else:
            session.rollback()
            log.error("agendar: %d claves seguidas ya existían; se responde 503", INTENTOS_CLAVE)
            raise NoDisponible("No pudimos generar la clave de su cita en este momento. Su cita no quedó "
                               "registrada; intente de nuevo en unos minutos.", "clave_no_disponible")
    session.rollback()
    raise _horario_lleno()


@dataclass(frozen=True)
class ResultadoCancelacion:
    cita: Cita
    ya_estaba_cancelada: bool


def _no_encontrada_token(clave: str) -> ErrorDominio:
    return NoEncontrado(f"No encontramos una cita con la clave {clave} a su nombre. "
                        "Revise la clave en su bitácora de citas.", "cita_no_encontrada")


def _no_encontrada_publica() -> ErrorDominio:
    # Same answer whether the clave does not exist or the birth date is wrong.
    return NoEncontrado("No encontramos una cita con esa clave y esa fecha de nacimiento. "
                        "Revise ambos datos e intente de nuevo.", "cita_no_encontrada")


def _bloqueo(hasta: datetime) -> ErrorDominio:
    fin = local(hasta)
    return Bloqueado(
        "Por su seguridad, la cancelación con esa clave de cita quedó bloqueada tras varios intentos con "
        f"datos que no coinciden. Podrá intentarlo de nuevo a partir de las {fin:%H:%M} horas del "
        f"{fin:%d/%m/%Y} (hora del centro de México), o cancelar identificándose con su CURP y su NIP.",
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
    session.execute(delete(IntentoCancelacion).where(
        IntentoCancelacion.actualizado_en < ahora - timedelta(days=1),
        or_(IntentoCancelacion.bloqueado_hasta.is_(None), IntentoCancelacion.bloqueado_hasta <= ahora)))
    session.commit()
    if fila is None:  # locked by a parallel attempt in the meantime
        return _bloqueado_hasta(session, clave=clave, ahora=ahora) or ahora + bloqueo
    return utc(fila[0]) if fila[0] is not None else None


def _bloqueado_hasta(session: Session, *, clave: str, ahora: datetime) -> datetime | None:
    hasta = session.scalar(select(IntentoCancelacion.bloqueado_hasta).where(IntentoCancelacion.clave == clave))
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
            raise _no_encontrada_token(clave)
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
            f"{horas_cancelacion()} horas antes de la cita y el plazo venció el {fecha_larga(limite)} a las "
            f"{local(limite):%H:%M} horas. El plazo es el mismo en la Línea ASISSSTE "
            "(55 4000 1000, opción 5, submenú 1) y en el Sistema de Citas Administrativas.",
            "plazo_cancelacion_vencido",
            limite_cancelacion=local(limite).isoformat(),
        )
    # Of two simultaneous cancellations exactly one records the event.
    if _cambiar_estatus(session, cita, desde=(AGENDADA,), a=CANCELADA,
                        conflicto="La cita cambió mientras la cancelábamos; consulte su bitácora.",
                        lugar=None, cancelada_en=utc(ahora)):
        return ResultadoCancelacion(cita, True)
    _registrar(session, cita, CANCELADA, ahora=ahora, origen=origen)
    session.flush()
    session.refresh(cita)
    # Nothing still unsent about the cita makes sense now, not even its booking notice.
    notificaciones.descartar_pendientes(session, cita_id=cita.id,
                                        tipos=(notificaciones.CITA_AGENDADA, notificaciones.RECORDATORIO_CITA,
                                               notificaciones.HOJA_CITA))
    canal = notificaciones.SMS if origen == "telefono" else None
    notificaciones.encolar_cita(session, cita=cita, tipo=notificaciones.CITA_CANCELADA, ahora=ahora,
                                canal=canal)
    session.commit()
    return ResultadoCancelacion(cita, False)


def _cambiar_estatus(session: Session, cita: Cita, *, desde: tuple[str, ...], a: str, conflicto: str,
                     **valores: object) -> bool:
    """Conditional UPDATE from `desde` to `a`: of two simultaneous requests exactly
    one changes the row. True when another request had already made it `a` (the
    caller answers idempotently); a 409 with `conflicto` when it went anywhere else."""
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


def marcar_atendida(session: Session, *, clave: str, ahora: datetime, origen: str = "capp") -> ResultadoAtencion:
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
        raise Conflicto(f"La cita {clave} es para el {fecha_larga(cita.inicio)}; solo puede marcarse "
                        "como atendida ese día o después.", "cita_futura")
    if _cambiar_estatus(session, cita, desde=(AGENDADA, VENCIDA), a=ATENDIDA,
                        conflicto="La cita cambió mientras la registrábamos; consulte la bitácora."):
        return ResultadoAtencion(cita, True)
    _registrar(session, cita, ATENDIDA, ahora=ahora, origen=origen)
    notificaciones.descartar_pendientes(session, cita_id=cita.id, tipos=(notificaciones.RECORDATORIO_CITA,))
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
        raise _no_encontrada_token(clave)
    return cita


def registrado_en(cita: Cita) -> datetime:
    eventos = [e for e in cita.eventos if e.estatus == AGENDADA]
    return utc(eventos[0].registrado_en) if eventos else utc(cita.creado_en)


def hoja_pdf(cita: Cita, *, ahora: datetime | None = None) -> bytes:
    """The hoja de asignación of a current or attended cita."""
    if cita.estatus not in (AGENDADA, ATENDIDA):
        raise Conflicto(
            f"La cita {cita.clave} está {cita.estatus.lower()}; ya no tiene hoja de asignación vigente. "
            "Si lo desea, agende una nueva cita.",
            "cita_sin_hoja",
        )
    dh = cita.derechohabiente
    return generar_hoja(DatosHoja(
        clave=cita.clave,
        estatus=cita.estatus,
        nombre=dh.nombre_completo,
        curp_enmascarada=mascara_curp(dh.curp),
        oficina=cita.oficina.nombre,
        direccion=cita.oficina.direccion,
        telefono_oficina=cita.oficina.telefono,
        fecha=fecha_larga(cita.inicio),
        hora=hora_texto(cita.inicio),
        registrado_en=registro_texto(registrado_en(cita)),
        generado_en=ahora or datetime.now(UTC),
    ))


@enlaces.registrar_archivo(KIND_HOJA)
def _hoja_por_enlace(session: Session, clave: str, ahora: datetime) -> enlaces.Archivo:
    cita = session.scalar(select(Cita).where(Cita.clave == clave))
    if cita is None:
        raise NoEncontrado("El documento ya no está disponible.", "archivo_no_encontrado")
    return enlaces.Archivo(hoja_pdf(cita, ahora=ahora), f"hoja_cita_{cita.clave}.pdf")


def crear_enlace_hoja(
    session: Session,
    settings: BackendSettings,
    *,
    derechohabiente: Derechohabiente,
    clave: str,
    ahora: datetime,
) -> tuple[str, datetime]:
    """A signed, expiring public URL to the hoja (for Twilio media or an SMS)."""
    cita = obtener_cita(session, derechohabiente=derechohabiente, clave=clave)
    if cita.estatus not in (AGENDADA, ATENDIDA):
        hoja_pdf(cita)  # raises the Spanish 409
    return enlaces.url_firmada(settings, kind=KIND_HOJA, id_=cita.clave, ttl=TTL_ENLACE_HOJA, ahora=ahora)


def reenviar_hoja(
    session: Session,
    *,
    derechohabiente: Derechohabiente,
    clave: str,
    ahora: datetime,
    canal: str | None = None,
) -> tuple[Cita, str | None]:
    """Queue the hoja again to the person's phone; returns (cita, canal or None if no phone).

    Requests within the same minute are one message (idempotent retries)."""
    cita = obtener_cita(session, derechohabiente=derechohabiente, clave=clave)
    if cita.estatus not in (AGENDADA, ATENDIDA):
        hoja_pdf(cita)  # raises the Spanish 409
    if not derechohabiente.telefono:
        raise Conflicto("No tenemos un teléfono registrado a su nombre para enviarle la hoja. "
                        "Puede descargarla desde el sistema de citas.", "sin_telefono")
    canal = canal or cita.canal_notificacion
    clave_unica = f"{notificaciones.HOJA_CITA}:{cita.id}:{canal}:{utc(ahora):%Y%m%d%H%M}"
    notificaciones.encolar_cita(session, cita=cita, tipo=notificaciones.HOJA_CITA, ahora=ahora,
                                canal=canal, clave_unica=clave_unica)
    session.commit()
    return cita, canal
