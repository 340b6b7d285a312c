"""The estado de cuenta behind a signed, expiring public link: what Twilio fetches
for WhatsApp media (no credentials), generated at fetch time with that day's saldo."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from decimal import Decimal
from urllib.parse import urlsplit

import jwt
import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy.orm import Session

from backend.seed import PERSONA
from backend.services import enlaces
from backend.settings import BackendSettings
from tests.backend._prestamos_apoyo import pagar_fopi, saldo_total, vigente
from tests.backend.conftest import AHORA_PERSONAS, Reloj, verificar

AHORA = AHORA_PERSONAS  # 12:00 in Mexico City
HOY = date(2026, 11, 20)
ENLACE = "/api/v1/prestamos/estado-de-cuenta/enlace"
P1, P2, P3 = PERSONA["P1"], PERSONA["P2"], PERSONA["P3"]


@pytest.fixture
def clock(reloj_fijo: Reloj) -> Reloj:
    return reloj_fijo


@pytest.fixture
def api(client: TestClient, personas: None, reloj_fijo: Reloj) -> TestClient:
    """The app with the demo personas seeded on AHORA and its clock there."""
    return client


def _auth(client: TestClient, persona) -> dict[str, str]:  # type: ignore[no-untyped-def]
    r = verificar(client, persona.curp, persona.nip)
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def _texto(contenido: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(contenido)).pages)


def _pesos(valor: float | Decimal) -> str:
    return f"${Decimal(str(valor)):,.2f}"


def test_enlace_sin_credenciales_da_el_pdf_con_curp_enmascarada_y_saldo(
    api: TestClient, session: Session, settings: BackendSettings
) -> None:
    headers = _auth(api, P2)
    saldo = api.get("/api/v1/prestamos/saldo", headers=headers).json()
    r = api.post(ENLACE, headers=headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"url", "expira_en"}
    assert body["url"].startswith("http://testserver/api/v1/archivos/")
    assert datetime.fromisoformat(body["expira_en"]) == AHORA + timedelta(hours=24)
    # The link names the loan, nothing else.
    firma = urlsplit(body["url"]).path.rsplit("/", 1)[1]
    v = enlaces.verify(settings, firma, ahora=AHORA)
    assert (v.kind, v.id) == ("estado_cuenta", saldo["prestamo_folio"])

    # No Authorization header: what Twilio does when it fetches media.
    pdf = api.get(urlsplit(body["url"]).path)
    assert pdf.status_code == 200, pdf.text
    assert pdf.headers["content-type"] == "application/pdf"
    assert saldo["prestamo_folio"] in pdf.headers["content-disposition"]
    texto = _texto(pdf.content)
    assert "BEML************09" in texto and P2.curp not in texto
    assert saldo["prestamo_folio"] in texto
    assert f"Saldo deudor total al 20/11/2026: {_pesos(saldo['saldo_deudor_total'])}" in texto


def test_el_pdf_se_genera_al_abrir_el_enlace_con_el_saldo_de_ese_dia(
    api: TestClient, session: Session, clock: Reloj
) -> None:
    headers = _auth(api, P1)
    antes = saldo_total(api, headers)
    ruta = urlsplit(api.post(ENLACE, headers=headers).json()["url"]).path
    assert _pesos(antes) in _texto(api.get(ruta).content)

    # A bank payment applied after the link was issued shows up when it is opened.
    pagar_fopi(session, vigente(session, P1.curp), "5000.00", HOY, "FOPI-ENLACE-1")
    texto = _texto(api.get(ruta).content)
    assert f"Saldo deudor total al 20/11/2026: {_pesos(antes - Decimal('5000.00'))}" in texto
    assert "FOPI-ENLACE-1" in texto

    # Opened the next day (Mexico City), the statement is dated that day.
    clock.ahora = AHORA + timedelta(hours=12)  # 00:00 on 21/11 in Mexico City
    assert "Saldo deudor total al 21/11/2026" in _texto(api.get(ruta).content)


def test_enlace_de_un_prestamo_liquidado_propio_por_folio(api: TestClient) -> None:
    headers = _auth(api, P1)
    liquidado = api.get("/api/v1/prestamos", headers=headers).json()[-1]
    assert liquidado["estatus"] == "LIQUIDADO"
    r = api.post(ENLACE, params={"folio": liquidado["folio"]}, headers=headers)
    assert r.status_code == 200, r.text
    texto = _texto(api.get(urlsplit(r.json()["url"]).path).content)
    assert liquidado["folio"] in texto and "LIQUIDADO" in texto
    assert "Saldo deudor total al 20/11/2026: $0.00" in texto


def test_folio_de_otra_persona_es_404(api: TestClient, session: Session) -> None:
    folio_p1 = vigente(session, P1.curp).folio
    h3 = _auth(api, P3)
    r = api.post(ENLACE, params={"folio": folio_p1}, headers=h3)
    assert r.status_code == 404
    assert r.json() == {
        "detail": "No encontramos un préstamo suyo con ese folio.",
        "codigo": "prestamo_no_encontrado",
    }
    assert "url" not in r.json()
    # Without a folio, P3 (no loan) is told so.
    r = api.post(ENLACE, headers=h3)
    assert r.status_code == 404
    assert r.json()["codigo"] == "sin_prestamo_vigente"


def test_sin_token_no_hay_enlace(api: TestClient) -> None:
    r = api.post(ENLACE)
    assert r.status_code == 401
    assert r.json()["codigo"] == "no_autenticado"


def test_folio_demasiado_largo_es_422_en_espanol(api: TestClient) -> None:
    r = api.post(ENLACE, params={"folio": "X" * 21}, headers=_auth(api, P1))
    assert r.status_code == 422
    assert r.json()["detail"].startswith("Revise los datos")


def test_enlace_alterado_es_403(
    api: TestClient, session: Session, settings: BackendSettings
) -> None:
    ruta = urlsplit(api.post(ENLACE, headers=_auth(api, P2)).json()["url"]).path
    base, firma = ruta.rsplit("/", 1)
    cabeza, carga, sello = firma.split(".")
    alterada = f"{cabeza}.{carga}.{sello[:-2]}{'AA' if not sello.endswith('AA') else 'BB'}"
    r = api.get(f"{base}/{alterada}")
    assert r.status_code == 403
    assert r.json()["codigo"] == "enlace_invalido"
    assert r.headers["content-type"].startswith("application/json")

    # A link to P1's statement signed with any other secret is refused too.
    folio_p1 = vigente(session, P1.curp).folio
    falsa = jwt.encode({"typ": "enlace", "k": "estado_cuenta", "id": folio_p1,
                        "exp": int((AHORA + timedelta(hours=1)).timestamp())},
                       "otro-secreto-" + "y" * 24, algorithm="HS256")
    r = api.get(f"{base}/{falsa}")
    assert r.status_code == 403
    assert "no es válido" in r.json()["detail"]


def test_enlace_expirado_es_410(api: TestClient, clock: Reloj) -> None:
    ruta = urlsplit(api.post(ENLACE, headers=_auth(api, P2)).json()["url"]).path
    clock.ahora = AHORA + timedelta(hours=23, minutes=59)
    assert api.get(ruta).status_code == 200
    clock.ahora = AHORA + timedelta(hours=24, seconds=1)
    r = api.get(ruta)
    assert r.status_code == 410
    assert r.json()["codigo"] == "enlace_expirado"
    assert "expiró" in r.json()["detail"]


def test_enlace_a_un_folio_que_ya_no_existe_es_404(
    api: TestClient, settings: BackendSettings
) -> None:
    url, _ = enlaces.url_firmada(settings, kind="estado_cuenta", id_="NO-EXISTE", ahora=AHORA)
    r = api.get(urlsplit(url).path)
    assert r.status_code == 404
    assert r.json()["codigo"] == "archivo_no_encontrado"
