"""Shared helpers for the citas / oficinas / enlaces / notificaciones tests."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from backend.models import Derechohabiente, Oficina
from backend.security import emitir_token
from backend.settings import BackendSettings

MX = ZoneInfo("America/Mexico_City")
# Monday 22 January 2024, 10:07 in Mexico City; Tuesday 30 January is 8 days later.
AHORA = datetime(2024, 1, 22, 10, 7, tzinfo=MX)


def mx(y: int, m: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime:
    return datetime(y, m, d, h, mi, s, tzinfo=MX)


def crear_dh(
    session: Session,
    *,
    curp: str = "PEGL890909MJCRMS08",
    nacimiento: date = date(1989, 9, 9),
    telefono: str | None = "+5213312345678",
    nombre: str = "Laura",
) -> Derechohabiente:
    dh = Derechohabiente(
        curp=curp, nombre=nombre, primer_apellido="Pérez", segundo_apellido="Gómez", sexo=curp[10],
        fecha_nacimiento=nacimiento, tipo="asegurado", dependencia="SEP",
        sueldo_base_mensual=Decimal("15000.00"), anios_cotizacion=12, telefono=telefono,
        nip_hash="no-se-usa-en-estas-pruebas",
    )
    session.add(dh)
    session.commit()
    return dh


def curp_prueba(i: int) -> str:
    """Distinct CURP-shaped strings for many test personas."""
    return f"PRUE{800101 + i:06d}HDFRRN{i % 10}{i % 7}"[:18]


def crear_oficina(session: Session, *, ventanillas: int = 2, clave: str = "TST-01",
                  nombre: str = "Oficina de Representación del ISSSTE de prueba") -> Oficina:
    oficina = Oficina(
        clave=clave,
        nombre=nombre,
        estado="Ciudad de México",
        ciudad="Ciudad de México",
        direccion="Av. de Prueba 1, Col. Centro, C.P. 06000, Ciudad de México",
        telefono="55 4000 1000",
        horario="Lunes a viernes de 8:30 a 15:30 h",
        ventanillas=ventanillas,
        activa=True,
    )
    session.add(oficina)
    session.commit()
    return oficina


def auth(settings: BackendSettings, dh: Derechohabiente) -> dict[str, str]:
    # The token is issued "now" (real clock) so it is valid whatever the frozen business clock says.
    token, _ = emitir_token(dh, settings)
    return {"Authorization": f"Bearer {token}"}
