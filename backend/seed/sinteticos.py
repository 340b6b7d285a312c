"""N synthetic derechohabientes with valid CURPs, loans and payroll movimientos:
deterministic (seeded random) and bulk-inserted, so 1,000,000 is practical."""

from __future__ import annotations

import random
import secrets
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import Connection, func, insert, select
from sqlalchemy.orm import Session

from backend.models import Derechohabiente, Movimiento, Prestamo
from backend.seed.catalogos import (
    APELLIDOS,
    DEPENDENCIAS,
    LADAS,
    NOMBRES_H,
    NOMBRES_M,
    SUELDOS,
)
from backend.seed.curp import ESTADOS, construir_curp, sin_acentos
from backend.services.finanzas import (
    fechas_quincena,
    quincena_en_o_despues,
    redondear,
    tasa_quincenal,
    valor_presente,
)
from backend.services.nip_hash import Pimientas, pimientas
from backend.services.nip_hash import hash_nip as claves_hash
from backend.services.reglas_producto import plazo_maximo_permitido

DOMINIO_SINTETICO = "sintetico.example"
SEMILLA = "capp-sintetico-v1"
BLOQUE = 10_000

_NACIMIENTO_DESDE = date(1950, 1, 1)
_DIAS_NACIMIENTO = (date(1999, 12, 31) - _NACIMIENTO_DESDE).days + 1
# Every synthetic person gets a distinct (birth date, sex, state, homoclave 1-9)
# through an affine permutation of their index, so CURPs never collide (and never
# equal a persona's, whose homoclave digit is 0).
_ESPACIO = _DIAS_NACIMIENTO * 2 * len(ESTADOS) * 9
_MULT = 7_368_787
_DESP = 1_234_567


def _identidad_sintetica(indice: int) -> tuple[date, str, str, str]:
    j = (indice * _MULT + _DESP) % _ESPACIO
    j, homoclave = divmod(j, 9)
    j, estado = divmod(j, len(ESTADOS))
    dias, sexo = divmod(j, 2)
    return _NACIMIENTO_DESDE + timedelta(days=dias), "HM"[sexo], ESTADOS[estado], str(homoclave + 1)


@dataclass
class _Calendario:
    """Quincena dates around `hoy`, precomputed once for the whole synthetic run."""

    fechas: list[date]
    indice_hoy: int  # first date >= hoy

    @classmethod
    def de(cls, hoy: date) -> _Calendario:
        inicio = quincena_en_o_despues(date(hoy.year - 10, 1, 1))
        fechas = fechas_quincena(inicio, 24 * 14)
        return cls(fechas, next(k for k, f in enumerate(fechas) if f >= hoy))


_FACTORES: dict[tuple[str, int], Decimal] = {}
# Plazos a synthetic loan may have (the seed-004 table's columns), when the rules allow them.
PLAZOS_SINTETICOS = (24, 36, 48, 72)
PRODUCTO_SINTETICO = "credito_complementario"


@cache
def _plazo_maximo_sintetico(tipo: str, sexo: str, quincenas_cotizadas: int) -> int:
    """Longest plazo the simulation rules allow with this cotización (in quincenas,
    so the cache stays small and fast for 1,000,000 people); 0 when none."""
    return plazo_maximo_permitido(producto=PRODUCTO_SINTETICO, tipo=tipo, sexo=sexo,
                                  anios_cotizacion=Decimal(quincenas_cotizadas) / 24)


def _plazos_permitidos(
    tipo: str, sexo: str, quincenas_cotizadas: int, *, mas_de: int = 0
) -> tuple[int, ...]:
    """The usual plazos the rules allow (cotización as it was when the loan started),
    or the longest allowed one when it is shorter than all of them; all > `mas_de`."""
    maximo = _plazo_maximo_sintetico(tipo, sexo, quincenas_cotizadas)
    plazos = tuple(p for p in PLAZOS_SINTETICOS if mas_de < p <= maximo)
    return plazos or ((maximo,) if maximo > mas_de else ())


def _monto_por_descuento(descuento: Decimal, tasa: str, plazo: int) -> Decimal:
    factor = _FACTORES.get((tasa, plazo))
    if factor is None:
        factor = _FACTORES[(tasa, plazo)] = valor_presente(
            Decimal(1), tasa_quincenal(Decimal(tasa)), plazo
        )
    return redondear(descuento * factor)


def _prestamo_sintetico(
    rng: random.Random,
    folio: str,
    descuento: Decimal,
    plazo: int,
    fechas: list[date],
    ahora: datetime,
) -> dict[str, object]:
    """A synthetic loan at 16 % whose discounts start on fechas[0]; the caller adds its
    estatus and fecha_liquidacion."""
    return {
        "folio": folio,
        "producto": PRODUCTO_SINTETICO,
        "monto": _monto_por_descuento(descuento, "0.16", plazo),
        "plazo_quincenas": plazo,
        "tasa_anual": Decimal("0.16"),
        "descuento_quincenal": descuento,
        "fecha_otorgamiento": fechas[0] - timedelta(days=rng.randint(16, 40)),
        "fecha_primer_descuento": fechas[0],
        "creado_en": ahora,
    }


def _persona_sintetica(
    rng: random.Random, indice: int, hoy: date, cal: _Calendario, claves: Pimientas, ahora: datetime
) -> tuple[dict[str, object], list[dict[str, object]], list[list[tuple[int, date, Decimal]]]]:
    nacimiento, sexo, estado, homoclave = _identidad_sintetica(indice)
    nombre = rng.choice(NOMBRES_H if sexo == "H" else NOMBRES_M)
    ap1, ap2 = rng.choice(APELLIDOS), rng.choice(APELLIDOS)
    # Who the person is: the CURP derives from it, and it is stored as is.
    identidad: dict[str, Any] = {
        "nombre": nombre,
        "primer_apellido": ap1,
        "segundo_apellido": ap2,
        "fecha_nacimiento": nacimiento,
        "sexo": sexo,
    }
    curp = construir_curp(**identidad, estado=estado, homoclave=homoclave)
    edad = hoy.year - nacimiento.year
    pensionado = edad >= 60 and rng.random() < 0.8
    anios = rng.randint(28, 35) if pensionado else rng.randint(1, max(1, min(edad - 19, 30)))
    sueldo = rng.choice(SUELDOS)
    lada = rng.choice(LADAS)
    persona = {
        "curp": curp,
        **identidad,
        "tipo": "pensionado" if pensionado else "asegurado",
        "dependencia": "ISSSTE (nómina de pensionados)" if pensionado else rng.choice(DEPENDENCIAS),
        "sueldo_base_mensual": sueldo,
        "anios_cotizacion": anios,
        "telefono": f"+521{lada}{rng.randrange(10 ** (10 - len(lada))):0{10 - len(lada)}d}",
        "email": (
            f"{sin_acentos(nombre).lower()}.{sin_acentos(ap1).lower()}.{indice}@{DOMINIO_SINTETICO}"
        ),
        # A random NIP nobody knows (drawn outside `rng`, which must stay reproducible):
        # these people cannot be logged into. One HMAC each, about a microsecond.
        "nip_hash": claves_hash(curp, f"{secrets.randbelow(10_000):04d}", claves),
        "creado_en": ahora,
    }
    prestamos: list[dict[str, object]] = []
    nominas: list[list[tuple[int, date, Decimal]]] = []
    descuento = redondear(sueldo / 2 * Decimal("0.20"))
    tipo = str(persona["tipo"])
    cotizadas = anios * 24  # quincenas of cotización today
    # Every loan is one the simulation rules allowed when it started: plazo by
    # cotización then (36 under 10 years, 72 from 10 and for pensionados) and, for
    # asegurados, cotización + plazo under 29 a 6 m 1 d (men) / 27 a 6 m 1 d (women).
    if rng.random() < 0.30:  # an old loan, already paid off
        despues = rng.randint(30, 120)  # quincenas between its last discount and today
        candidatos = [p for p in PLAZOS_SINTETICOS
                      if p in _plazos_permitidos(tipo, sexo, cotizadas - p - despues)]
        if candidatos:
            plazo = rng.choice(candidatos)
            inicio = cal.indice_hoy - plazo - despues
            fechas = cal.fechas[inicio:inicio + plazo]
            prestamos.append(
                _prestamo_sintetico(rng, f"SIN-{indice:08d}-H", descuento, plazo, fechas, ahora)
                | {"estatus": "LIQUIDADO", "fecha_liquidacion": fechas[-1]}
            )
            # Synthetic paid-off loans carry no movimiento detail (keeps 1M people fast).
            nominas.append([])
    if rng.random() < 0.55:  # a current loan with its payroll discounts so far
        transcurridas = rng.randint(0, 24)  # quincenas since its first discount
        plazos = _plazos_permitidos(tipo, sexo, cotizadas - transcurridas, mas_de=transcurridas)
        if plazos:
            plazo = rng.choice(plazos)
            inicio = cal.indice_hoy - transcurridas
            fechas = cal.fechas[inicio:inicio + plazo]
            omitidas = rng.randint(1, 3) if transcurridas > 3 and rng.random() < 0.03 else 0
            prestamos.append(
                _prestamo_sintetico(rng, f"SIN-{indice:08d}-V", descuento, plazo, fechas, ahora)
                | {"estatus": "VIGENTE", "fecha_liquidacion": None}
            )
            nominas.append(
                [(k, fechas[k - 1], descuento) for k in range(1, transcurridas - omitidas + 1)]
            )
    return persona, prestamos, nominas


_COLUMNAS_MOVIMIENTO = (
    "prestamo_id",
    "quincena",
    "fecha",
    "monto",
    "origen",
    "referencia",
    "creado_en",
)


def _insertar_con_ids(
    conn: Connection, modelo: type[Derechohabiente] | type[Prestamo], filas: list[dict[str, object]]
) -> Sequence[int]:
    """Bulk insert (one statement) that returns the new ids in the order of `filas`."""
    sentencia = insert(modelo).returning(modelo.id, sort_by_parameter_order=True)
    return conn.execute(sentencia, filas).scalars().all()


def _insertar_movimientos(conn: Connection, movimientos: Sequence[Mapping[str, object]]) -> None:
    """Core executemany in batches; on PostgreSQL, COPY (same transaction), which is
    several times faster for the millions of payroll rows of a 1M-people seed."""
    if conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg":
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        with (
            cursor,
            cursor.copy(f"COPY movimiento ({', '.join(_COLUMNAS_MOVIMIENTO)}) FROM STDIN") as copia,
        ):
            for fila in movimientos:
                copia.write_row(tuple(fila[c] for c in _COLUMNAS_MOVIMIENTO))
        return
    for desde in range(0, len(movimientos), 20_000):
        conn.execute(insert(Movimiento), movimientos[desde:desde + 20_000])


def contar_sinteticos(session: Session) -> int:
    sinteticos = Derechohabiente.email.like(f"%@{DOMINIO_SINTETICO}")
    consulta = select(func.count()).select_from(Derechohabiente).where(sinteticos)
    return int(session.scalar(consulta) or 0)


def sembrar_sinteticos(
    session: Session, *, count: int, hoy: date, ahora: datetime, progreso: bool = True
) -> int:
    """Add synthetic derechohabientes until there are `count`; returns how many were added."""
    existentes = contar_sinteticos(session)
    if existentes >= count:
        if progreso:
            print(f"sintéticos: ya hay {existentes} (se pidieron {count}); nada que agregar.")
        return 0
    claves = pimientas()
    cal = _Calendario.de(hoy)
    inicio_reloj = time.monotonic()
    agregados = 0
    conn = session.connection()
    for bloque in range(existentes // BLOQUE, (count + BLOQUE - 1) // BLOQUE):
        rng = random.Random(f"{SEMILLA}-{bloque}")
        personas, prestamos_de, nominas_de = [], [], []
        for indice in range(bloque * BLOQUE, min((bloque + 1) * BLOQUE, count)):
            persona, prestamos, nominas = _persona_sintetica(rng, indice, hoy, cal, claves, ahora)
            if indice < existentes:  # generated only to keep the random stream identical
                continue
            personas.append(persona)
            prestamos_de.append(prestamos)
            nominas_de.append(nominas)
        if not personas:
            continue
        ids = _insertar_con_ids(conn, Derechohabiente, personas)
        filas_prestamo, nominas_plano = [], []
        for dh_id, prestamos, nominas in zip(ids, prestamos_de, nominas_de, strict=True):
            for fila, nomina in zip(prestamos, nominas, strict=True):
                fila["derechohabiente_id"] = dh_id
                filas_prestamo.append(fila)
                nominas_plano.append(nomina)
        if filas_prestamo:
            prestamo_ids = _insertar_con_ids(conn, Prestamo, filas_prestamo)
            # Synthetic payroll rows carry no referencia (NULLs never clash in the unique index).
            movimientos = [
                {"prestamo_id": pid, "quincena": k, "fecha": f, "monto": m, "origen": "NOMINA",
                 "referencia": None, "creado_en": ahora}
                for pid, nomina in zip(prestamo_ids, nominas_plano, strict=True)
                for k, f, m in nomina
            ]
            _insertar_movimientos(conn, movimientos)
        session.commit()
        conn = session.connection()
        agregados += len(personas)
        if progreso:
            hechos = existentes + agregados
            print(
                f"\rsintéticos: {hechos:,}/{count:,} ({hechos * 100 // count} %) "
                f"en {time.monotonic() - inicio_reloj:.1f} s",
                end="",
                file=sys.stderr,
                flush=True,
            )
    if progreso:
        print(file=sys.stderr)
    return agregados
