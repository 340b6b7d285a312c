"""Shared helpers for the loan tests (saldo, estado de cuenta and its public link)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.models import Derechohabiente, Prestamo
from tests.backend.datos_pagos import registrar_movimiento


def vigente(session: Session, curp: str) -> Prestamo:
    """The person's VIGENTE loan."""
    return session.scalars(
        select(Prestamo)
        .join(Derechohabiente)
        .where(Derechohabiente.curp == curp, Prestamo.estatus == "VIGENTE")
    ).one()


def saldo_total(client: TestClient, headers: dict[str, str]) -> Decimal:
    """saldo_deudor_total as the API answers it now."""
    body = client.get("/api/v1/prestamos/saldo", headers=headers).json()
    return Decimal(str(body["saldo_deudor_total"]))


def pagar_fopi(
    session: Session, prestamo: Prestamo, monto: str, fecha: date, referencia: str
) -> None:
    """A FOPI bank payment recorded against the loan (committed)."""
    registrar_movimiento(session, prestamo, fecha, monto, "FOPI", referencia)
    session.commit()
