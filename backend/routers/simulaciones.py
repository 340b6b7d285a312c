from __future__ import annotations

from fastapi import APIRouter

from backend.errors import ERRORES_COMUNES, ERRORES_CUERPO, respuestas_error
from backend.schemas.simulacion import SimulacionRespuesta, SimulacionSolicitud
from backend.services.simulacion import simular

# Pure arithmetic on the catalogue: no database and no token, so no 401/503.
router = APIRouter(
    prefix="/api/v1/simulaciones",
    tags=["simulaciones"],
    responses=respuestas_error(*ERRORES_CUERPO, *ERRORES_COMUNES),
)


@router.post(
    "", response_model=SimulacionRespuesta, summary="Simular un préstamo (descuento, monto y plazo)"
)
async def crear_simulacion(solicitud: SimulacionSolicitud) -> SimulacionRespuesta:
    # async: pure arithmetic on cached data, no I/O, so no thread-pool hop per request.
    resultado = simular(
        producto=solicitud.producto,
        sueldo_base_mensual=solicitud.sueldo_base_mensual,
        plazo_quincenas=solicitud.plazo_quincenas,
        renovacion=solicitud.renovacion,
        tipo=solicitud.tipo,
        anios_cotizacion=solicitud.anios_cotizacion,
        sexo=solicitud.sexo,
        incluir_tabla=solicitud.incluir_tabla,
    )
    return SimulacionRespuesta.model_validate(resultado, from_attributes=True)
