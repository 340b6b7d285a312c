"""Regularización: missed payroll quincenas, what regularising costs (the missed
descuentos, no moratorium charge: seed 001), FOPI and payment."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy.orm import Session

from backend.models import Derechohabiente, Movimiento, Prestamo
from backend.services import regularizacion
from tests.backend.datos_pagos import (
    crear_prestamo,
    fijar_hoy,
    movimientos,
    notificar,
    saldo_independiente,
)

HOY = date(2026, 11, 20)  # Friday
LIMITE = date(2026, 11, 27)  # 5 business days later
DESCUENTO = Decimal("1249.35")

# Regularising means paying the missed descuentos; it avoids moratorium interest
# (seed 001), so nothing is added. dias_atraso counts to the fecha límite (27 Nov).
ESPERADAS = [
    {"numero": 19, "fecha": "2026-10-15", "descuento": 1249.35, "dias_atraso": 43},
    {"numero": 20, "fecha": "2026-10-31", "descuento": 1249.35, "dias_atraso": 27},
    {"numero": 21, "fecha": "2026-11-15", "descuento": 1249.35, "dias_atraso": 12},
]
ADEUDO = 3748.05  # 3 x 1249.35
TOTAL = ADEUDO


@pytest.fixture
def prestamo(session: Session, dh: Derechohabiente) -> Prestamo:
    """Like P2: the dependencia stopped discounting for the last 3 quincenas before today."""
    return crear_prestamo(
        session, dh, monto="50000.00", descuento=str(DESCUENTO),
        nomina_hasta=date(2026, 11, 15), quincenas_omitidas=(19, 20, 21),
    )


def test_detecta_exactamente_las_quincenas_omitidas_sin_cargo_moratorio(
    client: TestClient, prestamo: Prestamo, auth: dict[str, str]
) -> None:
    fijar_hoy(client, HOY)
    r = client.get("/api/v1/regularizacion", headers=auth)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["pendiente"] is True
    assert body["quincenas"] == ESPERADAS
    assert (body["adeudo"], body["total"]) == (ADEUDO, 3748.05)
    assert body["calculado_al"] == LIMITE.isoformat()
    assert not {"interes_moratorio", "tasa_moratoria_mensual"} & set(body)
    assert body["folio_prestamo"] == prestamo.folio


def test_al_corriente_no_hay_pendiente(
    client: TestClient, session: Session, dh: Derechohabiente, auth: dict[str, str]
) -> None:
    crear_prestamo(session, dh, nomina_hasta=date(2026, 11, 15))
    fijar_hoy(client, HOY)
    body = client.get("/api/v1/regularizacion", headers=auth).json()
    assert body["pendiente"] is False
    assert body["quincenas"] == [] and body["total"] == 0.0
    r = client.post("/api/v1/regularizacion/fopi", headers=auth)
    assert r.status_code == 409
    assert "no tiene quincenas por regularizar" in r.json()["detail"]


def test_la_quincena_de_hoy_aun_no_se_reclama(
    client: TestClient, session: Session, dh: Derechohabiente, auth: dict[str, str]
) -> None:
    crear_prestamo(session, dh, nomina_hasta=date(2026, 10, 31))
    fijar_hoy(client, date(2026, 11, 15))
    assert client.get("/api/v1/regularizacion", headers=auth).json()["pendiente"] is False
    fijar_hoy(client, date(2026, 11, 16))
    body = client.get("/api/v1/regularizacion", headers=auth).json()
    assert [q["numero"] for q in body["quincenas"]] == [21]


def test_nomina_sin_numero_de_quincena_cuenta_por_fecha(
    prestamo: Prestamo, session: Session
) -> None:
    movs = movimientos(session, prestamo.id)
    tardio = Movimiento(prestamo_id=prestamo.id, quincena=None, fecha=date(2026, 10, 31),
                        monto=DESCUENTO, origen="NOMINA", referencia="NOM-sin-numero")
    omitidas = regularizacion.quincenas_omitidas(
        prestamo=prestamo, movimientos=[*movs, tardio], hoy=HOY
    )
    assert [q.numero for q in omitidas] == [19, 21]


def test_saldo_y_regularizacion_cuentan_las_mismas_quincenas(
    client: TestClient, prestamo: Prestamo, auth: dict[str, str], session: Session
) -> None:
    """One rule for "missed quincena": a payroll record without a quincena number
    still covers its date, for the saldo endpoint as for regularisation."""
    session.add(Movimiento(prestamo_id=prestamo.id, quincena=None, fecha=date(2026, 10, 31),
                           monto=DESCUENTO, origen="NOMINA", referencia="NOM-sin-numero"))
    session.commit()
    fijar_hoy(client, HOY)
    reg = client.get("/api/v1/regularizacion", headers=auth).json()
    saldo = client.get("/api/v1/prestamos/saldo", headers=auth).json()
    assert [q["numero"] for q in reg["quincenas"]] == [19, 21]
    assert saldo["quincenas_sin_descuento"] == 2


def test_sin_prestamo_vigente_404(
    client: TestClient, auth: dict[str, str], dh: Derechohabiente
) -> None:
    fijar_hoy(client, HOY)
    r = client.get("/api/v1/regularizacion", headers=auth)
    assert r.status_code == 404
    assert r.json()["detail"] == "No tiene un préstamo personal vigente."


def test_fopi_de_regularizacion_y_su_pago_las_liquida(
    client: TestClient, prestamo: Prestamo, auth: dict[str, str], session: Session
) -> None:
    fijar_hoy(client, HOY)
    r = client.post("/api/v1/regularizacion/fopi", headers=auth)
    assert r.status_code == 201, r.text
    fopi = r.json()
    assert fopi["concepto"] == "REGULARIZACION" and fopi["referencia"][0] == "3"
    assert (fopi["monto"], fopi["adeudo"]) == (3748.05, 3748.05)
    assert "interes_moratorio" not in fopi
    assert fopi["quincenas"] == ESPERADAS
    assert fopi["vigencia"] == LIMITE.isoformat()

    dia = date(2026, 11, 23)
    fijar_hoy(client, dia)
    saldo_antes = saldo_independiente(session, prestamo, dia)
    cuerpo = {"referencia": fopi["referencia"], "monto": TOTAL, "fecha_pago": dia.isoformat(),
              "banco": "Banorte", "folio_banco": "BNT-777"}
    n = notificar(client, cuerpo)
    assert n.status_code == 200, n.text
    assert (n.json()["aplicado"], n.json()["movimientos"]) == (True, 3)

    regs = movimientos(session, prestamo.id, "REGULARIZACION")
    assert [(m.quincena, m.monto, m.fecha) for m in regs] == [
        (q, DESCUENTO, dia) for q in (19, 20, 21)
    ]
    assert len({m.referencia for m in regs}) == 3
    # The descuentos amortise the loan.
    assert saldo_independiente(session, prestamo, dia) == saldo_antes - Decimal(str(ADEUDO))

    despues = client.get("/api/v1/regularizacion", headers=auth).json()
    assert despues["pendiente"] is False and despues["quincenas"] == []
    # The same notification again changes nothing.
    assert notificar(client, cuerpo).json()["aplicado"] is False
    assert len(movimientos(session, prestamo.id, "REGULARIZACION")) == 3


def test_pago_rechazado_si_la_nomina_cubrio_una_quincena_despues(
    client: TestClient, prestamo: Prestamo, auth: dict[str, str], session: Session
) -> None:
    fijar_hoy(client, HOY)
    fopi = client.post("/api/v1/regularizacion/fopi", headers=auth).json()
    session.add(
        Movimiento(
            prestamo_id=prestamo.id,
            quincena=21,
            fecha=date(2026, 11, 20),
            monto=DESCUENTO,
            origen="NOMINA",
            referencia="NOM-tardia-21",
        )
    )
    session.commit()
    r = notificar(
        client,
        {
            "referencia": fopi["referencia"],
            "monto": TOTAL,
            "fecha_pago": HOY.isoformat(),
            "banco": "BBVA",
            "folio_banco": "B-1",
        },
    )
    assert r.status_code == 409 and r.json()["codigo"] == "quincenas_ya_cubiertas"
    assert movimientos(session, prestamo.id, "REGULARIZACION") == []


def test_pdf_de_regularizacion_lista_las_quincenas(
    client: TestClient, prestamo: Prestamo, auth: dict[str, str]
) -> None:
    fijar_hoy(client, HOY)
    ref = client.post("/api/v1/regularizacion/fopi", headers=auth).json()["referencia"]
    r = client.get(f"/api/v1/pagos/fopi/{ref}.pdf", headers=auth)
    assert r.status_code == 200
    texto = PdfReader(io.BytesIO(r.content)).pages[0].extract_text()
    assert "Regularización de descuentos" in texto
    for fecha in ("15/10/2026", "31/10/2026", "15/11/2026"):
        assert fecha in texto
    assert "$3,748.05" in texto and "$1,249.35" in texto
    assert "Interés moratorio" not in texto
    assert "evita intereses moratorios" in " ".join(texto.split())
