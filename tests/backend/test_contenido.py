"""Faithful content (issue 16) on the backend side: whose facts the product data
are, what the user is told about their source, and the texts of the hoja de
asignación and of a refused cancellation."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy.orm import Session

from backend.deps import reloj
from backend.seed.citas import sembrar_citas_demo
from backend.services.pdf_hoja_cita import DatosHoja, generar_hoja
from tests.backend._citas_apoyo import crear_dh, mx

CATALOGO = Path(__file__).resolve().parents[2] / "backend" / "data" / "productos.json"


def _productos() -> dict[str, dict]:
    return {p["clave"]: p for p in json.loads(CATALOGO.read_text(encoding="utf-8"))["productos"]}


def test_el_complementario_es_del_isseg_y_lo_dice() -> None:
    p = _productos()["credito_complementario"]
    assert p["institucion"] == "ISSEG"
    assert "ISSEG" in p["fuente"] and "seed 004" in p["fuente"]
    assert (
        "Guanajuato" in p["aviso_fuente"] and "no son condiciones del ISSSTE" in p["aviso_fuente"]
    )
    assert "473 735 1400, opción 4" in p["aviso_fuente"]
    assert p["garantia"] == "Obligado solidario y cuotas."
    assert any("quincena inmediata anterior" in r for r in p["requisitos"])
    # Its minimum plazo of 1 quincena is in no seed: written down as an assumption.
    assert p["plazo"]["minimo"] == 1 and any(
        "Plazo mínimo de 1 quincena" in s for s in p["supuestos"]
    )


def test_el_aviso_se_puede_decir_por_telefono() -> None:
    # The aviso is spoken on the phone line too: no web address in it.
    for clave, p in _productos().items():
        assert ".gob.mx" not in p["aviso_fuente"] and "http" not in p["aviso_fuente"], clave


def test_los_demas_productos_se_dicen_como_estimacion() -> None:
    otros = {k: p for k, p in _productos().items() if k != "credito_complementario"}
    assert set(otros) == {"ordinario", "especial", "conmemorativo", "emergente", "damnificados"}
    for clave, p in otros.items():
        assert p["institucion"] == "ISSSTE", clave
        assert p["fuente"] and p["supuestos"], clave
        aviso = p["aviso_fuente"]
        assert "información pública de 2025" in aviso and "confírmela" in aviso, clave
        assert "IVA" in aviso, clave  # IVA on every product is in no seed


def test_la_simulacion_dice_primero_de_quien_son_las_condiciones(client: TestClient) -> None:
    cuerpo = {
        "sueldo_base_mensual": 12690.80,
        "plazo_quincenas": 36,
        "tipo": "asegurado",
        "anios_cotizacion": 12,
    }
    comp = client.post(
        "/api/v1/simulaciones", json={**cuerpo, "producto": "credito_complementario"}
    )
    assert comp.status_code == 200, comp.text
    assert comp.json()["avisos"][0] == _productos()["credito_complementario"]["aviso_fuente"]
    # the figures themselves are unchanged (seed 004 table)
    assert comp.json()["monto_maximo"] == 39745.43
    ordi = client.post(
        "/api/v1/simulaciones", json={**cuerpo, "producto": "ordinario", "plazo_quincenas": 48}
    )
    assert ordi.status_code == 200, ordi.text
    assert ordi.json()["avisos"][0].startswith(
        "Tasa, montos y plazos según información pública de 2025"
    )


def test_el_catalogo_publica_institucion_y_aviso(client: TestClient) -> None:
    r = client.get("/api/v1/productos")
    assert r.status_code == 200
    productos = r.json()["productos"] if isinstance(r.json(), dict) else r.json()
    por_clave = {p["clave"]: p for p in productos}
    assert por_clave["credito_complementario"]["institucion"] == "ISSEG"
    assert all(p["aviso_fuente"] for p in productos)


def _texto_pdf(contenido: bytes) -> str:
    return " ".join(
        " ".join(p.extract_text() for p in PdfReader(io.BytesIO(contenido)).pages).split()
    )


def test_hoja_de_asignacion_dice_al_menos_36_horas_y_la_ruta_completa() -> None:
    texto = _texto_pdf(
        generar_hoja(
            DatosHoja(
                clave="CC3QZ8",
                estatus="AGENDADA",
                nombre="Guadalupe Hernández",
                curp_enmascarada="HEGG************04",
                oficina="Oficina de Representación",
                direccion="Av. Jesús García 140",
                telefono_oficina="55 4000 1000",
                fecha="martes 30 de enero de 2024",
                hora="13:30 hrs-13:45 hrs",
                registrado_en="24/01/2024 15:53:49",
                generado_en=datetime(2024, 1, 24, 22, 0, tzinfo=UTC),
            )
        )
    )
    assert "al menos 36 horas de anticipación" in texto
    assert "máximo de 36 horas" not in texto
    assert "opción 5, submenú 1" in texto and "Portal ASISSSTE" in texto and "Bitácora" in texto
    # ISSEG's list and "15 minutos" are not told as ISSSTE's.
    assert "folleto del crédito complementario del ISSEG" in texto
    assert "dura aproximadamente 15 minutos" not in texto
    assert "Dirección y teléfono de referencia (estimación)" in texto


def test_cancelacion_fuera_de_plazo_no_manda_a_llamar(client: TestClient, session: Session) -> None:
    crear_dh(session, curp="PEGL890909MJCRMS08", nacimiento=datetime(1989, 9, 9).date())
    ahora = mx(2024, 1, 30, 16, 10)  # Tuesday
    sembrar_citas_demo(session, ahora=ahora)
    client.app.dependency_overrides[reloj] = lambda: ahora  # type: ignore[attr-defined]
    r = client.post("/api/v1/citas/K7M2Q9/cancelar", json={"fecha_nacimiento": "1989-09-09"})
    client.app.dependency_overrides.pop(reloj)  # type: ignore[attr-defined]
    assert r.status_code == 409
    detalle = r.json()["detail"]
    assert "36 horas" in detalle and "opción 5, submenú 1" in detalle
    assert "El plazo es el mismo" in detalle
    assert "llame" not in detalle.lower() and "podrá" not in detalle
