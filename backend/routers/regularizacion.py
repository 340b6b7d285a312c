"""Regularisation of quincenas the dependencia did not discount by payroll."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request

from backend.deps import Ahora, DerechohabienteActual, Hoy, SessionDep
from backend.errors import ERROR_RESPONSES
from backend.routers.respuestas import fopi_respuesta, quincenas_regularizadas
from backend.schemas.pagos import FopiRespuesta
from backend.schemas.regularizacion import RegularizacionRespuesta
from backend.services import fopi as servicio_fopi
from backend.services import regularizacion as servicio

router = APIRouter(
    prefix="/api/v1/regularizacion", tags=["regularización"], responses=ERROR_RESPONSES
)

FolioQuery = Query(
    default=None, description="Folio del préstamo; si se omite, el vigente más reciente"
)


@router.get(
    "", response_model=RegularizacionRespuesta, summary="Quincenas no descontadas y su adeudo"
)
def consultar(
    dh: DerechohabienteActual, session: SessionDep, hoy: Hoy, folio: str | None = FolioQuery
) -> RegularizacionRespuesta:
    prestamo = servicio_fopi.prestamo_vigente(
        session=session, derechohabiente_id=dh.id, folio=folio
    )
    calculo = servicio.consultar(
        session=session,
        prestamo=prestamo,
        hoy=hoy,
        al=servicio_fopi.calcular_vigencia(hoy),
    )
    return RegularizacionRespuesta(
        pendiente=calculo.pendiente,
        folio_prestamo=prestamo.folio,
        quincenas=quincenas_regularizadas(calculo.quincenas),
        adeudo=calculo.adeudo,
        total=calculo.total,
        calculado_al=calculo.calculado_al,
    )


@router.post(
    "/fopi",
    status_code=201,
    response_model=FopiRespuesta,
    summary="FOPI para regularizar lo no descontado",
)
def crear_fopi(
    dh: DerechohabienteActual,
    session: SessionDep,
    request: Request,
    hoy: Hoy,
    ahora: Ahora,
    folio: str | None = FolioQuery,
) -> FopiRespuesta:
    fopi, _calculo = servicio_fopi.emitir_fopi_regularizacion(
        session=session, derechohabiente=dh, hoy=hoy, folio=folio
    )
    return fopi_respuesta(fopi, request, ahora)
