"""POST /api/v1/simulaciones: the seed-004 table and every product rule."""

from __future__ import annotations

import csv
import decimal
import re
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st

from backend.services import finanzas
from backend.services.amortizacion import totales_amortizacion
from backend.services.simulacion import simular

URL = "/api/v1/simulaciones"
TABLA = Path(__file__).parent / "data" / "seed004_tabla.csv"
FILAS = list(csv.DictReader(TABLA.open(encoding="utf-8")))
CENT = Decimal("0.01")


def _d(valor: object) -> Decimal:
    return Decimal(str(valor))


# The salary of seed 004's table at nivel 8: where the salary is not what a test is
# about, the request carries this one.
SUELDO = 9840.70


def _simular(client: TestClient, **campos: object) -> dict:
    cuerpo = {"producto": "credito_complementario", "sueldo_base_mensual": SUELDO, **campos}
    r = client.post(URL, json=cuerpo)
    assert r.status_code == 200, r.text
    return r.json()


def _rechazo(client: TestClient, codigo: str | None = None, **campos: object) -> dict:
    cuerpo = {"producto": "credito_complementario", "sueldo_base_mensual": SUELDO, **campos}
    r = client.post(URL, json=cuerpo)
    assert r.status_code == 422, r.text
    cuerpo = r.json()
    assert isinstance(cuerpo["detail"], str) and cuerpo["detail"].endswith(".")
    if codigo is not None:
        assert cuerpo["codigo"] == codigo
    return cuerpo


def _pv_float(pago: float, tasa_anual: float, n: int) -> float:
    """Independent float annuity formula (IVA on interest) to cross-check the service."""
    i = tasa_anual * 1.16 / 24
    return pago * (1 - (1 + i) ** -n) / i


# --- the whole seed-004 table ------------------------------------------------------

def test_la_tabla_tiene_todos_los_niveles_del_folleto() -> None:
    assert len(FILAS) == 21  # niveles 1-20 and 22, as printed in the seed (no nivel 21)
    assert FILAS[0]["nivel"] == "1" and FILAS[-1]["nivel"] == "22"


def test_reproduce_la_tabla_del_seed_004(client: TestClient) -> None:
    for fila in FILAS:
        sueldo = float(fila["sueldo_base_mensual"])
        resultados = {}
        for plazo in (24, 36, 48, 72):
            # 72 quincenas need 10+ years; 12 years + 3 years of plazo stays far from the limits.
            r = _simular(client, sueldo_base_mensual=sueldo, plazo_quincenas=plazo,
                         anios_cotizacion=12, sexo="M")
            resultados[plazo] = r
            assert _d(r["descuento_quincenal"]) == Decimal(fila["descuento_quincenal"]), fila
            assert _d(r["sueldo_base_quincenal"]) == Decimal(fila["sueldo_base_quincenal"]), fila
        for plazo in (36, 48, 72):
            assert _d(resultados[plazo]["monto_maximo"]) == Decimal(fila[f"monto_{plazo}"]), (
                fila,
                plazo,
            )
        # The brochure's 24 column was computed from the UNROUNDED discount (20 % of
        # mensual / 2 with all its decimals) while 36/48/72 use the discount rounded to
        # cents, which is what is actually withheld from the payroll. We compute from the
        # rounded discount, so the 24 column may differ by up to $0.11 (nivel 16).
        diferencia = abs(_d(resultados[24]["monto_maximo"]) - Decimal(fila["monto_24"]))
        assert diferencia <= Decimal("0.11"), fila


def test_la_columna_24_sale_del_descuento_sin_redondear() -> None:
    """Proof of the reason above: with the unrounded discount the 24 column matches to the cent."""
    i = finanzas.tasa_quincenal(Decimal("0.16"))
    for fila in FILAS:
        sin_redondear = Decimal(fila["sueldo_base_mensual"]) / 2 * Decimal("0.20")
        assert finanzas.redondear(finanzas.valor_presente(sin_redondear, i, 24)) == Decimal(
            fila["monto_24"]
        )


# --- rates and discount shares -------------------------------------------------------

def test_descuento_20_por_ciento_y_tasa_16_mas_iva(client: TestClient) -> None:
    r = _simular(client, sueldo_base_mensual=12690.80, plazo_quincenas=36, anios_cotizacion=8)
    assert r["descuento_quincenal"] == 1269.08  # 20 % of 6,345.40
    assert r["tasa_anual"] == 0.16
    assert r["tasa_anual_con_iva"] == pytest.approx(0.1856)
    assert r["tasa_quincenal"] == pytest.approx(0.16 * 1.16 / 24, abs=1e-8)
    assert r["monto_maximo"] == pytest.approx(_pv_float(1269.08, 0.16, 36), abs=0.005)
    assert r["renovacion"] is False


def test_renovacion_25_por_ciento_y_tasa_17(client: TestClient) -> None:
    r = _simular(client, sueldo_base_mensual=12690.80, plazo_quincenas=36, anios_cotizacion=8,
                 renovacion=True)
    assert r["descuento_quincenal"] == 1586.35  # 25 % of 6,345.40
    assert r["tasa_anual"] == 0.17
    assert r["tasa_anual_con_iva"] == pytest.approx(0.17 * 1.16)
    assert r["monto_maximo"] == pytest.approx(_pv_float(1586.35, 0.17, 36), abs=0.005)
    assert r["renovacion"] is True


def test_descuento_redondea_medio_centavo_hacia_arriba(client: TestClient) -> None:
    # 5,512.17 / 2 * 20 % = 551.217 -> 551.22 ; 10,000.05 / 2 * 20 % = 1,000.005 -> 1,000.01
    assert (
        _simular(client, sueldo_base_mensual=5512.17, plazo_quincenas=12)["descuento_quincenal"]
        == 551.22
    )
    assert (
        _simular(client, sueldo_base_mensual=10000.05, plazo_quincenas=12)["descuento_quincenal"]
        == 1000.01
    )


# --- plazo limits -------------------------------------------------------------------

def test_menos_de_10_anios_plazo_maximo_36(client: TestClient) -> None:
    ok = _simular(client, plazo_quincenas=36, anios_cotizacion=8)
    assert ok["plazo_maximo_permitido"] == 36
    cuerpo = _rechazo(client, "plazo_excedido", plazo_quincenas=37, anios_cotizacion=8)
    assert cuerpo["detail"] == "Con 8 años de cotización el plazo máximo es de 36 quincenas."
    _rechazo(client, "plazo_excedido", plazo_quincenas=48, anios_cotizacion=9.9)


def test_desde_10_anios_plazo_maximo_72(client: TestClient) -> None:
    ok = _simular(client, plazo_quincenas=72, anios_cotizacion=10)
    assert ok["plazo_maximo_permitido"] == 72
    cuerpo = _rechazo(client, "plazo_excedido", plazo_quincenas=73, anios_cotizacion=10)
    assert cuerpo["detail"] == "Con 10 años de cotización el plazo máximo es de 72 quincenas."


def test_sin_anios_de_cotizacion_se_pide_el_dato_para_mas_de_36(client: TestClient) -> None:
    ok = _simular(client, plazo_quincenas=36)
    assert ok["plazo_maximo_permitido"] == 36
    assert any("1 año de cotización" in a for a in ok["avisos"])
    cuerpo = _rechazo(client, "faltan_anios_cotizacion", plazo_quincenas=48)
    assert "36 quincenas" in cuerpo["detail"] and "72 quincenas" in cuerpo["detail"]


def test_pensionados_hasta_72_sin_limite_de_cotizacion(client: TestClient) -> None:
    ok = _simular(client, plazo_quincenas=72, tipo="pensionado")
    assert ok["tipo"] == "pensionado" and ok["plazo_maximo_permitido"] == 72
    # 35 years of cotización would break the asegurado limit; it does not apply to pensionados.
    ok = _simular(client, plazo_quincenas=72, tipo="pensionado", anios_cotizacion=35, sexo="M")
    assert ok["monto_maximo"] == 54174.51  # nivel 8 at 72 quincenas
    cuerpo = _rechazo(client, "plazo_excedido", plazo_quincenas=73, tipo="pensionado")
    assert (
        cuerpo["detail"]
        == "Para pensionados el plazo máximo del crédito complementario es de 72 quincenas."
    )


@pytest.mark.parametrize(
    ("sexo", "anios", "plazo_limite"),
    [
        ("H", 28, 36),  # 28 a + 18 m = 29 a 6 m exactly: still under 29 a 6 m 1 d
        ("H", 27, 60),  # 27 a + 30 m = 29 a 6 m
        ("M", 26, 36),  # 26 a + 18 m = 27 a 6 m
        ("M", 25, 60),  # 25 a + 30 m = 27 a 6 m
        ("M", 27, 12),  # 27 a + 6 m = 27 a 6 m
    ],
)
def test_cotizacion_mas_plazo_en_el_limite(
    client: TestClient, sexo: str, anios: int, plazo_limite: int
) -> None:
    ok = _simular(client, plazo_quincenas=plazo_limite, anios_cotizacion=anios, sexo=sexo)
    assert ok["plazo_maximo_permitido"] == plazo_limite
    cuerpo = _rechazo(
        client,
        "cotizacion_mas_plazo",
        plazo_quincenas=plazo_limite + 1,
        anios_cotizacion=anios,
        sexo=sexo,
    )
    limite = "29 años, 6 meses y 1 día" if sexo == "H" else "27 años, 6 meses y 1 día"
    assert limite in cuerpo["detail"]
    assert f"el plazo máximo para usted es de {plazo_limite} quincenas" in cuerpo["detail"]


def test_cotizacion_que_ya_no_alcanza(client: TestClient) -> None:
    cuerpo = _rechazo(
        client, "cotizacion_mas_plazo", plazo_quincenas=1, anios_cotizacion=29.5, sexo="H"
    )
    assert "ya no alcanza" in cuerpo["detail"]


def test_sin_sexo_el_limite_se_decide_cuando_se_puede(client: TestClient) -> None:
    # Under both limits: fine without sexo.
    assert _simular(client, plazo_quincenas=12, anios_cotizacion=27)["plazo_maximo_permitido"] == 12
    # Over the women's limit, under the men's: we must ask.
    cuerpo = _rechazo(client, "falta_sexo", plazo_quincenas=13, anios_cotizacion=27)
    assert "hombre o mujer" in cuerpo["detail"]
    # Over both: refused, naming both limits.
    cuerpo = _rechazo(client, "cotizacion_mas_plazo", plazo_quincenas=61, anios_cotizacion=27)
    assert (
        "60 quincenas para hombres" in cuerpo["detail"]
        and "12 quincenas para mujeres" in cuerpo["detail"]
    )


def _anios_del_aviso(aviso: str) -> dict[str, Decimal]:
    """'más de 28 años y 6 meses de cotización (hombres)' -> {"H": 28.5} (years and months only)."""
    encontrados = re.findall(
        r"más de (\d+) años(?: y (\d+) meses)? de cotización(?: \((hombres|mujeres)\))?", aviso
    )
    return {
        ("M" if sexo == "mujeres" else "H") if sexo else "?": Decimal(a) + Decimal(m or 0) / 12
        for a, m, sexo in encontrados
    }


@pytest.mark.parametrize("plazo", [24, 36])
def test_sin_anios_el_limite_de_cotizacion_mas_plazo_se_avisa(
    client: TestClient, plazo: int
) -> None:
    """Años are optional: without them the cotización + plazo rule cannot be checked, so
    the answer says up to how many years this plazo is allowed (and it is true)."""
    r = _simular(client, plazo_quincenas=plazo)
    (aviso,) = [a for a in r["avisos"] if "29 años, 6 meses y 1 día" in a]
    assert "27 años, 6 meses y 1 día" in aviso and aviso.endswith(
        "díganos sus años de cotización para confirmarlo."
    )
    topes = _anios_del_aviso(aviso)
    assert topes == {
        "H": Decimal(28 if plazo == 36 else "28.5"),
        "M": Decimal(26 if plazo == 36 else "26.5"),
    }
    for sexo, tope in topes.items():
        # Up to the stated cotización the plazo is allowed; one day more and it is not.
        assert (
            _simular(client, plazo_quincenas=plazo, anios_cotizacion=str(tope), sexo=sexo)[
                "plazo_maximo_permitido"
            ]
            >= plazo
        )
        _rechazo(
            client,
            "cotizacion_mas_plazo",
            plazo_quincenas=plazo,
            anios_cotizacion=str(tope + Decimal(1) / 360),
            sexo=sexo,
        )


def test_sin_anios_con_sexo_el_aviso_es_solo_el_suyo(client: TestClient) -> None:
    r = _simular(client, plazo_quincenas=36, sexo="M")
    (aviso,) = [a for a in r["avisos"] if "díganos sus años" in a]
    assert "27 años, 6 meses y 1 día para mujeres" in aviso and "hombres" not in aviso
    assert _anios_del_aviso(aviso) == {"?": Decimal(26)}


def test_con_anios_o_pensionado_no_hay_aviso_del_limite(client: TestClient) -> None:
    for campos in ({"anios_cotizacion": 8}, {"tipo": "pensionado"}):
        r = _simular(client, plazo_quincenas=36, **campos)
        assert not any("díganos sus años" in a for a in r["avisos"]), r["avisos"]


def test_un_anio_de_cotizacion_minimo(client: TestClient) -> None:
    cuerpo = _rechazo(client, "antiguedad_insuficiente", plazo_quincenas=24, anios_cotizacion=0.5)
    assert cuerpo["detail"] == (
        "Para el crédito complementario se necesita al menos 1 año de cotización; usted tiene 6 "
        "meses."
    )
    assert _simular(client, plazo_quincenas=24, anios_cotizacion=1)["monto_maximo"] == 21480.00


# --- bad input ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("campos", "campo", "frase"),
    [
        (
            {"sueldo_base_mensual": 0, "plazo_quincenas": 24},
            "sueldo_base_mensual",
            "mayor que cero",
        ),
        (
            {"sueldo_base_mensual": -100, "plazo_quincenas": 24},
            "sueldo_base_mensual",
            "mayor que cero",
        ),
        (
            {"sueldo_base_mensual": "mucho", "plazo_quincenas": 24},
            "sueldo_base_mensual",
            "cantidad en pesos",
        ),
        (
            {"sueldo_base_mensual": 2_000_000, "plazo_quincenas": 24},
            "sueldo_base_mensual",
            "un millón",
        ),
        (
            {"sueldo_base_mensual": 9000, "plazo_quincenas": 0},
            "plazo_quincenas",
            "al menos una quincena",
        ),
        (
            {"sueldo_base_mensual": 9000, "plazo_quincenas": 12.5},
            "plazo_quincenas",
            "número entero",
        ),
        (
            {"sueldo_base_mensual": 9000, "plazo_quincenas": True},
            "plazo_quincenas",
            "número entero",
        ),
        (
            {"sueldo_base_mensual": 9000, "plazo_quincenas": 24, "tipo": "jefe"},
            "tipo",
            "asegurado o pensionado",
        ),
        (
            {"sueldo_base_mensual": 9000, "plazo_quincenas": 24, "sexo": "X"},
            "sexo",
            "H (hombre) o M (mujer)",
        ),
        (
            {"sueldo_base_mensual": 9000, "plazo_quincenas": 24, "anios_cotizacion": -1},
            "anios_cotizacion",
            "negativos",
        ),
        (
            {"sueldo_base_mensual": 9000, "plazo_quincenas": 24, "renovacion": "quizá"},
            "renovacion",
            "true o false",
        ),
    ],
)
def test_datos_invalidos_dan_422_en_espanol(
    client: TestClient, campos: dict, campo: str, frase: str
) -> None:
    cuerpo = _rechazo(client, "datos_invalidos", **campos)
    assert frase in cuerpo["detail"]
    assert cuerpo["campos"] == [campo]


def test_faltan_campos(client: TestClient) -> None:
    r = client.post(URL, json={"sueldo_base_mensual": 9000})
    assert r.status_code == 422
    cuerpo = r.json()
    assert cuerpo["codigo"] == "datos_invalidos"
    assert cuerpo["campos"] == ["plazo_quincenas", "producto"]
    assert cuerpo["detail"].startswith("Revise los datos")


def test_producto_desconocido(client: TestClient) -> None:
    r = client.post(
        URL, json={"producto": "hipotecario", "sueldo_base_mensual": 9000, "plazo_quincenas": 24}
    )
    assert r.status_code == 422
    cuerpo = r.json()
    assert cuerpo["codigo"] == "producto_desconocido"
    assert cuerpo["detail"].startswith("No conocemos ese tipo de préstamo.")
    assert "crédito complementario" in cuerpo["detail"]


def test_entradas_como_las_dice_la_gente(client: TestClient) -> None:
    r = client.post(
        URL,
        json={
            "producto": "Crédito complementario".replace("é", "e"),
            "sueldo_base_mensual": "$12,690.80",
            "plazo_quincenas": "36",
            "tipo": "Pensionada",
            "sexo": "mujer",
        },
    )
    assert r.status_code == 200, r.text
    cuerpo = r.json()
    assert cuerpo["producto"] == "credito_complementario"
    assert cuerpo["tipo"] == "pensionado"
    assert cuerpo["descuento_quincenal"] == 1269.08
    assert cuerpo["monto_maximo"] == 39745.43  # nivel 10 at 36 quincenas


# --- amortisation table -------------------------------------------------------------


@pytest.mark.parametrize(("plazo", "renovacion"), [(24, False), (72, False), (72, True)])
def test_tabla_de_amortizacion_cuadra(client: TestClient, plazo: int, renovacion: bool) -> None:
    r = _simular(
        client,
        sueldo_base_mensual=23134.41,
        plazo_quincenas=plazo,
        anios_cotizacion=15,
        sexo="H",
        renovacion=renovacion,
        incluir_tabla=True,
    )
    tabla = r["tabla"]
    assert [f["quincena"] for f in tabla] == list(range(1, plazo + 1))
    suma = lambda campo: sum(_d(f[campo]) for f in tabla)  # noqa: E731
    assert suma("capital") == _d(r["monto_maximo"])
    assert _d(tabla[-1]["saldo_final"]) == 0
    assert _d(tabla[0]["saldo_inicial"]) == _d(r["monto_maximo"])
    for anterior, siguiente in zip(tabla, tabla[1:], strict=False):
        assert anterior["saldo_final"] == siguiente["saldo_inicial"]
    assert all(f["pago"] == r["descuento_quincenal"] for f in tabla[:-1])
    # The last quincena absorbs the rounding of the rows: a cent or two at most.
    assert abs(_d(tabla[-1]["pago"]) - _d(r["descuento_quincenal"])) <= Decimal("0.05")
    for f in tabla:
        assert _d(f["iva"]) == finanzas.redondear(_d(f["interes"]) * Decimal("0.16"))
        assert _d(f["pago"]) == _d(f["capital"]) + _d(f["interes"]) + _d(f["iva"])
    assert suma("pago") == _d(r["total_a_pagar"])
    assert suma("interes") == _d(r["intereses"])
    assert suma("iva") == _d(r["iva"])
    assert _d(r["total_a_pagar"]) == _d(r["monto_maximo"]) + _d(r["intereses"]) + _d(r["iva"])


def test_sin_incluir_tabla_no_hay_tabla(client: TestClient) -> None:
    assert _simular(client, plazo_quincenas=24)["tabla"] is None


def test_totales_rapidos_igual_a_la_tabla() -> None:
    """The fast totals loop is a twin of finanzas.tabla_amortizacion: same cents everywhere."""
    for fila in FILAS:
        for plazo in (1, 24, 36, 48, 72):
            for renovacion in (False, True):
                r = simular(
                    producto="credito_complementario",
                    sueldo_base_mensual=Decimal(fila["sueldo_base_mensual"]),
                    plazo_quincenas=plazo,
                    renovacion=renovacion,
                    tipo="pensionado",
                )
                tasa = Decimal(str(r.tasa_anual))
                filas = finanzas.tabla_amortizacion(
                    r.monto_maximo, tasa, plazo, r.descuento_quincenal
                )
                esperado = (
                    sum(f.pago for f in filas),
                    sum(f.interes for f in filas),
                    sum(f.iva for f in filas),
                )
                assert (
                    totales_amortizacion(r.monto_maximo, tasa, plazo, r.descuento_quincenal)
                    == esperado
                )


def _totales_de_la_tabla(
    monto: Decimal, tasa: Decimal, plazo: int, descuento: Decimal, con_iva: bool
) -> tuple[Decimal, Decimal, Decimal]:
    filas = finanzas.tabla_amortizacion(monto, tasa, plazo, descuento, con_iva=con_iva)
    return sum(f.pago for f in filas), sum(f.interes for f in filas), sum(f.iva for f in filas)  # type: ignore[return-value]


@pytest.mark.parametrize(
    ("monto", "tasa"),
    [
        # 0.16 / 24 = 1/150: a saldo of 75 cents (mod 150) gives exactly half a cent of interest.
        ("0.75", "0.16"),
        ("1500.75", "0.16"),
        # 0.17 / 24 is rounded DOWN by Decimal (0.00708333...333), yet 12.00 × it becomes
        # 0.085 after the product's own rounding to 28 digits: half up gives 0.09, not 0.08.
        ("12.00", "0.17"),
        ("24012.00", "0.17"),
    ],
)
def test_totales_rapidos_en_medio_centavo(monto: str, tasa: str) -> None:
    for plazo in (1, 2, 36):
        m, t = Decimal(monto), Decimal(tasa)
        descuento = finanzas.redondear(
            finanzas.pago_periodico(m, finanzas.tasa_quincenal(t), plazo)
        )
        for con_iva in (True, False):
            assert totales_amortizacion(
                m, t, plazo, descuento, con_iva=con_iva
            ) == _totales_de_la_tabla(m, t, plazo, descuento, con_iva)


def _saldos_de_medio_centavo(tasa: str) -> tuple[int, int]:
    """(first, period) of the saldos in cents whose exact interest at tasa/24 is x.5 cents."""
    q = Fraction(Decimal(tasa)) / finanzas.QUINCENAS_POR_ANIO  # interest in cents per cent of saldo
    a, b = q.numerator, q.denominator
    assert b % 2 == 0, tasa
    return (b // 2) * pow(a, -1, b) % b, b


@given(
    monto=st.integers(min_value=1, max_value=10**8).map(lambda c: Decimal(c).scaleb(-2)),
    tasa=st.one_of(
        st.sampled_from(["0.16", "0.17", "0.11", "0.075"]),
        st.integers(min_value=1, max_value=4000).map(lambda n: str(Decimal(n).scaleb(-4))),
    ),
    plazo=st.integers(min_value=1, max_value=72),
    factor=st.sampled_from(["1", "1", "0.97", "1.4", "0.5"]),
    con_iva=st.booleans(),
)
@hyp_settings(max_examples=300, deadline=None, derandomize=True, database=None)
def test_totales_rapidos_igual_a_la_tabla_con_cualquier_dato(
    monto: Decimal, tasa: str, plazo: int, factor: str, con_iva: bool
) -> None:
    """Integer-cents totals == Decimal table for any loan (also discounts that do not
    amortise it, which the integer path hands back to Decimal)."""
    t = Decimal(tasa)
    descuento = finanzas.redondear(
        finanzas.pago_periodico(monto, finanzas.tasa_quincenal(t, con_iva=con_iva), plazo)
        * Decimal(factor)
    )
    assert totales_amortizacion(
        monto, t, plazo, descuento, con_iva=con_iva
    ) == _totales_de_la_tabla(monto, t, plazo, descuento, con_iva)


@given(
    tasa=st.sampled_from(["0.16", "0.17", "0.11", "0.075", "0.13", "0.0999"]),
    # Coarser Decimal contexts too (their own precision decides there), with saldos that fit in
    # them.
    precision_y_vueltas=st.sampled_from([28, 28, 16, 10, 8]).flatmap(
        lambda p: st.tuples(st.just(p), st.integers(min_value=0, max_value=10 ** min(6, p - 6)))
    ),
    plazo=st.integers(min_value=1, max_value=72),
    con_iva=st.booleans(),
)
@hyp_settings(max_examples=300, deadline=None, derandomize=True, database=None)
def test_totales_rapidos_cuando_el_interes_cae_en_medio_centavo(
    tasa: str, precision_y_vueltas: tuple[int, int], plazo: int, con_iva: bool
) -> None:
    """Saldos whose exact interest is exactly half a cent: there the Decimal product's
    rounding to the context's digits decides the cent, and the integer totals must follow it."""
    precision, vueltas = precision_y_vueltas
    primero, periodo = _saldos_de_medio_centavo(tasa)
    with decimal.localcontext(prec=precision):
        monto, t = Decimal(primero + periodo * vueltas).scaleb(-2), Decimal(tasa)
        descuento = finanzas.redondear(
            finanzas.pago_periodico(monto, finanzas.tasa_quincenal(t, con_iva=con_iva), plazo)
        )
        assert totales_amortizacion(
            monto, t, plazo, descuento, con_iva=con_iva
        ) == _totales_de_la_tabla(monto, t, plazo, descuento, con_iva)


# --- the other ISSSTE products --------------------------------------------------------


def test_ordinario_tope_por_antiguedad(client: TestClient) -> None:
    base = {"producto": "ordinario", "sueldo_base_mensual": 23134.41, "plazo_quincenas": 48}
    montos = {}
    for anios in (1, 5, 5.5, 12, 21):
        r = client.post(URL, json={**base, "anios_cotizacion": anios})
        assert r.status_code == 200, r.text
        montos[anios] = r.json()["monto_maximo"]
    assert montos == {1: 30000.0, 5: 30000.0, 5.5: 36500.0, 12: 42000.0, 21: 50000.0}
    r = client.post(URL, json={**base, "tipo": "pensionado"}).json()
    assert r["monto_maximo"] == 40000.0
    assert r["descuento_quincenal"] == pytest.approx(
        40000 * (0.11 * 1.16 / 24) / (1 - (1 + 0.11 * 1.16 / 24) ** -48), abs=0.006
    )


def test_especial_meses_de_sueldo_con_tope(client: TestClient) -> None:
    base = {"producto": "especial", "plazo_quincenas": 48}
    r = client.post(
        URL, json={**base, "sueldo_base_mensual": 23134.41, "anios_cotizacion": 12}
    ).json()
    assert r["monto_maximo"] == pytest.approx(6 * 23134.41, abs=0.005)
    r = client.post(
        URL, json={**base, "sueldo_base_mensual": 51861.00, "anios_cotizacion": 3}
    ).json()
    assert r["monto_maximo"] == 137578.40  # 4 × sueldo tope 34,394.60


def test_capacidad_de_pago_limita_el_monto(client: TestClient) -> None:
    # $30,000 in 18 quincenas needs about $1,800 a quincena: more than half of $2,593.05.
    r = client.post(
        URL,
        json={
            "producto": "emergente",
            "sueldo_base_mensual": 5186.10,
            "plazo_quincenas": 18,
            "anios_cotizacion": 12,
        },
    )
    cuerpo = r.json()
    assert r.status_code == 200, r.text
    assert cuerpo["descuento_quincenal"] == 1296.53  # 50 % of 2,593.05
    assert cuerpo["monto_maximo"] == pytest.approx(_pv_float(1296.53, 0.11, 18), abs=0.005)
    assert cuerpo["monto_maximo"] < 30000
    assert any("50 %" in a for a in cuerpo["avisos"])


@pytest.mark.parametrize(
    ("cuerpo", "codigo", "frase"),
    [
        (
            {"producto": "ordinario", "plazo_quincenas": 12},
            "plazo_insuficiente",
            "El plazo mínimo del préstamo personal ordinario es de 24 quincenas.",
        ),
        (
            {"producto": "ordinario", "plazo_quincenas": 60},
            "plazo_excedido",
            "El plazo del préstamo personal ordinario va de 24 a 48 quincenas.",
        ),
        (
            {"producto": "emergente", "plazo_quincenas": 24},
            "plazo_excedido",
            "El plazo del préstamo emergente es de 18 quincenas.",
        ),
        (
            {"producto": "ordinario", "plazo_quincenas": 24, "renovacion": True},
            "sin_renovacion",
            "El préstamo personal ordinario no tiene modalidad de renovación.",
        ),
        (
            {"producto": "especial", "plazo_quincenas": 48, "anios_cotizacion": 0.25},
            "antiguedad_insuficiente",
            "al menos 6 meses de cotización",
        ),
    ],
)
def test_reglas_de_otros_productos(
    client: TestClient, cuerpo: dict, codigo: str, frase: str
) -> None:
    r = client.post(URL, json={"sueldo_base_mensual": 12690.80, **cuerpo})
    assert r.status_code == 422, r.text
    assert r.json()["codigo"] == codigo
    assert frase in r.json()["detail"]


def test_cada_producto_simula_en_su_plazo_maximo(client: TestClient) -> None:
    productos = client.get("/api/v1/productos").json()["productos"]
    for p in productos:
        plazo = p["plazo"]["maximo"] or max(
            n["maximo"] for n in p["plazo"]["maximo_por_antiguedad"]
        )
        r = client.post(
            URL,
            json={
                "producto": p["clave"],
                "sueldo_base_mensual": 12690.80,
                "plazo_quincenas": plazo,
                "anios_cotizacion": 12,
                "sexo": "M",
            },
        )
        assert r.status_code == 200, (p["clave"], r.text)
        cuerpo = r.json()
        assert cuerpo["monto_maximo"] > 0 and cuerpo["descuento_quincenal"] > 0
        assert cuerpo["descuento_quincenal"] <= 12690.80 / 2
        assert cuerpo["vigencia"] == client.get("/api/v1/productos").json()["vigencia"]
