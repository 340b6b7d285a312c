"""The hoja de asignación of a cita: the PDF, its signed link and sending it again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.models import Cita, Derechohabiente
from backend.models.cita import AGENDADA, ATENDIDA
from backend.privacy import mascara_curp
from backend.services import enlaces, notificaciones
from backend.services.citas import obtener_cita, registrado_en
from backend.services.disponibilidad import fecha_larga, hora_texto, registro_texto, utc
from backend.services.errores import Conflicto, NoEncontrado
from backend.services.pdf_hoja_cita import DatosHoja, generar_hoja
from backend.settings import BackendSettings

TTL_ENLACE_HOJA = timedelta(hours=24)
KIND_HOJA = "hoja_cita"


def _exigir_hoja_vigente(cita: Cita) -> None:
    """Only a current or attended cita has a hoja."""
    if cita.estatus not in (AGENDADA, ATENDIDA):
        raise Conflicto(
            f"La cita {cita.clave} está {cita.estatus.lower()}; ya no tiene hoja de asignación "
            "vigente. Si lo desea, agende una nueva cita.",
            "cita_sin_hoja",
        )


def hoja_pdf(cita: Cita, *, ahora: datetime | None = None) -> bytes:
    """The hoja de asignación of a current or attended cita."""
    _exigir_hoja_vigente(cita)
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
    _exigir_hoja_vigente(cita)
    return enlaces.url_firmada(
        settings, kind=KIND_HOJA, id_=cita.clave, ttl=TTL_ENLACE_HOJA, ahora=ahora
    )


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
    _exigir_hoja_vigente(cita)
    if not derechohabiente.telefono:
        raise Conflicto("No tenemos un teléfono registrado a su nombre para enviarle la hoja. "
                        "Puede descargarla desde el sistema de citas.", "sin_telefono")
    canal = canal or cita.canal_notificacion
    clave_unica = f"{notificaciones.HOJA_CITA}:{cita.id}:{canal}:{utc(ahora):%Y%m%d%H%M}"
    notificaciones.encolar_cita(session, cita=cita, tipo=notificaciones.HOJA_CITA, ahora=ahora,
                                canal=canal, clave_unica=clave_unica)
    session.commit()
    return cita, canal
