"""Public, signed and expiring file links (Twilio fetches WhatsApp media without credentials)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from backend.deps import Ahora, SessionDep, settings_of
from backend.errors import ERROR_RESPONSES, ErrorResponse
from backend.services import enlaces
from backend.services import hoja_cita as _hoja_cita  # noqa: F401  (registers the hoja_cita kind)
from backend.services.errores import NoEncontrado

router = APIRouter(
    prefix="/api/v1/archivos",
    tags=["archivos"],
    responses={**ERROR_RESPONSES,
               403: {"model": ErrorResponse, "description": "Enlace no válido"},
               410: {"model": ErrorResponse, "description": "Enlace expirado"}},
)


@router.get(
    "/{firma}",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "El documento"}},
    summary="Documento por enlace firmado",
)
def archivo(firma: str, request: Request, session: SessionDep,
            ahora: Ahora) -> Response:
    enlace = enlaces.verify(settings_of(request), firma, ahora=ahora)
    generar = enlaces.generador(enlace.kind)
    if generar is None:
        raise NoEncontrado("El documento ya no está disponible.", "archivo_no_encontrado")
    doc = generar(session, enlace.id, ahora)
    return Response(doc.contenido, media_type=doc.media_type,
                    headers={"Content-Disposition": f'inline; filename="{doc.nombre}"',
                             "Cache-Control": "private, max-age=300"})
