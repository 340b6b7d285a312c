"""FOPI (bank payment forms) of the identified derechohabiente, and the banks'
payment notifications (authenticated with a shared secret, not a token)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Any

from fastapi import APIRouter, Request, Response

from backend.deps import (
    Ahora,
    DerechohabienteActual,
    Hoy,
    SessionDep,
    secreto_compartido,
)
from backend.errors import ERROR_RESPONSES
from backend.routers.respuestas import PREFIJO_PAGOS, fopi_respuesta
from backend.schemas.pagos import (
    FopiRespuesta,
    FopiSolicitud,
    NotificacionBancaria,
    NotificacionRespuesta,
)
from backend.services import fopi as servicio
from backend.services import pagos_banco
from backend.services.pdf_fopi import generar_pdf

router = APIRouter(prefix=PREFIJO_PAGOS, tags=["pagos"], responses=ERROR_RESPONSES)


@router.post(
    "/fopi",
    status_code=201,
    response_model=FopiRespuesta,
    summary="Generar un FOPI de pago parcial o de liquidación",
)
def crear_fopi(
    solicitud: FopiSolicitud,
    dh: DerechohabienteActual,
    session: SessionDep,
    request: Request,
    hoy: Hoy,
    ahora: Ahora,
) -> FopiRespuesta:
    fopi = servicio.emitir_fopi(
        session=session,
        derechohabiente=dh,
        tipo=solicitud.tipo,
        monto=solicitud.monto,
        folio=solicitud.folio_prestamo,
        hoy=hoy,
    )
    return fopi_respuesta(fopi, request, ahora)


@router.get(
    "/fopi",
    response_model=list[FopiRespuesta],
    summary="Formatos de pago emitidos (más reciente primero)",
)
def listar_fopis(
    dh: DerechohabienteActual, session: SessionDep, request: Request, hoy: Hoy, ahora: Ahora
) -> list[FopiRespuesta]:
    return [fopi_respuesta(f, request, ahora)
            for f in servicio.listar_fopis(session=session, derechohabiente=dh, hoy=hoy)]


def _pdf(referencia: str, dh: DerechohabienteActual, session: SessionDep, hoy: date) -> Response:
    fopi = servicio.obtener_fopi(
        session=session, derechohabiente=dh, referencia=referencia, hoy=hoy
    )
    contenido = generar_pdf(fopi=fopi, prestamo=fopi.prestamo, derechohabiente=dh)
    return Response(
        contenido,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="fopi-{fopi.referencia}.pdf"'},
    )


_PDF: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/pdf": {}}, "description": "El FOPI en PDF"}
}


# Declared before /fopi/{referencia}: that pattern would also match "<ref>.pdf".
@router.get(
    "/fopi/{referencia}.pdf", response_class=Response, responses=_PDF, summary="FOPI en PDF"
)
def fopi_pdf(referencia: str, dh: DerechohabienteActual, session: SessionDep, hoy: Hoy) -> Response:
    return _pdf(referencia, dh, session, hoy)


@router.get(
    "/fopi/{referencia}/pdf",
    response_class=Response,
    responses=_PDF,
    summary="FOPI en PDF (ruta alterna)",
)
def fopi_pdf_alterno(
    referencia: str, dh: DerechohabienteActual, session: SessionDep, hoy: Hoy
) -> Response:
    return _pdf(referencia, dh, session, hoy)


@router.get("/fopi/{referencia}", response_model=FopiRespuesta, summary="Consultar un FOPI")
def obtener_fopi(
    referencia: str,
    dh: DerechohabienteActual,
    session: SessionDep,
    request: Request,
    hoy: Hoy,
    ahora: Ahora,
) -> FopiRespuesta:
    return fopi_respuesta(
        servicio.obtener_fopi(session=session, derechohabiente=dh, referencia=referencia, hoy=hoy),
        request,
        ahora,
    )


_SOLO_BANCO = secreto_compartido(
    encabezado="X-Webhook-Secret",
    ajuste="banco_webhook_secret",
    descripcion="Clave compartida con el banco",
    quien="del banco",
    servicio="Las notificaciones bancarias",
)


@router.post(
    "/notificacion-bancaria",
    response_model=NotificacionRespuesta,
    summary="Notificación de pago de un banco autorizado (idempotente)",
    **_SOLO_BANCO,
)
def notificacion_bancaria(
    notificacion: NotificacionBancaria, session: SessionDep, hoy: Hoy
) -> NotificacionRespuesta:
    resultado = pagos_banco.aplicar_notificacion(
        session=session, hoy=hoy, **notificacion.model_dump()
    )
    if not resultado.aplicado:
        mensaje = "Esta notificación ya se había aplicado; no se registró de nuevo."
    elif resultado.saldo_a_favor > 0:
        mensaje = (f"Pago aplicado. El pago excedió el saldo a la fecha de pago; quedan "
                   f"${resultado.saldo_a_favor:,.2f} a favor del derechohabiente.")
    else:
        mensaje = "Pago aplicado al préstamo."
    return NotificacionRespuesta(**asdict(resultado), mensaje=mensaje)
