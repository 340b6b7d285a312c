"""All ORM models; importing this package registers every table on Base.metadata."""

from backend.models.base import Base
from backend.models.derechohabiente import Derechohabiente
from backend.models.prestamo import Movimiento, Prestamo

__all__ = ["Base", "Derechohabiente", "Movimiento", "Prestamo"]
