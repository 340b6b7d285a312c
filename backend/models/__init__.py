"""All ORM models; importing this package registers every table on Base.metadata."""

from backend.models.base import Base
from backend.models.derechohabiente import Derechohabiente
from backend.models.prestamo import Movimiento, Prestamo

__all__ = ["Base", "Derechohabiente", "Movimiento", "Prestamo"]

# citas & notificaciones (backend citas)
from backend.models.cita import Cita, EventoCita, IntentoCancelacion  # noqa: E402
from backend.models.notificacion import Notificacion  # noqa: E402
from backend.models.oficina import Oficina  # noqa: E402

__all__ += ["Cita", "EventoCita", "IntentoCancelacion", "Notificacion", "Oficina"]

# FOPI & regularización (backend pagos)
from backend.models.fopi import Fopi  # noqa: E402

__all__ += ["Fopi"]

# request hardening (identity lockouts, throttling, idempotency)
from backend.models.seguridad import ClaveIdempotencia, IntentoFallido, IntentoIdentidad  # noqa: E402

__all__ += ["ClaveIdempotencia", "IntentoFallido", "IntentoIdentidad"]
