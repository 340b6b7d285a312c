"""Identity: CURP + NIP -> short-lived token; the verified person's profile."""

from __future__ import annotations

from fastapi import APIRouter, Request

from backend.deps import Ahora, DerechohabienteActual, SessionDep, settings_of
from backend.errors import ERRORES_BD, ERRORES_COMUNES, ERRORES_CUERPO, respuestas_error
from backend.schemas.identidad import Perfil, VerificarRespuesta, VerificarSolicitud
from backend.security import emitir_token
from backend.services import identidad as servicio
from backend.services import limites

router = APIRouter(
    prefix="/api/v1/identidad",
    tags=["identidad"],
    responses=respuestas_error(401, *ERRORES_COMUNES, *ERRORES_BD),
)


@router.post(
    "/verificar",
    response_model=VerificarRespuesta,
    summary="Verificar CURP y NIP",
    responses=respuestas_error(*ERRORES_CUERPO, 423, 429),
)
def verificar(
    solicitud: VerificarSolicitud, request: Request, session: SessionDep, ahora: Ahora
) -> VerificarRespuesta:
    settings = settings_of(request)
    dh = servicio.verificar(
        session,
        curp=solicitud.curp,
        nip=solicitud.nip,
        settings=settings,
        ahora=ahora,
        origen=limites.origen_de(request, settings),
    )
    # The token's own clock is the real one: PyJWT checks iat/exp against it.
    token, expira = emitir_token(dh, settings)
    return VerificarRespuesta(
        token=token,
        expira_en=expira,
        expira_en_segundos=settings.token_ttl_minutes * 60,
        nombre=dh.nombre,
        nombre_completo=dh.nombre_completo,
        tipo=dh.tipo,
    )


@router.get("/perfil", response_model=Perfil, summary="Datos del derechohabiente identificado")
def perfil(dh: DerechohabienteActual) -> Perfil:
    return Perfil.model_validate(dh, from_attributes=True)
