from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from backend.errors import ERRORES_COMUNES, respuestas_error
from backend.schemas.productos import Catalogo, Producto
from backend.services import productos as servicio
from backend.services.errores import NoEncontrado

# The catalogue is a data file: no database, no token, so no 401/503.
router = APIRouter(
    prefix="/api/v1/productos", tags=["productos"], responses=respuestas_error(*ERRORES_COMUNES)
)


@router.get(
    "", response_model=Catalogo, summary="Catálogo de préstamos con sus parámetros vigentes"
)
async def listar_productos() -> Catalogo:
    return Catalogo.model_validate(servicio.listar_productos())


@router.get(
    "/{clave}",
    response_model=Producto,
    summary="Un producto del catálogo",
    responses=respuestas_error(404),
)
async def obtener_producto(
    clave: Annotated[
        str,
        Path(
            min_length=1,
            max_length=60,
            pattern=r"^[A-Za-z0-9_ -]+$",
            examples=["credito_complementario"],
        ),
    ],
) -> Producto:
    return Producto.model_validate(
        servicio.obtener_producto(clave=clave, si_no_existe=NoEncontrado)
    )
