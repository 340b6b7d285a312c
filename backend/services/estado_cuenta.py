"""The estado de cuenta PDF: for the identified derechohabiente, and behind a
signed, expiring public link (Twilio fetches WhatsApp media without credentials).

The link carries only the loan's folio; the PDF is generated when the link is
fetched, with the saldo of that day in Mexico City (never a stored copy).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.models import Derechohabiente, Prestamo
from backend.services import enlaces
from backend.services import prestamos as servicio
from backend.services.disponibilidad import local
from backend.services.errores import NoEncontrado
from backend.services.pdf_estado_cuenta import generar_estado_cuenta
from backend.settings import BackendSettings

KIND_ESTADO_CUENTA = "estado_cuenta"
TTL_ENLACE_ESTADO_CUENTA = timedelta(hours=24)


def prestamo_solicitado(
    session: Session, *, derechohabiente_id: int, folio: str | None
) -> Prestamo:
    """The loan `folio` of this derechohabiente (404 if it is not theirs), or the vigente one."""
    if folio:
        return servicio.prestamo_por_folio(
            session, derechohabiente_id=derechohabiente_id, folio=folio
        )
    return servicio.exigir_vigente(session, derechohabiente_id=derechohabiente_id)


def documento(session: Session, *, prestamo: Prestamo, emitido: datetime) -> enlaces.Archivo:
    """The statement of `prestamo` with its saldo on `emitido`'s date; `emitido` in local time."""
    estado = servicio.estado_prestamo(session, prestamo=prestamo, al=emitido.date())
    contenido = generar_estado_cuenta(
        derechohabiente=prestamo.derechohabiente, estado=estado, emitido=emitido
    )
    return enlaces.Archivo(contenido, f"estado-de-cuenta-{prestamo.folio}.pdf")


def crear_enlace(
    session: Session,
    settings: BackendSettings,
    *,
    derechohabiente: Derechohabiente,
    folio: str | None,
    ahora: datetime,
) -> tuple[str, datetime]:
    """A signed public URL to the statement of one of the derechohabiente's loans,
    and its expiry."""
    prestamo = prestamo_solicitado(session, derechohabiente_id=derechohabiente.id, folio=folio)
    return enlaces.url_firmada(settings, kind=KIND_ESTADO_CUENTA, id_=prestamo.folio,
                               ttl=TTL_ENLACE_ESTADO_CUENTA, ahora=ahora)


@enlaces.registrar_archivo(KIND_ESTADO_CUENTA)
def _estado_cuenta_por_enlace(session: Session, folio: str, ahora: datetime) -> enlaces.Archivo:
    prestamo = session.scalars(select(Prestamo).where(Prestamo.folio == folio)).first()
    if prestamo is None:
        raise NoEncontrado("El documento ya no está disponible.", "archivo_no_encontrado")
    return documento(session, prestamo=prestamo, emitido=local(ahora))
