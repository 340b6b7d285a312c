"""Loans: saldo computed now from schedule + payments, conditions, history, PDF,
and every answer only about the token's owner."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, localcontext

import jwt
import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.deps import reloj
from backend.models import Derechohabiente, Movimiento
from backend.security import ALGORITHM, emitir_token
from backend.seed import PERSONA, sembrar_personas
from backend.settings import BackendSettings
from tests.backend._prestamos_apoyo import pagar_fopi, saldo_total, vigente

AHORA = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)  # 12:00 in Mexico City, not a quincena date
HOY = date(2026, 11, 20)
P1, P2, P3 = PERSONA["P1"], PERSONA["P2"], PERSONA["P3"]


@pytest.fixture
def api(client: TestClient, session: Session) -> TestClient:
    sembrar_personas(session, hoy=HOY, ahora=AHORA)
    client.app.dependency_overrides[reloj] = lambda: AHORA  # type: ignore[attr-defined]
    return client


def _auth(client: TestClient, persona) -> dict[str, str]:  # type: ignore[no-untyped-def]
    r = client.post("/api/v1/identidad/verificar", json={"curp": persona.curp, "nip": persona.nip})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def _saldo_cerrado(
    monto: Decimal, tasa_anual: Decimal, descuento: Decimal, pagadas: int, sin_pago: int
) -> Decimal:
    """Independent closed form: `pagadas` equal discounts, then `sin_pago`
    quincenas that only accrue interest (+ IVA)."""
    with localcontext() as ctx:
        ctx.prec = 40
        i = tasa_anual * Decimal("1.16") / 24
        f = (1 + i) ** pagadas
        saldo = monto * f - descuento * (f - 1) / i
        return saldo * (1 + i) ** sin_pago


def test_saldo_requiere_token(api: TestClient) -> None:
    r = api.get("/api/v1/prestamos/saldo")
    assert r.status_code == 401
    assert r.json()["codigo"] == "no_autenticado"


def test_saldo_p1_igual_a_calculo_independiente(api: TestClient, session: Session) -> None:
    r = api.get("/api/v1/prestamos/saldo", headers=_auth(api, P1))
    assert r.status_code == 200, r.text
    body = r.json()
    p = vigente(session, P1.curp)
    pagos = session.scalar(
        select(func.count()).select_from(Movimiento).where(Movimiento.prestamo_id == p.id)
    )
    assert pagos and pagos > 10
    esperado = _saldo_cerrado(p.monto, p.tasa_anual, p.descuento_quincenal, pagos, 0)
    assert isinstance(body["saldo_deudor_total"], float)
    assert abs(Decimal(str(body["saldo_deudor_total"])) - esperado) <= Decimal("0.01")
    assert body["al"] == HOY.isoformat()
    assert body["prestamo_folio"] == p.folio
    assert body["quincenas_pagadas"] == pagos
    assert body["quincenas_restantes"] == 72 - pagos
    assert body["quincenas_sin_descuento"] == 0
    assert body["descuento_quincenal"] == float(p.descuento_quincenal)


def test_saldo_p2_capitaliza_las_tres_quincenas_sin_descuento(
    api: TestClient, session: Session
) -> None:
    body = api.get("/api/v1/prestamos/saldo", headers=_auth(api, P2)).json()
    p = vigente(session, P2.curp)
    pagos = session.scalar(
        select(func.count()).select_from(Movimiento).where(Movimiento.prestamo_id == p.id)
    )
    assert body["quincenas_sin_descuento"] == 3
    esperado = _saldo_cerrado(p.monto, p.tasa_anual, p.descuento_quincenal, pagos, 3)
    assert abs(Decimal(str(body["saldo_deudor_total"])) - esperado) <= Decimal("0.01")
    # Had the dependencia discounted, the debt would be lower.
    assert esperado > _saldo_cerrado(p.monto, p.tasa_anual, p.descuento_quincenal, pagos + 3, 0)


def test_saldo_baja_al_aplicar_un_pago(api: TestClient, session: Session) -> None:
    headers = _auth(api, P1)
    antes = saldo_total(api, headers)
    p = vigente(session, P1.curp)
    pagar_fopi(session, p, "5000.00", HOY, "FOPI-TEST-1")
    despues = saldo_total(api, headers)
    assert despues == antes - Decimal("5000.00")
    # A payment dated in the future is not applied yet.
    pagar_fopi(session, p, "100.00", HOY + timedelta(days=3), "FOPI-TEST-2")
    assert saldo_total(api, headers) == despues


def test_sin_prestamo_vigente_da_404_en_espanol(api: TestClient) -> None:
    headers = _auth(api, P3)
    for ruta in (
        "/api/v1/prestamos/saldo",
        "/api/v1/prestamos/vigente",
        "/api/v1/prestamos/estado-de-cuenta.pdf",
    ):
        r = api.get(ruta, headers=headers)
        assert r.status_code == 404, ruta
        assert r.json() == {"detail": "No tiene un préstamo personal vigente con el ISSSTE.",
                            "codigo": "sin_prestamo_vigente"}
    r = api.get("/api/v1/prestamos", headers=headers)
    assert r.status_code == 200 and r.json() == []


def test_condiciones_del_vigente(api: TestClient, session: Session) -> None:
    body = api.get("/api/v1/prestamos/vigente", headers=_auth(api, P1)).json()
    p = vigente(session, P1.curp)
    assert body["folio"] == p.folio
    # seed 004, nivel 11 at 72 quincenas: monto from the 20 % discount
    assert body["monto"] == 88242.56
    assert body["descuento_quincenal"] == 1602.91
    assert body["plazo_quincenas"] == 72
    assert body["tasa_anual"] == 0.16 and body["tasa_anual_porcentaje"] == 16.0
    assert body["quincenas_pagadas"] + body["quincenas_restantes"] == 72
    # 72 quincenas from the first discount = 35.5 months later
    primer = date.fromisoformat(body["fecha_primer_descuento"])
    termino = date.fromisoformat(body["fecha_termino"])
    assert 35 * 30 < (termino - primer).days < 36 * 31
    assert termino.day in (15, 28, 29, 30, 31)


def test_historico_mas_reciente_primero(api: TestClient) -> None:
    body = api.get("/api/v1/prestamos", headers=_auth(api, P1)).json()
    assert [p["estatus"] for p in body] == ["VIGENTE", "LIQUIDADO", "LIQUIDADO"]
    fechas = [p["fecha_otorgamiento"] for p in body]
    assert fechas == sorted(fechas, reverse=True)
    assert all(p["fecha_liquidacion"] for p in body[1:])
    assert body[0]["fecha_liquidacion"] is None
    assert [p["producto"] for p in body] == [
        "credito_complementario",
        "credito_complementario",
        "ordinario",
    ]


def test_cada_token_solo_ve_lo_suyo(
    api: TestClient, session: Session, settings: BackendSettings
) -> None:
    p1_folio = vigente(session, P1.curp).folio
    h1, h3 = _auth(api, P1), _auth(api, P3)
    assert api.get("/api/v1/prestamos/saldo", headers=h1).json()["prestamo_folio"] == p1_folio
    assert api.get("/api/v1/prestamos/saldo", headers=h3).status_code == 404
    assert api.get("/api/v1/prestamos", headers=h3).json() == []
    # P3 cannot fetch P1's statement by folio.
    r = api.get("/api/v1/prestamos/estado-de-cuenta.pdf", params={"folio": p1_folio}, headers=h3)
    assert r.status_code == 404
    # A token whose subject was swapped to P1's id, keeping P3's CURP, is refused.
    dh1 = session.scalars(select(Derechohabiente).where(Derechohabiente.curp == P1.curp)).one()
    cruzado = jwt.encode(
        {
            "sub": str(dh1.id),
            "curp": P3.curp,
            "typ": "identidad",
            "exp": datetime.now(UTC) + timedelta(minutes=5),
        },
        settings.token_secret,
        algorithm=ALGORITHM,
    )
    r = api.get("/api/v1/prestamos/saldo", headers={"Authorization": f"Bearer {cruzado}"})
    assert r.status_code == 401


def test_token_vencido_o_basura_no_da_saldo(
    api: TestClient, session: Session, settings: BackendSettings
) -> None:
    dh = session.scalars(select(Derechohabiente).where(Derechohabiente.curp == P1.curp)).one()
    vencido, _ = emitir_token(dh, settings, ahora=datetime.now(UTC) - timedelta(minutes=20))
    for token in (vencido, "no-es-un-token"):
        r = api.get("/api/v1/prestamos/saldo", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401
        assert "saldo_deudor_total" not in r.json()


def test_estado_de_cuenta_pdf(api: TestClient, session: Session) -> None:
    headers = _auth(api, P2)
    saldo = api.get("/api/v1/prestamos/saldo", headers=headers).json()
    r = api.get("/api/v1/prestamos/estado-de-cuenta.pdf", headers=headers)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF-")
    texto = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(r.content)).pages)
    assert "Luis Beltrán Montes" in texto
    assert "BEML************09" in texto and P2.curp not in texto
    assert saldo["prestamo_folio"] in texto
    assert f"${saldo['saldo_deudor_total']:,.2f}" in texto
    assert "Saldo deudor total al 20/11/2026" in texto
    p = vigente(session, P2.curp)
    movs = session.scalars(
        select(Movimiento).where(Movimiento.prestamo_id == p.id).order_by(Movimiento.fecha)
    ).all()
    for m in (movs[0], movs[-1]):
        assert m.fecha.strftime("%d/%m/%Y") in texto
    assert texto.count("Descuento por nómina") == len(movs)
    assert "Quincenas sin descuento" in texto


def test_estado_de_cuenta_de_un_prestamo_liquidado_por_folio(api: TestClient) -> None:
    headers = _auth(api, P1)
    historico = api.get("/api/v1/prestamos", headers=headers).json()
    liquidado = historico[-1]
    r = api.get(
        "/api/v1/prestamos/estado-de-cuenta.pdf",
        params={"folio": liquidado["folio"]},
        headers=headers,
    )
    assert r.status_code == 200
    texto = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(r.content)).pages)
    assert liquidado["folio"] in texto and "LIQUIDADO" in texto
    assert "$0.00" in texto
    assert texto.count("Descuento por nómina") == liquidado["plazo_quincenas"]
