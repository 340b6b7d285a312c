"""Reading what users type, tap or say: dates (citas and birth dates), amounts
with centavos, plazos and whole numbers. `hoy` is fixed so every case is exact."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from bot.actions.lectura import hoy_mx, leer_entero, leer_fecha, leer_monto, leer_plazo

HOY = date(2026, 12, 1)  # a Tuesday


@pytest.mark.parametrize("texto,esperada", [
    # weekdays: the next one (today's weekday means next week's)
    ("jueves", date(2026, 12, 3)),
    ("el martes", date(2026, 12, 8)),
    ("próximo martes", date(2026, 12, 8)),
    ("el proximo martes", date(2026, 12, 8)),
    ("el lunes que viene", date(2026, 12, 7)),
    ("para el jueves por favor", date(2026, 12, 3)),
    ("el miércoles", date(2026, 12, 2)),
    ("viernes", date(2026, 12, 4)),
    # a weekday with a day number: the number is the precise part
    ("martes 15", date(2026, 12, 15)),
    ("el martes 15", date(2026, 12, 15)),
    ("el viernes 18 de diciembre", date(2026, 12, 18)),
    # spoken numbers and ordinals
    ("primero de junio", date(2027, 6, 1)),
    ("1o de junio", date(2027, 6, 1)),
    ("quince de marzo", date(2027, 3, 15)),
    ("el día quince", date(2026, 12, 15)),
    ("el 10 de marzo", date(2027, 3, 10)),
    # without a year: the next one; with it, as said
    ("2 de diciembre", date(2026, 12, 2)),
    ("15/03", date(2027, 3, 15)),
    ("10/03/2027", date(2027, 3, 10)),
    ("2027-03-10", date(2027, 3, 10)),
    # relative
    ("hoy", HOY),
    ("mañana", HOY + timedelta(days=1)),
    ("pasado mañana", HOY + timedelta(days=2)),
    ("en dos semanas", HOY + timedelta(days=14)),
])
def test_fecha_de_cita(texto, esperada):
    assert leer_fecha(texto, hacia="futuro", hoy=HOY) == esperada


@pytest.mark.parametrize("texto", ["junio", "nada", "", "31/02/2027", "el de la tarde", None])
def test_fecha_de_cita_que_no_es_un_dia(texto):
    assert leer_fecha(texto, hacia="futuro", hoy=HOY) is None


@pytest.mark.parametrize("texto", [
    "27041956", "27/04/1956", "1956-04-27", "27-04-1956", "27 de abril de 1956",
    "27 de abril del 56", "27/04/56",
    "veintisiete de abril del cincuenta y seis",
    "veintisiete de abril de mil novecientos cincuenta y seis",
])
def test_fecha_de_nacimiento(texto):
    assert leer_fecha(texto, hacia="pasado", hoy=HOY) == date(1956, 4, 27)


@pytest.mark.parametrize("texto", [
    "27 de abril",  # no year: not a birth date
    "mañana",
    "27/04/2030",  # the future
    "31/02/1956",
])
def test_fecha_de_nacimiento_incompleta_o_imposible(texto):
    assert leer_fecha(texto, hacia="pasado", hoy=HOY) is None


def test_dos_digitos_del_anio_segun_el_sentido():
    # The same digits: a cita is ahead (2027), a birth date behind (1927).
    assert leer_fecha("10/03/27", hacia="futuro", hoy=HOY) == date(2027, 3, 10)
    assert leer_fecha("10/03/27", hacia="pasado", hoy=HOY) == date(1927, 3, 10)
    assert leer_fecha("9 de septiembre del 89", hacia="pasado", hoy=HOY) == date(1989, 9, 9)


def test_hoy_es_el_de_la_ciudad_de_mexico():
    from datetime import datetime
    from zoneinfo import ZoneInfo

    assert hoy_mx() == datetime.now(ZoneInfo("America/Mexico_City")).date()


@pytest.mark.parametrize("texto,esperado", [
    ("15500", "15500.00"),
    ("$15,500.00", "15500.00"),
    ("$11,320.07", "11320.07"),
    ("15 mil", "15000.00"),
    ("15.5 mil", "15500.00"),
    ("20 mil quinientos", "20500.00"),
    ("sueldo de 20 mil", "20000.00"),
    ("quince mil pesos", "15000.00"),
    ("mil quinientos", "1500.00"),
    ("once mil trescientos veinte pesos con siete centavos", "11320.07"),
    ("once mil trescientos veinte pesos con siete", "11320.07"),
    ("doce mil seiscientos noventa pesos con ochenta centavos", "12690.80"),
    ("11320 con 7 centavos", "11320.07"),
    ("nada", None),
    ("0", None),
    ("", None),
])
def test_monto(texto, esperado):
    assert leer_monto(texto) == (Decimal(esperado) if esperado else None)


@pytest.mark.parametrize("texto,entero,plazo", [
    ("36", 36, 36),
    ("treinta y seis", 36, 36),
    ("cuarenta y ocho quincenas", 48, 48),
    ("dos años", 2, 48),
    ("un año", 1, 24),
    ("18 meses", 18, 36),
    ("veinte años", 20, 480),
    ("muchas", None, None),
])
def test_enteros_y_plazos(texto, entero, plazo):
    assert leer_entero(texto) == entero
    assert leer_plazo(texto) == plazo
