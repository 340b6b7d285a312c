"""FOPI: issuing (pago parcial, liquidación), vigencia, PDF and the bank notification."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy.orm import Session

from backend.models import Derechohabiente, Fopi, Movimiento, Prestamo
from backend.services import enlaces, pagos_banco, referencias
from backend.services import fopi as servicio
from backend.services.errores import ReglaIncumplida
from backend.settings import BackendSettings
from tests.backend.datos_pagos import (
    SECRETO_BANCO,
    crear_derechohabiente,
    crear_prestamo,
    encabezados,
    fijar_hoy,
    movimientos,
    notificar,
    saldo_independiente,
)

# Thursday; Monday 16 Nov 2026 is Revolution Day, the 15th (Sunday) a quincena.
HOY = date(2026, 11, 12)
VIGENCIA = date(2026, 11, 20)


@pytest.fixture
def prestamo(session: Session, dh: Derechohabiente) -> Prestamo:
    # Payroll discounted every quincena up to 31 Oct 2026 (quincena 20).
    return crear_prestamo(session, dh, nomina_hasta=date(2026, 10, 31))


def emitir(client: TestClient, auth: dict[str, str], cuerpo: dict[str, object]):
    return client.post("/api/v1/pagos/fopi", json=cuerpo, headers=auth)


def pago(
    referencia: str, monto: float, fecha: date, folio: str = "BBVA-000001", banco: str = "BBVA"
) -> dict:
    return {
        "referencia": referencia,
        "monto": monto,
        "fecha_pago": fecha.isoformat(),
        "banco": banco,
        "folio_banco": folio,
    }


# --- vigencia -------------------------------------------------------------------

@pytest.mark.parametrize(
    ("emision", "vigencia"),
    [
        (date(2026, 11, 20), date(2026, 11, 27)),  # Fri -> next Fri: the weekend is skipped
        (date(2026, 9, 14), date(2026, 9, 22)),  # 16 Sep (Wed) Independence Day skipped
        (date(2026, 12, 21), date(2026, 12, 29)),  # 25 Dec (Fri) Christmas skipped
        (date(2026, 11, 12), date(2026, 11, 20)),  # 16 Nov (Mon) Revolution Day skipped
        (date(2026, 11, 14), date(2026, 11, 23)),  # issued on a Saturday
    ],
)
def test_vigencia_cinco_dias_habiles(emision: date, vigencia: date) -> None:
    assert servicio.calcular_vigencia(emision) == vigencia
    assert servicio.es_dia_habil(vigencia)


def test_dias_inhabiles() -> None:
    assert not servicio.es_dia_habil(date(2026, 9, 16))
    assert not servicio.es_dia_habil(date(2026, 12, 25))
    assert not servicio.es_dia_habil(date(2026, 11, 21))  # Saturday
    assert servicio.es_dia_habil(date(2026, 11, 17))


# --- issuing --------------------------------------------------------------------

def test_pago_parcial_emite_fopi(
    client: TestClient, prestamo: Prestamo, auth: dict[str, str], settings: BackendSettings
) -> None:
    fijar_hoy(client, HOY)
    r = emitir(client, auth, {"tipo": "parcial", "monto": 1500})
    assert r.status_code == 201, r.text
    body = r.json()
    ref = body["referencia"]
    assert referencias.es_valida(ref) and int(ref) % 97 == 1
    assert ref[0] == "1" and int(ref[1:9]) == prestamo.id and ref[9:15] == "261120"
    assert body["monto"] == 1500.0 and isinstance(body["monto"], float)
    assert body["concepto"] == "PARCIAL"
    assert body["estatus"] == "EMITIDO"
    assert body["fecha_emision"] == "2026-11-12"
    assert body["vigencia"] == VIGENCIA.isoformat()
    assert "BBVA" in body["bancos"] and len(body["bancos"]) >= 3
    assert body["folio_prestamo"] == prestamo.folio
    assert body["pdf_url"] == f"/api/v1/pagos/fopi/{ref}.pdf"
    # The signed link expires 24 h after "now" as the app's clock says, not the wall clock.
    enlace = enlaces.verify(settings, body["pdf_enlace"].rsplit("/", 1)[1],
                            ahora=datetime(2026, 11, 12, 18, 0, tzinfo=UTC))
    assert (enlace.kind, enlace.id) == ("fopi", ref)
    # noon in Mexico City + 24 h
    assert enlace.expira_en == datetime(2026, 11, 13, 18, 0, tzinfo=UTC)

    leido = client.get(f"/api/v1/pagos/fopi/{ref}", headers=auth)
    assert leido.status_code == 200
    assert {k: leido.json()[k] for k in ("referencia", "monto", "vigencia", "estatus")} == {
        k: body[k] for k in ("referencia", "monto", "vigencia", "estatus")
    }
    lista = client.get("/api/v1/pagos/fopi", headers=auth).json()
    assert [f["referencia"] for f in lista] == [ref]


def test_dos_fopis_el_mismo_dia_tienen_referencias_distintas(
    client: TestClient, prestamo: Prestamo, auth: dict[str, str]
) -> None:
    fijar_hoy(client, HOY)
    a = emitir(client, auth, {"tipo": "parcial", "monto": 100}).json()["referencia"]
    b = emitir(client, auth, {"tipo": "parcial", "monto": 100}).json()["referencia"]
    assert a != b
    assert (referencias.desglosar(a).consecutivo, referencias.desglosar(b).consecutivo) == (1, 2)


@pytest.mark.parametrize(
    ("cuerpo", "fragmento"),
    [
        ({"tipo": "parcial"}, "Indique el monto"),
        ({"tipo": "parcial", "monto": 0}, "mayor que cero"),
        ({"tipo": "parcial", "monto": -50}, "mayor que cero"),
        ({"tipo": "parcial", "monto": 10.555}, "dos decimales"),
        ({"tipo": "abono", "monto": 10}, "«parcial» o «liquidacion»"),
    ],
)
def test_pago_parcial_invalido_422_en_espanol(
    client: TestClient,
    prestamo: Prestamo,
    auth: dict[str, str],
    session: Session,
    cuerpo: dict,
    fragmento: str,
) -> None:
    fijar_hoy(client, HOY)
    r = emitir(client, auth, cuerpo)
    assert r.status_code == 422
    assert fragmento in r.json()["detail"]
    session.expire_all()
    assert session.query(Fopi).count() == 0


def test_pago_parcial_no_puede_exceder_el_saldo(
    client: TestClient, prestamo: Prestamo, auth: dict[str, str], session: Session
) -> None:
    fijar_hoy(client, HOY)
    saldo = saldo_independiente(session, prestamo, HOY)
    r = emitir(client, auth, {"tipo": "parcial", "monto": float(saldo + Decimal("0.01"))})
    assert r.status_code == 422
    assert r.json()["codigo"] == "monto_mayor_saldo"
    assert "mayor que su saldo deudor" in r.json()["detail"]
    exacto = emitir(client, auth, {"tipo": "parcial", "monto": float(saldo)})
    assert exacto.status_code == 201
    assert Decimal(str(exacto.json()["monto"])) == saldo


def test_sin_prestamo_vigente_404(
    client: TestClient, session: Session, settings: BackendSettings
) -> None:
    sin = crear_derechohabiente(session, curp="PEGL890909MJCRMS08", nombre="Lucía")
    fijar_hoy(client, HOY)
    r = emitir(client, encabezados(sin, settings), {"tipo": "liquidacion"})
    assert r.status_code == 404
    assert r.json()["detail"] == "No tiene un préstamo personal vigente."


def test_sin_token_401(client: TestClient, prestamo: Prestamo) -> None:
    r = client.post("/api/v1/pagos/fopi", json={"tipo": "liquidacion"})
    assert r.status_code == 401
    assert "CURP" in r.json()["detail"]


def test_fopi_ajeno_no_se_muestra(
    client: TestClient,
    prestamo: Prestamo,
    auth: dict[str, str],
    session: Session,
    settings: BackendSettings,
) -> None:
    fijar_hoy(client, HOY)
    ref = emitir(client, auth, {"tipo": "parcial", "monto": 100}).json()["referencia"]
    otro = encabezados(
        crear_derechohabiente(session, curp="PEGL890909MJCRMS08", nombre="Lucía"), settings
    )
    for ruta in (f"/api/v1/pagos/fopi/{ref}", f"/api/v1/pagos/fopi/{ref}.pdf"):
        r = client.get(ruta, headers=otro)
        assert r.status_code == 404
        assert "referencia" in r.json()["detail"]


# --- liquidación ----------------------------------------------------------------

def test_liquidacion_es_el_saldo_a_la_fecha_de_pago_y_liquida(
    client: TestClient, prestamo: Prestamo, auth: dict[str, str], session: Session
) -> None:
    fijar_hoy(client, HOY)
    saldo_hoy = saldo_independiente(session, prestamo, HOY)
    saldo_limite = saldo_independiente(session, prestamo, VIGENCIA)
    # The 15 Nov quincena accrues interest inside the vigencia: the form covers it.
    assert saldo_limite > saldo_hoy
    r = emitir(client, auth, {"tipo": "liquidación"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["concepto"] == "LIQUIDACION" and body["referencia"][0] == "2"
    assert Decimal(str(body["monto"])) == saldo_limite

    fijar_hoy(client, VIGENCIA)
    assert saldo_independiente(session, prestamo, VIGENCIA) == Decimal(str(body["monto"]))
    n = notificar(client, pago(body["referencia"], body["monto"], VIGENCIA))
    assert n.status_code == 200, n.text
    assert n.json()["aplicado"] is True and n.json()["prestamo_liquidado"] is True

    fopi_movs = movimientos(session, prestamo.id, "FOPI")
    assert [(m.referencia, m.monto, m.fecha) for m in fopi_movs] == [
        (body["referencia"], saldo_limite, VIGENCIA)
    ]
    assert saldo_independiente(session, prestamo, VIGENCIA) == Decimal("0.00")
    session.refresh(prestamo)
    assert (prestamo.estatus, prestamo.fecha_liquidacion) == ("LIQUIDADO", VIGENCIA)
    # No vigente loan is left to pay.
    assert emitir(client, auth, {"tipo": "parcial", "monto": 10}).status_code == 404


def test_liquidacion_pagada_antes_de_la_quincena_deja_saldo_a_favor(
    client: TestClient, prestamo: Prestamo, auth: dict[str, str], session: Session
) -> None:
    fijar_hoy(client, HOY)
    body = emitir(client, auth, {"tipo": "liquidacion"}).json()
    monto = Decimal(str(body["monto"]))
    pagado = date(2026, 11, 13)  # before the 15 Nov quincena the form was priced for
    deuda = saldo_independiente(session, prestamo, pagado)
    # The excess is exactly one quincena of interest + IVA on that debt.
    assert abs((monto - deuda) - deuda * Decimal("0.16") * Decimal("1.16") / 24) <= Decimal("0.01")

    fijar_hoy(client, pagado)
    n = notificar(client, pago(body["referencia"], body["monto"], pagado))
    assert n.status_code == 200, n.text
    r = n.json()
    assert r["prestamo_liquidado"] is True
    assert Decimal(str(r["aplicado_al_prestamo"])) == deuda
    assert Decimal(str(r["saldo_a_favor"])) == monto - deuda
    assert "a favor" in r["mensaje"]
    assert [
        (m.origen, m.monto, m.fecha)
        for m in movimientos(session, prestamo.id)
        if m.origen != "NOMINA"
    ] == [("FOPI", deuda, pagado), ("SALDO_A_FAVOR", monto - deuda, pagado)]
    session.refresh(prestamo)
    assert (prestamo.estatus, prestamo.fecha_liquidacion) == ("LIQUIDADO", pagado)

    # Nothing vanished: the saldo endpoint still answers, with the money owed back.
    saldo = client.get("/api/v1/prestamos/saldo", headers=auth).json()
    assert (saldo["estatus"], saldo["saldo_deudor_total"]) == ("LIQUIDADO", 0.0)
    assert Decimal(str(saldo["saldo_a_favor"])) == monto - deuda
    pdf = client.get(
        "/api/v1/prestamos/estado-de-cuenta.pdf", params={"folio": prestamo.folio}, headers=auth
    )
    texto = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    # both movimientos are listed
    assert f"${monto - deuda:,.2f}" in texto and f"${deuda:,.2f}" in texto
    lineas = [linea.strip() for linea in texto.splitlines()]
    assert f"Saldo a favor (se le reembolsa): ${monto - deuda:,.2f}" in lineas
    assert "SALDO_A_FAVOR" not in texto  # the movimiento has a label, not the raw code

    # The same notification again changes nothing and answers the same split.
    again = notificar(client, pago(body["referencia"], body["monto"], pagado)).json()
    assert again["aplicado"] is False
    assert (again["aplicado_al_prestamo"], again["saldo_a_favor"]) == (
        r["aplicado_al_prestamo"],
        r["saldo_a_favor"],
    )
    assert len(movimientos(session, prestamo.id, "SALDO_A_FAVOR")) == 1


def test_descuento_de_nomina_entre_emision_y_pago_no_se_cobra_dos_veces(
    client: TestClient, prestamo: Prestamo, auth: dict[str, str], session: Session
) -> None:
    fijar_hoy(client, HOY)
    body = emitir(client, auth, {"tipo": "liquidacion"}).json()
    # The dependencia's discount of quincena 21 (15 Nov) arrives after the form was issued.
    session.add(Movimiento(prestamo_id=prestamo.id, quincena=21, fecha=date(2026, 11, 15),
                           monto=Decimal("1000.00"), origen="NOMINA", referencia="NOM-q21"))
    session.commit()
    fijar_hoy(client, VIGENCIA)
    r = notificar(client, pago(body["referencia"], body["monto"], VIGENCIA)).json()
    assert r["prestamo_liquidado"] is True
    assert r["saldo_a_favor"] == 1000.0  # the payroll discount comes back, it is not counted twice
    assert Decimal(str(r["aplicado_al_prestamo"])) == Decimal(str(body["monto"])) - Decimal(
        "1000.00"
    )
    assert saldo_independiente(session, prestamo, VIGENCIA) == Decimal("0.00")
    saldo = client.get("/api/v1/prestamos/saldo", headers=auth).json()
    assert (saldo["saldo_deudor_total"], saldo["saldo_a_favor"]) == (0.0, 1000.0)


def test_pago_parcial_despues_de_liquidar_queda_a_favor(
    client: TestClient, prestamo: Prestamo, auth: dict[str, str], session: Session
) -> None:
    fijar_hoy(client, HOY)
    parcial = emitir(client, auth, {"tipo": "parcial", "monto": 1500}).json()
    liquidacion = emitir(client, auth, {"tipo": "liquidacion"}).json()
    fijar_hoy(client, VIGENCIA)
    assert (
        notificar(
            client, pago(liquidacion["referencia"], liquidacion["monto"], VIGENCIA)
        ).status_code
        == 200
    )
    r = notificar(client, pago(parcial["referencia"], 1500.00, VIGENCIA, folio="BBVA-000002"))
    assert r.status_code == 200, r.text  # the bank already has the money: recorded, not refused
    assert (r.json()["aplicado_al_prestamo"], r.json()["saldo_a_favor"]) == (0.0, 1500.0)
    assert client.get("/api/v1/prestamos/saldo", headers=auth).json()["saldo_a_favor"] == 1500.0


def test_descuento_de_nomina_despues_de_liquidar_queda_a_favor(
    client: TestClient, prestamo: Prestamo, auth: dict[str, str], session: Session
) -> None:
    fijar_hoy(client, HOY)
    body = emitir(client, auth, {"tipo": "liquidacion"}).json()
    fijar_hoy(client, VIGENCIA)
    assert (
        notificar(client, pago(body["referencia"], body["monto"], VIGENCIA)).json()["saldo_a_favor"]
        == 0.0
    )
    # The dependencia had not heard yet and discounted quincena 22 (30 Nov) anyway.
    session.add(Movimiento(prestamo_id=prestamo.id, quincena=22, fecha=date(2026, 11, 30),
                           monto=Decimal("1000.00"), origen="NOMINA", referencia="NOM-q22"))
    session.commit()
    fijar_hoy(client, date(2026, 12, 1))
    saldo = client.get("/api/v1/prestamos/saldo", headers=auth).json()
    assert (saldo["estatus"], saldo["saldo_deudor_total"], saldo["saldo_a_favor"]) == (
        "LIQUIDADO",
        0.0,
        1000.0,
    )


# --- bank notification ----------------------------------------------------------

@pytest.fixture
def fopi_parcial(client: TestClient, prestamo: Prestamo, auth: dict[str, str]) -> dict:
    fijar_hoy(client, HOY)
    r = emitir(client, auth, {"tipo": "parcial", "monto": 1500})
    assert r.status_code == 201
    return r.json()


def test_notificacion_idempotente_y_saldo_inmediato(
    client: TestClient,
    prestamo: Prestamo,
    fopi_parcial: dict,
    session: Session,
    auth: dict[str, str],
) -> None:
    dia = date(2026, 11, 13)
    fijar_hoy(client, dia)
    saldo_antes = saldo_independiente(session, prestamo, dia)
    cuerpo = pago(fopi_parcial["referencia"], 1500.00, dia)

    saldo_api = client.get("/api/v1/prestamos/saldo", headers=auth).json()
    assert Decimal(str(saldo_api["saldo_deudor_total"])) == saldo_antes
    primera = notificar(client, cuerpo)
    assert primera.status_code == 200, primera.text
    assert primera.json()["aplicado"] is True and primera.json()["estatus"] == "PAGADO"
    assert (primera.json()["aplicado_al_prestamo"], primera.json()["saldo_a_favor"]) == (
        1500.0,
        0.0,
    )
    # The saldo endpoint reflects the payment at once, to the cent.
    despues_api = client.get("/api/v1/prestamos/saldo", headers=auth).json()
    assert Decimal(str(despues_api["saldo_deudor_total"])) == saldo_antes - Decimal("1500.00")
    assert Decimal(str(despues_api["total_pagado"])) == Decimal(
        str(saldo_api["total_pagado"])
    ) + Decimal("1500.00")
    assert (despues_api["fecha_ultimo_pago"], despues_api["saldo_a_favor"]) == (
        dia.isoformat(),
        0.0,
    )
    segunda = notificar(client, cuerpo)
    assert segunda.status_code == 200
    assert segunda.json()["aplicado"] is False
    assert "ya se había aplicado" in segunda.json()["mensaje"]

    assert len(movimientos(session, prestamo.id, "FOPI")) == 1
    assert saldo_independiente(session, prestamo, dia) == saldo_antes - Decimal("1500.00")
    assert servicio.saldo_prestamo(
        session=session, prestamo=prestamo, al=dia
    ) == saldo_antes - Decimal("1500.00")
    leido = client.get(f"/api/v1/pagos/fopi/{fopi_parcial['referencia']}", headers=auth).json()
    assert (leido["estatus"], leido["fecha_pago"]) == ("PAGADO", dia.isoformat())

    # Another payment with the same reference is a different operation: refused.
    otra = notificar(client, pago(fopi_parcial["referencia"], 1500.00, dia, folio="BBVA-999"))
    assert otra.status_code == 409 and otra.json()["codigo"] == "referencia_pagada"
    assert len(movimientos(session, prestamo.id, "FOPI")) == 1


def test_notificacion_referencia_desconocida_404(client: TestClient, fopi_parcial: dict) -> None:
    desconocida = referencias.generar_referencia(
        concepto="PARCIAL", prestamo_id=99_999, vigencia=VIGENCIA, consecutivo=1
    )
    r = notificar(client, pago(desconocida, 1500.00, HOY))
    assert r.status_code == 404
    assert r.json()["detail"] == "No existe un formato de pago con esa referencia."


def test_notificacion_digito_verificador_incorrecto_422(
    client: TestClient, fopi_parcial: dict
) -> None:
    ref = fopi_parcial["referencia"]
    alterada = ref[:-1] + str((int(ref[-1]) + 1) % 10)
    r = notificar(client, pago(alterada, 1500.00, HOY))
    assert r.status_code == 422
    assert "dígito verificador" in r.json()["detail"]


def test_notificacion_monto_distinto_422(
    client: TestClient, fopi_parcial: dict, session: Session, prestamo: Prestamo
) -> None:
    r = notificar(client, pago(fopi_parcial["referencia"], 1499.99, HOY))
    assert r.status_code == 422
    assert r.json()["codigo"] == "monto_no_coincide"
    assert "no coincide" in r.json()["detail"]
    assert movimientos(session, prestamo.id, "FOPI") == []


def test_notificacion_vencida_409(
    client: TestClient,
    fopi_parcial: dict,
    session: Session,
    prestamo: Prestamo,
    auth: dict[str, str],
) -> None:
    despues = date(2026, 11, 23)
    fijar_hoy(client, despues)
    r = notificar(client, pago(fopi_parcial["referencia"], 1500.00, despues))
    assert r.status_code == 409
    assert r.json()["codigo"] == "referencia_vencida"
    assert "venció el 20/11/2026" in r.json()["detail"]
    assert movimientos(session, prestamo.id, "FOPI") == []
    assert (
        client.get(f"/api/v1/pagos/fopi/{fopi_parcial['referencia']}", headers=auth).json()[
            "estatus"
        ]
        == "VENCIDO"
    )


def test_pago_en_tiempo_notificado_tarde_se_aplica(
    client: TestClient, fopi_parcial: dict, session: Session, prestamo: Prestamo
) -> None:
    fijar_hoy(client, date(2026, 11, 24))
    r = notificar(client, pago(fopi_parcial["referencia"], 1500.00, VIGENCIA))
    assert r.status_code == 200 and r.json()["aplicado"] is True
    assert [m.fecha for m in movimientos(session, prestamo.id, "FOPI")] == [VIGENCIA]


@pytest.mark.parametrize(
    ("cambios", "codigo"),
    [
        ({"fecha_pago": "2026-11-13"}, "fecha_pago_futura"),  # today is the 12th
        ({"fecha_pago": "2026-11-11"}, "fecha_pago_invalida"),  # before the form existed
        ({"banco": "Banco Patito"}, "banco_no_autorizado"),
    ],
)
def test_notificacion_datos_invalidos_422(
    client: TestClient,
    fopi_parcial: dict,
    session: Session,
    prestamo: Prestamo,
    cambios: dict,
    codigo: str,
) -> None:
    cuerpo = pago(fopi_parcial["referencia"], 1500.00, HOY) | cambios
    r = notificar(client, cuerpo)
    assert r.status_code == 422
    assert r.json()["codigo"] == codigo
    assert movimientos(session, prestamo.id, "FOPI") == []


def test_notificacion_exige_el_secreto_del_banco(
    client: TestClient,
    fopi_parcial: dict,
    settings: BackendSettings,
    session: Session,
    prestamo: Prestamo,
) -> None:
    cuerpo = pago(fopi_parcial["referencia"], 1500.00, HOY)
    sin = notificar(client, cuerpo, secreto=None)
    assert sin.status_code == 401 and "X-Webhook-Secret" in sin.json()["detail"]
    mal = notificar(client, cuerpo, secreto="otro-secreto")
    assert (
        mal.status_code == 403
        and mal.json()["detail"] == "La clave compartida del banco no es válida."
    )
    settings.banco_webhook_secret = None  # a server without the secret refuses everything
    apagado = notificar(client, cuerpo, secreto=SECRETO_BANCO)
    assert apagado.status_code == 403 and apagado.json()["codigo"] == "webhook_no_configurado"
    assert movimientos(session, prestamo.id, "FOPI") == []


# --- PDF ------------------------------------------------------------------------

def test_pdf_del_fopi(client: TestClient, fopi_parcial: dict, auth: dict[str, str]) -> None:
    ref = fopi_parcial["referencia"]
    for ruta in (f"/api/v1/pagos/fopi/{ref}.pdf", f"/api/v1/pagos/fopi/{ref}/pdf"):
        r = client.get(ruta, headers=auth)
        assert r.status_code == 200
        assert r.headers["content-type"] == "application/pdf"
        lector = PdfReader(io.BytesIO(r.content))
        assert len(lector.pages) == 1
        texto = lector.pages[0].extract_text()
        assert referencias.formatear(ref) in texto
        assert ref in texto  # the digits under the barcode
        assert "$1,500.00" in texto
        assert "MIL QUINIENTOS PESOS 00/100 M.N." in texto
        assert "20 de noviembre de 2026" in texto
        assert "Pago parcial" in texto
        for banco in servicio.BANCOS_AUTORIZADOS:
            assert banco in texto
        assert "BEML************09" in texto and "BEML920313HMCLNS09" not in texto
        assert len(lector.pages[0].images) == 1  # the QR code
    assert client.get(f"/api/v1/pagos/fopi/{ref}.pdf").status_code == 401


def test_nombres_de_banco_habituales() -> None:
    assert pagos_banco.banco_autorizado("BBVA México") == "BBVA"
    assert pagos_banco.banco_autorizado("Citibanamex") == "Banamex"
    assert pagos_banco.banco_autorizado("banorte") == "Banorte"
    with pytest.raises(ReglaIncumplida):
        pagos_banco.banco_autorizado("Banco Patito")
