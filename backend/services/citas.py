"""Citas administrativas: book, cancel, bitácora, hoja de asignación.

Capacity and "one AGENDADA cita per person" are enforced by the database
(see backend/models/cita.py), so they hold under concurrent requests; this
module turns the constraint violations into clear Spanish 409s."""

from __future__ import annotations

import re
import secrets
import string
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.errors import ErrorNegocio
from backend.models import Cita, Derechohabiente, EventoCita
from backend.models.cita import AGENDADA, ATENDIDA, CANCELADA, VENCIDA
from backend.privacy import mascara_curp
from backend.services import enlaces, notificaciones
from backend.services.disponibilidad import (
    DURACION,
    fecha_larga,
    hora_texto,
    local,
    registro_texto,
    utc,
    validar_inicio,
)
from backend.services.oficinas import obtener_oficina
from backend.services.pdf_hoja_cita import DatosHoja, generar_hoja
from backend.settings import BackendSettings

ALFABETO_CLAVE = string.ascii_uppercase + string.digits
LONGITUD_CLAVE = 6
PLAZO_CANCELACION = timedelta(hours=36)
TTL_ENLACE_HOJA = timedelta(hours=24)
KIND_HOJA = "hoja_cita"
_CLAVE_RE = re.compile(r"^[A-Z0-9]{6}$")

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
        raise ErrorNegocio(
            404,
            "La clave de cita tiene 6 letras o números, por ejemplo CC3QZ8. Revísela por favor.",
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


def _ya_tiene_cita(cita: Cita) -> ErrorNegocio:
    return ErrorNegocio(
        409,
        f"Usted ya tiene una cita agendada con la clave {cita.clave} {_texto_cita(cita)}. "
        "Solo puede tener una cita a la vez: si desea cambiarla, primero cancele la actual.",
        "cita_vigente_existente",
        clave_cita_vigente=cita.clave,
    )


def _horario_lleno() -> ErrorNegocio:
    return ErrorNegocio(
        409,
        "Lo sentimos, ese horario ya no tiene lugares disponibles. Elija otro horario, por favor.",
        "horario_lleno",
    )


def _registrar(session: Session, cita: Cita, estatus: str, *, ahora: datetime, origen: str) -> None:
    session.add(EventoCita(cita_id=cita.id, estatus=estatus, registrado_en=utc(ahora), origen=origen))


def _vencer_pasadas(session: Session, *, derechohabiente_id: int, ahora: datetime) -> None:
    """AGENDADA citas whose time is over become VENCIDA (bitácora row included).

    Always issues an UPDATE, which also opens the write transaction on SQLite
    before any SAVEPOINT (pysqlite only begins transactions on DML)."""
    pasadas = session.scalars(
        select(Cita.id).where(Cita.derechohabiente_id == derechohabiente_id,
                              Cita.estatus == AGENDADA, Cita.fin <= utc(ahora))
    ).all()
    session.execute(
        update(Cita)
        .where(Cita.derechohabiente_id == derechohabiente_id, Cita.estatus == AGENDADA,
               Cita.fin <= utc(ahora))
        .values(estatus=VENCIDA)
    )
    for cita_id in pasadas:
        session.add(EventoCita(cita_id=cita_id, estatus=VENCIDA, registrado_en=utc(ahora), origen="sistema"))
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
        for _ in range(10):  # clave collisions are ~1 in 10^9; retry with a fresh one
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
                    raise ErrorNegocio(409, "Usted ya tiene una cita en proceso de registro; "
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
            raise RuntimeError("no se pudo generar una clave de cita única")
    session.rollback()
    raise _horario_lleno()


@dataclass(frozen=True)
class ResultadoCancelacion:
    cita: Cita
    ya_estaba_cancelada: bool


def _no_encontrada_token(clave: str) -> ErrorNegocio:
    return ErrorNegocio(404, f"No encontramos una cita con la clave {clave} a su nombre. "
                        "Revise la clave en su bitácora de citas.", "cita_no_encontrada")


def _no_encontrada_publica() -> ErrorNegocio:
    # Same answer whether the clave does not exist or the birth date is wrong.
    return ErrorNegocio(404, "No encontramos una cita con esa clave y esa fecha de nacimiento. "
                        "Revise ambos datos e intente de nuevo.", "cita_no_encontrada")


def buscar_para_cancelar(
    session: Session,
    *,
    clave: str,
    derechohabiente: Derechohabiente | None,
    fecha_nacimiento: date | None,
) -> Cita:
    if derechohabiente is None and fecha_nacimiento is None:
        raise ErrorNegocio(401, "Para cancelar necesita identificarse con su CURP y su NIP, "
                           "o indicar su fecha de nacimiento junto con la clave de cita.",
                           "no_autenticado")
    try:
        clave = normalizar_clave(clave)
    except ErrorNegocio:
        if derechohabiente is None:
            raise _no_encontrada_publica() from None
        raise
    cita = session.scalar(select(Cita).where(Cita.clave == clave))
    if derechohabiente is not None:
        if cita is None or cita.derechohabiente_id != derechohabiente.id:
            raise _no_encontrada_token(clave)
        return cita
    if cita is None or cita.derechohabiente.fecha_nacimiento != fecha_nacimiento:
        raise _no_encontrada_publica()
    return cita


def limite_cancelacion(cita: Cita) -> datetime:
    return utc(cita.inicio) - PLAZO_CANCELACION


def cancelar(
    session: Session,
    *,
    clave: str,
    ahora: datetime,
    derechohabiente: Derechohabiente | None = None,
    fecha_nacimiento: date | None = None,
    origen: str = "web",
) -> ResultadoCancelacion:
    """Cancel up to 36 h before the start; cancelling twice answers the same."""
    cita = buscar_para_cancelar(session, clave=clave, derechohabiente=derechohabiente,
                                fecha_nacimiento=fecha_nacimiento)
    if cita.estatus == CANCELADA:
        return ResultadoCancelacion(cita, True)
    if cita.estatus == ATENDIDA:
        raise ErrorNegocio(409, f"La cita {cita.clave} ya fue atendida; no es posible cancelarla.",
                           "cita_atendida")
    if cita.estatus == VENCIDA or utc(cita.inicio) <= utc(ahora):
        raise ErrorNegocio(409, f"La cita {cita.clave} ya pasó; no es posible cancelarla.", "cita_pasada")
    limite = limite_cancelacion(cita)
    if utc(ahora) > limite:
        raise ErrorNegocio(
            409,
            f"Ya no es posible cancelar la cita {cita.clave}: las cancelaciones se aceptan hasta "
            f"36 horas antes de la cita y el plazo venció el {fecha_larga(limite)} a las "
            f"{local(limite):%H:%M} horas. Si no podrá asistir, llame a la Línea ASISSSTE "
            "55 4000 1000, opción 5.",
            "plazo_cancelacion_vencido",
            limite_cancelacion=local(limite).isoformat(),
        )
    # Conditional UPDATE: of two simultaneous cancellations exactly one records the event.
    resultado = session.execute(
        update(Cita)
        .where(Cita.id == cita.id, Cita.estatus == AGENDADA)
        .values(estatus=CANCELADA, lugar=None, cancelada_en=utc(ahora))
        .execution_options(synchronize_session=False)
    )
    if resultado.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        session.refresh(cita)
        if cita.estatus == CANCELADA:
            return ResultadoCancelacion(cita, True)
        raise ErrorNegocio(409, "La cita cambió mientras la cancelábamos; consulte su bitácora.", "conflicto")
    _registrar(session, cita, CANCELADA, ahora=ahora, origen=origen)
    session.flush()
    session.refresh(cita)
    notificaciones.descartar_pendientes(session, cita_id=cita.id,
                                        tipos=(notificaciones.RECORDATORIO_CITA, notificaciones.HOJA_CITA))
    canal = notificaciones.SMS if origen == "telefono" else None
    notificaciones.encolar_cita(session, cita=cita, tipo=notificaciones.CITA_CANCELADA, ahora=ahora,
                                canal=canal)
    session.commit()
    return ResultadoCancelacion(cita, False)


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
        raise ErrorNegocio(
            409,
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
def _hoja_por_enlace(session: Session, clave: str) -> enlaces.Archivo:
    cita = session.scalar(select(Cita).where(Cita.clave == clave))
    if cita is None:
        raise ErrorNegocio(404, "El documento ya no está disponible.", "archivo_no_encontrado")
    return enlaces.Archivo(hoja_pdf(cita), f"hoja_cita_{cita.clave}.pdf")


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
        raise ErrorNegocio(409, "No tenemos un teléfono registrado a su nombre para enviarle la hoja. "
                           "Puede descargarla desde el sistema de citas.", "sin_telefono")
    canal = canal or cita.canal_notificacion
    clave_unica = f"{notificaciones.HOJA_CITA}:{cita.id}:{canal}:{utc(ahora):%Y%m%d%H%M}"
    notificaciones.encolar_cita(session, cita=cita, tipo=notificaciones.HOJA_CITA, ahora=ahora,
                                canal=canal, clave_unica=clave_unica)
    session.commit()
    return cita, canal
