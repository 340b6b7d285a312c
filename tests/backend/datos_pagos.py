"""Test data for the FOPI and regularisation suites: a derechohabiente with a
loan and its payroll movimientos, built with the models (not the seed script)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.deps import reloj
from backend.models import Derechohabiente, Movimiento, Prestamo
from backend.services import finanzas
from backend.settings import BackendSettings
from tests.backend._citas_apoyo import auth
from tests.backend.conftest import SECRETO_BANCO

MEXICO = ZoneInfo("America/Mexico_City")


def fijar_hoy(client: TestClient, dia: date) -> None:
    """Move the app's clock to noon of `dia`, Mexico City time."""
    instante = datetime.combine(dia, time(12, 0), tzinfo=MEXICO).astimezone(UTC)
    client.app.dependency_overrides[reloj] = lambda: instante  # type: ignore[attr-defined]


def crear_derechohabiente(
    session: Session, *, curp: str = "BEML920313HMCLNS09", nombre: str = "Luis"
) -> Derechohabiente:
    dh = Derechohabiente(
        curp=curp,
        nombre=nombre,
        primer_apellido="Bello",
        segundo_apellido="Mendoza",
        sexo=curp[10],
        fecha_nacimiento=date(1992, 3, 13),
        tipo="asegurado",
        dependencia="Secretaría de Educación Pública",
        sueldo_base_mensual=Decimal("18000.00"),
        anios_cotizacion=8,
        nip_hash="no-se-usa-en-estas-pruebas",
    )
    session.add(dh)
    session.commit()
    return dh


def crear_prestamo(
    session: Session,
    dh: Derechohabiente,
    *,
    folio: str = "PP-2026-000123",
    monto: str = "40000.00",
    descuento: str = "1000.00",
    plazo: int = 48,
    primer_descuento: date = date(2026, 1, 15),
    nomina_hasta: date | None = None,
    quincenas_omitidas: tuple[int, ...] = (),
) -> Prestamo:
    """A VIGENTE loan with a NOMINA movimiento for every quincena up to
    `nomina_hasta` (inclusive) except the numbers in `quincenas_omitidas`."""
    prestamo = Prestamo(
        folio=folio,
        derechohabiente_id=dh.id,
        producto="credito_complementario",
        monto=Decimal(monto),
        plazo_quincenas=plazo,
        tasa_anual=Decimal("0.1600"),
        descuento_quincenal=Decimal(descuento),
        fecha_otorgamiento=date(2026, 1, 5),
        fecha_primer_descuento=primer_descuento,
        estatus="VIGENTE",
    )
    session.add(prestamo)
    session.flush()
    if nomina_hasta is not None:
        for numero, fecha in enumerate(finanzas.fechas_quincena(primer_descuento, plazo), start=1):
            if fecha > nomina_hasta:
                break
            if numero in quincenas_omitidas:
                continue
            registrar_movimiento(session, prestamo, fecha, descuento, "NOMINA",
                                 f"NOM-{prestamo.id}-{numero:03d}", quincena=numero)
    session.commit()
    return prestamo


def registrar_movimiento(
    session: Session,
    prestamo: Prestamo,
    fecha: date,
    monto: str,
    origen: str,
    referencia: str,
    quincena: int | None = None,
) -> None:
    """A payment on the loan's ledger, as payroll (NOMINA, with its quincena) or the
    bank (FOPI) records it; not committed."""
    session.add(Movimiento(prestamo_id=prestamo.id, quincena=quincena, fecha=fecha,
                           monto=Decimal(monto), origen=origen, referencia=referencia))


def encabezados(dh: Derechohabiente, settings: BackendSettings) -> dict[str, str]:
    return auth(settings, dh)


def movimientos(session: Session, prestamo_id: int, origen: str | None = None) -> list[Movimiento]:
    session.expire_all()
    consulta = select(Movimiento).where(Movimiento.prestamo_id == prestamo_id)
    if origen:
        consulta = consulta.where(Movimiento.origen == origen)
    return list(session.scalars(consulta.order_by(Movimiento.fecha, Movimiento.id)))


def saldo_independiente(session: Session, prestamo: Prestamo, al: date) -> Decimal:
    """The saldo straight from finanzas and the stored payment rows (not through the
    services); SALDO_A_FAVOR rows are money beyond the debt, not payments of it."""
    movs = [m for m in movimientos(session, prestamo.id) if m.origen != "SALDO_A_FAVOR"]
    return finanzas.saldo_deudor(
        monto=Decimal(prestamo.monto),
        tasa_anual=Decimal(prestamo.tasa_anual),
        fechas_programadas=finanzas.fechas_quincena(
            prestamo.fecha_primer_descuento, prestamo.plazo_quincenas
        ),
        pagos=[finanzas.Pago(m.fecha, Decimal(m.monto)) for m in movs],
        al=al,
    )


def notificar(client: TestClient, cuerpo: dict[str, object], secreto: str | None = SECRETO_BANCO):
    headers = {"X-Webhook-Secret": secreto} if secreto is not None else {}
    return client.post("/api/v1/pagos/notificacion-bancaria", json=cuerpo, headers=headers)
