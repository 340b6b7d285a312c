"""GET /api/v1/productos: the catalogue is data, validated, with its sources."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel, ValidationError

from backend.schemas import productos as esquema
from backend.services import productos as servicio
from backend.services.productos import RUTA_CATALOGO, cargar_catalogo
from backend.services.simulacion import simular

CLAVES = {
    "credito_complementario",
    "ordinario",
    "especial",
    "conmemorativo",
    "emergente",
    "damnificados",
}


def test_lista_los_productos_con_fuente_y_vigencia(client: TestClient) -> None:
    r = client.get("/api/v1/productos")
    assert r.status_code == 200
    cuerpo = r.json()
    assert isinstance(cuerpo["vigencia"], int) and cuerpo["vigencia"] >= 2024
    assert {p["clave"] for p in cuerpo["productos"]} == CLAVES
    for p in cuerpo["productos"]:
        assert len(p["fuente"]) > 40, p["clave"]
        assert isinstance(p["tasa_anual"], float) and 0 < p["tasa_anual"] < 1
        assert p["tipos"] and set(p["tipos"]) <= {"asegurado", "pensionado"}
    # Every figure that is not from an official document is flagged as an assumption.
    for clave in CLAVES - {"credito_complementario"}:
        producto = next(p for p in cuerpo["productos"] if p["clave"] == clave)
        assert producto["supuestos"], clave


def test_credito_complementario_como_el_folleto(client: TestClient) -> None:
    productos = client.get("/api/v1/productos").json()["productos"]
    cc = next(p for p in productos if p["clave"] == "credito_complementario")
    assert cc["tasa_anual"] == 0.16 and cc["tasa_anual_renovacion"] == 0.17
    assert cc["iva_sobre_intereses"] is True and cc["renovable"] is True
    assert cc["monto"]["regla"] == "descuento_maximo"
    assert cc["monto"]["porcentaje_descuento"] == 0.20
    assert cc["monto"]["porcentaje_descuento_renovacion"] == 0.25
    assert cc["plazo"]["maximo_pensionado"] == 72
    assert [(n["desde_anios"], n["maximo"]) for n in cc["plazo"]["maximo_por_antiguedad"]] == [
        (0, 36),
        (10, 72),
    ]
    assert cc["limite_cotizacion_mas_plazo"] == {
        "H": {"anios": 29, "meses": 6, "dias": 1},
        "M": {"anios": 27, "meses": 6, "dias": 1},
    }
    assert cc["antiguedad_minima_anios"] == 1
    assert len(cc["requisitos"]) == 5


def test_un_producto_y_uno_que_no_existe(client: TestClient) -> None:
    r = client.get("/api/v1/productos/emergente")
    assert r.status_code == 200
    assert r.json()["nombre"] == "Préstamo emergente"
    r = client.get("/api/v1/productos/hipotecario")
    assert r.status_code == 404
    assert r.json()["codigo"] == "producto_desconocido"
    assert r.json()["detail"].startswith("No conocemos ese tipo de préstamo.")


def _copia_catalogo(tmp_path: Path, cambiar) -> Path:  # type: ignore[no-untyped-def]
    datos = json.loads(RUTA_CATALOGO.read_text(encoding="utf-8"))
    cambiar(datos)
    ruta = tmp_path / "productos.json"
    ruta.write_text(json.dumps(datos), encoding="utf-8")
    return ruta


def test_los_parametros_son_datos(tmp_path: Path) -> None:
    """Next year's rates go in the JSON file, not in the code."""

    def subir_tasa(datos: dict) -> None:
        datos["vigencia"] = 2031
        cc = next(p for p in datos["productos"] if p["clave"] == "credito_complementario")
        cc["tasa_anual"] = 0.18
        cc["monto"]["porcentaje_descuento"] = 0.30

    ruta = _copia_catalogo(tmp_path, subir_tasa)
    r = simular(
        producto="credito_complementario",
        sueldo_base_mensual=Decimal("10000"),
        plazo_quincenas=24,
        ruta=ruta,
    )
    assert r.vigencia == 2031
    assert r.tasa_anual == Decimal("0.18")
    assert r.descuento_quincenal == Decimal("1500.00")


@pytest.mark.parametrize(
    "romper",
    [
        lambda d: d["productos"][0]["monto"].pop("porcentaje_descuento"),
        lambda d: d["productos"][0].pop("fuente"),
        lambda d: d["productos"][0]["plazo"].update({"maximo": 36}),
        lambda d: d["productos"][1]["monto"].update({"regla": "adivinar"}),
        lambda d: d["productos"][0].update({"tipos": ["jubilado"]}),
        # No unknown keys at any depth, and the bounds of each field.
        lambda d: d["productos"][0]["plazo"].update({"maximo_quincenas": 36}),
        lambda d: d.update({"version": 2}),
        lambda d: d["productos"][0]["limite_cotizacion_mas_plazo"]["H"].update({"meses": 12}),
    ],
)
def test_un_catalogo_mal_escrito_no_carga(tmp_path: Path, romper) -> None:  # type: ignore[no-untyped-def]
    ruta = _copia_catalogo(tmp_path, romper)
    with pytest.raises(ValidationError):
        cargar_catalogo(ruta)


def test_clave_con_caracteres_raros_es_422_en_espanol(client: TestClient) -> None:
    r = client.get("/api/v1/productos/cr%C3%A9dito!")
    assert r.status_code == 422
    assert r.json()["codigo"] == "datos_invalidos"
    assert r.json()["detail"] == "Revise los datos: clave."
    # A NUL byte is stopped before routing (PostgreSQL cannot store it).
    r = client.get("/api/v1/productos/cr%C3%A9dito%00")
    assert r.status_code == 422
    assert r.json()["detail"] == "La dirección contiene caracteres no válidos."


def test_el_servicio_da_objetos_de_dominio_y_el_router_el_esquema() -> None:
    """The service answers with its frozen dataclasses (Decimal inside); only the
    router turns them into the API schema, which gives back the same figures."""
    catalogo = servicio.listar_productos()
    producto = servicio.obtener_producto(clave="Credito complementario")
    assert isinstance(catalogo, servicio.Catalogo) and isinstance(producto, servicio.Producto)
    assert not isinstance(catalogo, BaseModel) and not isinstance(producto, BaseModel)
    assert isinstance(producto.tasa_anual, Decimal) and producto.plazo.minimo == 1
    api = esquema.Catalogo.model_validate(catalogo).model_dump(mode="json")
    assert api["vigencia"] == catalogo.vigencia
    cc = next(p for p in api["productos"] if p["clave"] == "credito_complementario")
    assert cc["tasa_anual"] == float(producto.tasa_anual) and cc["requisitos"] == list(
        producto.requisitos
    )
