"""The loan-product catalogue: data in backend/data/productos.json, read once."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from backend.schemas.productos import Catalogo, Producto
from backend.services.errores import ErrorDominio, ReglaIncumplida

RUTA_CATALOGO = Path(__file__).resolve().parents[1] / "data" / "productos.json"


@lru_cache(maxsize=4)
def cargar_catalogo(ruta: Path = RUTA_CATALOGO) -> Catalogo:
    """Parse and validate the catalogue file (cached: it changes once a year)."""
    return Catalogo.model_validate_json(ruta.read_bytes())


@lru_cache(maxsize=4)
def _por_clave(ruta: Path = RUTA_CATALOGO) -> dict[str, Producto]:
    return {p.clave: p for p in cargar_catalogo(ruta).productos}


def listar_productos(*, ruta: Path = RUTA_CATALOGO) -> Catalogo:
    return cargar_catalogo(ruta)


def obtener_producto(*, clave: str, ruta: Path = RUTA_CATALOGO, si_no_existe: type[ErrorDominio] = ReglaIncumplida) -> Producto:
    """The product with this clave, or an error naming the ones that exist."""
    productos = _por_clave(ruta)
    normalizada = clave.strip().lower().replace(" ", "_").replace("-", "_")
    producto = productos.get(normalizada)
    if producto is None:
        nombres = ", ".join(p.nombre.lower() for p in productos.values())
        raise si_no_existe(
            f"No conocemos ese tipo de préstamo. Podemos simular: {nombres}.",
            "producto_desconocido",
        )
    return producto
