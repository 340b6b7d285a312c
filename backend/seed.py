"""`python -m backend.seed [--count N] [--database-url URL]`: demo and synthetic data.

1. Runs the Alembic migrations.
2. The three demo personas of DESIGN.md (exact CURPs, birth dates, NIPs, loans).
3. Offices and the demo citas (backend.seed_citas, owned by the citas component).
4. N synthetic derechohabientes with valid CURPs, loans and payroll movimientos,
   deterministic (seeded random) and bulk-inserted, so 1,000,000 is practical.

Idempotent: personas are found by CURP and their loans by folio; vigente demo
loans get the payroll movimientos of the quincenas that passed since the last
run (P2 keeps its last three quincenas unpaid); synthetic people are counted and
only the missing ones are added.
"""

from __future__ import annotations

import argparse
import importlib
import random
import secrets
import sys
import tempfile
import time
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, delete, func, insert, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session
from stdnum.mx import curp as stdnum_curp

from backend.models import Derechohabiente, IntentoIdentidad, Movimiento, Prestamo
from backend.privacy import mascara_curp
from backend.services.finanzas import (
    Pago,
    fechas_quincena,
    pago_periodico,
    quincena_en_o_despues,
    quincena_siguiente,
    redondear,
    saldo_deudor,
    tasa_quincenal,
    valor_presente,
)
from backend.services.identidad import hash_nip
from backend.services.nip_hash import Pimientas, pimientas, verificar_nip
from backend.services.nip_hash import hash_nip as claves_hash
from backend.services.simulacion import plazo_maximo_permitido

DOMINIO_SINTETICO = "sintetico.example"
SEMILLA = "capp-sintetico-v1"
BLOQUE = 10_000

# --- CURP construction -------------------------------------------------------

# Valid two-letter state codes of the CURP (without NE, born abroad).
ESTADOS = ["AS", "BC", "BS", "CC", "CL", "CM", "CS", "CH", "DF", "DG", "GT", "GR", "HG", "JC", "MC", "MN", "MS", "NT", "NL", "OC", "PL", "QT", "QR", "SP", "SL", "SR", "TC", "TS", "TL", "VZ", "YN", "ZS"]
# RENAPO replaces the second letter with X when the first four spell a bad word.
_ALTISONANTES = stdnum_curp._name_blacklist  # noqa: SLF001 - the list RENAPO publishes, kept by stdnum


def _ascii(texto: str) -> str:
    sin_acentos = "".join(c for c in unicodedata.normalize("NFKD", texto.upper().replace("Ñ", "X"))
                          if not unicodedata.combining(c))
    return "".join(c for c in sin_acentos if "A" <= c <= "Z")


def _primera_vocal_interna(palabra: str) -> str:
    return next((c for c in palabra[1:] if c in "AEIOU"), "X")


def _primera_consonante_interna(palabra: str) -> str:
    return next((c for c in palabra[1:] if c not in "AEIOU"), "X")


def construir_curp(
    *, nombre: str, primer_apellido: str, segundo_apellido: str | None, fecha_nacimiento: date,
    sexo: str, estado: str, homoclave: str,
) -> str:
    """The CURP as RENAPO derives it from the name (simple names only); the
    check digit comes from python-stdnum."""
    ap1, ap2, nom = _ascii(primer_apellido), _ascii(segundo_apellido or "X"), _ascii(nombre)
    letras = ap1[0] + _primera_vocal_interna(ap1) + ap2[0] + nom[0]
    if letras in _ALTISONANTES:
        letras = letras[0] + "X" + letras[2:]
    base = (
        letras + fecha_nacimiento.strftime("%y%m%d") + sexo + estado
        + _primera_consonante_interna(ap1) + _primera_consonante_interna(ap2)
        + _primera_consonante_interna(nom) + homoclave
    )
    return base + stdnum_curp.calc_check_digit(base)


# --- loans ---------------------------------------------------------------------

@dataclass
class PlanPrestamo:
    folio: str
    producto: str
    monto: Decimal
    plazo_quincenas: int
    tasa_anual: Decimal
    descuento_quincenal: Decimal
    fecha_otorgamiento: date
    fecha_primer_descuento: date
    estatus: str
    fecha_liquidacion: date | None = None
    # (quincena, fecha, monto) of the payroll discounts applied
    nomina: list[tuple[int, date, Decimal]] = field(default_factory=list)


def plan_prestamo(
    *, folio: str, producto: str, tasa_anual: str, plazo: int, fecha_otorgamiento: date, hoy: date,
    descuento: Decimal | None = None, monto: Decimal | None = None, omitir_ultimas: int = 0,
) -> PlanPrestamo:
    """A loan with the real maths: give the descuento (monto = present value of
    the discounts, as the simulation does) or the monto (descuento = annuity).
    Payroll discounts are applied on every scheduled quincena before `hoy`,
    except the last `omitir_ultimas`; the final one pays off the exact saldo."""
    tasa = Decimal(tasa_anual)
    i = tasa_quincenal(tasa)
    if descuento is not None:
        monto = redondear(valor_presente(descuento, i, plazo))
    elif monto is not None:
        descuento = redondear(pago_periodico(monto, i, plazo))
    else:  # pragma: no cover - programming error
        raise ValueError("descuento o monto")
    primer = quincena_siguiente(quincena_siguiente(fecha_otorgamiento))
    fechas = fechas_quincena(primer, plazo)
    vencidas = [(k, f) for k, f in enumerate(fechas, start=1) if f < hoy]
    if omitir_ultimas:
        vencidas = vencidas[:-omitir_ultimas]
    nomina: list[tuple[int, date, Decimal]] = []
    pagos: list[Pago] = []
    for k, f in vencidas:
        importe = descuento
        if k == plazo:
            importe = saldo_deudor(monto=monto, tasa_anual=tasa, fechas_programadas=fechas, pagos=pagos, al=f)
        nomina.append((k, f, importe))
        pagos.append(Pago(f, importe))
    liquidado = bool(nomina) and nomina[-1][0] == plazo
    return PlanPrestamo(
        folio=folio, producto=producto, monto=monto, plazo_quincenas=plazo, tasa_anual=tasa,
        descuento_quincenal=descuento, fecha_otorgamiento=fecha_otorgamiento,
        fecha_primer_descuento=primer, estatus="LIQUIDADO" if liquidado else "VIGENTE",
        fecha_liquidacion=fechas[-1] if liquidado else None, nomina=nomina,
    )


def referencia_nomina(folio: str, quincena: int) -> str:
    return f"NOM-{folio}-Q{quincena:02d}"


# --- demo personas (DESIGN.md) ------------------------------------------------------

@dataclass(frozen=True)
class Persona:
    clave: str
    curp: str
    nip: str
    nombre: str
    primer_apellido: str
    segundo_apellido: str
    sexo: str
    fecha_nacimiento: date
    estado: str
    tipo: str
    anios_cotizacion: int
    sueldo_base_mensual: Decimal
    dependencia: str
    telefono: str
    email: str


PERSONAS: tuple[Persona, ...] = (
    Persona("P1", "HEGG560427MVZRRL04", "4821", "Gloria", "Hernández", "García", "M", date(1956, 4, 27), "VZ",
            "pensionado", 30, Decimal("16029.11"), "ISSSTE (nómina de pensionados)",
            "+5212295550142", "gloria.hernandez@example.com"),
    Persona("P2", "BEML920313HMCLNS09", "7315", "Luis", "Beltrán", "Montes", "H", date(1992, 3, 13), "MC",
            "asegurado", 8, Decimal("12690.80"), "Servicios Educativos Integrados al Estado de México",
            "+5215555550173", "luis.beltran@example.com"),
    Persona("P3", "PEGL890909MJCRMS08", "5502", "Luisa", "Pérez", "Gómez", "M", date(1989, 9, 9), "JC",
            "asegurado", 12, Decimal("16029.11"), "Secretaría de Salud",
            "+5213355550198", "luisa.perez@example.com"),
)
PERSONA = {p.clave: p for p in PERSONAS}


def _descuento_complementario(sueldo_mensual: Decimal) -> Decimal:
    return redondear(sueldo_mensual / 2 * Decimal("0.20"))


def planes_personas(hoy: date) -> dict[str, list[PlanPrestamo]]:
    """Loans of the demo personas, dated relative to `hoy` (first seeding day)."""
    p1, p2 = PERSONA["P1"], PERSONA["P2"]
    return {
        "P1": [
            plan_prestamo(folio="CAPP-00418832", producto="ordinario", tasa_anual="0.11", plazo=48,
                          monto=Decimal("30000.00"), fecha_otorgamiento=hoy - timedelta(days=8 * 365 + 40), hoy=hoy),
            plan_prestamo(folio="CAPP-00713094", producto="credito_complementario", tasa_anual="0.16", plazo=72,
                          descuento=_descuento_complementario(p1.sueldo_base_mensual),
                          fecha_otorgamiento=hoy - timedelta(days=5 * 365 + 20), hoy=hoy),
            plan_prestamo(folio="CAPP-01207551", producto="credito_complementario", tasa_anual="0.16", plazo=72,
                          descuento=_descuento_complementario(p1.sueldo_base_mensual),
                          fecha_otorgamiento=hoy - timedelta(days=300), hoy=hoy),
        ],
        # The dependencia stopped discounting: the last three quincenas before today are unpaid.
        "P2": [
            plan_prestamo(folio="CAPP-01183460", producto="credito_complementario", tasa_anual="0.16", plazo=36,
                          descuento=_descuento_complementario(p2.sueldo_base_mensual),
                          fecha_otorgamiento=hoy - timedelta(days=230), hoy=hoy, omitir_ultimas=3),
        ],
        "P3": [],
    }


OMITIR_ULTIMAS = {"P2": 3}


def sembrar_personas(session: Session, *, hoy: date, ahora: datetime) -> None:
    """Create or refresh the demo personas (NIP restored, lock cleared) and their loans."""
    planes = planes_personas(hoy)
    for persona in PERSONAS:
        dh = session.scalars(select(Derechohabiente).where(Derechohabiente.curp == persona.curp)).one_or_none()
        if dh is None:
            dh = Derechohabiente(curp=persona.curp, nip_hash=hash_nip(persona.nip, persona.curp), creado_en=ahora)
            session.add(dh)
        elif not _nip_vigente(dh.nip_hash, persona.nip, persona.curp):
            dh.nip_hash = hash_nip(persona.nip, persona.curp)
        dh.nombre, dh.primer_apellido, dh.segundo_apellido = persona.nombre, persona.primer_apellido, persona.segundo_apellido
        dh.sexo, dh.fecha_nacimiento, dh.tipo = persona.sexo, persona.fecha_nacimiento, persona.tipo
        dh.anios_cotizacion, dh.sueldo_base_mensual = persona.anios_cotizacion, persona.sueldo_base_mensual
        dh.dependencia, dh.telefono, dh.email = persona.dependencia, persona.telefono, persona.email
        session.execute(delete(IntentoIdentidad).where(IntentoIdentidad.curp == persona.curp))  # unlock
        session.flush()
        for plan in planes[persona.clave]:
            prestamo = session.scalars(select(Prestamo).where(Prestamo.folio == plan.folio)).one_or_none()
            if prestamo is None:
                prestamo = Prestamo(
                    folio=plan.folio, derechohabiente_id=dh.id, producto=plan.producto, monto=plan.monto,
                    plazo_quincenas=plan.plazo_quincenas, tasa_anual=plan.tasa_anual,
                    descuento_quincenal=plan.descuento_quincenal, fecha_otorgamiento=plan.fecha_otorgamiento,
                    fecha_primer_descuento=plan.fecha_primer_descuento, estatus=plan.estatus,
                    fecha_liquidacion=plan.fecha_liquidacion, creado_en=ahora,
                )
                session.add(prestamo)
                session.flush()
                session.add_all(
                    Movimiento(prestamo_id=prestamo.id, quincena=k, fecha=f, monto=importe, origen="NOMINA",
                               referencia=referencia_nomina(plan.folio, k), creado_en=ahora)
                    for k, f, importe in plan.nomina
                )
                session.flush()
            if prestamo.estatus == "VIGENTE":
                _completar_nomina(session, prestamo=prestamo, hoy=hoy, omitir_ultimas=OMITIR_ULTIMAS.get(persona.clave, 0),
                                  ahora=ahora)
    session.commit()


def _nip_vigente(nip_hash: str | None, nip: str, curp: str) -> bool:
    """The stored hash verifies under the current pepper and needs no rewrite."""
    verificacion = verificar_nip(nip_hash, curp, nip)
    return verificacion.correcto and not verificacion.rehacer


def _completar_nomina(session: Session, *, prestamo: Prestamo, hoy: date, omitir_ultimas: int, ahora: datetime) -> None:
    """Add the payroll discount of every past quincena not yet covered (idempotent)."""
    cubiertas = set(session.scalars(
        select(Movimiento.quincena).where(Movimiento.prestamo_id == prestamo.id, Movimiento.quincena.is_not(None))
    ))
    fechas = fechas_quincena(prestamo.fecha_primer_descuento, prestamo.plazo_quincenas)
    vencidas = [(k, f) for k, f in enumerate(fechas, start=1) if f < hoy]
    if omitir_ultimas:
        vencidas = vencidas[:-omitir_ultimas]
    faltantes = [(k, f) for k, f in vencidas if k not in cubiertas]
    if not faltantes:
        return
    tasa, monto = Decimal(prestamo.tasa_anual), Decimal(prestamo.monto)
    pagos = [Pago(f, Decimal(m)) for f, m in session.execute(
        select(Movimiento.fecha, Movimiento.monto).where(Movimiento.prestamo_id == prestamo.id)
    )]
    for k, f in faltantes:
        importe = Decimal(prestamo.descuento_quincenal)
        if k == prestamo.plazo_quincenas:
            importe = saldo_deudor(monto=monto, tasa_anual=tasa, fechas_programadas=fechas, pagos=pagos, al=f)
            prestamo.estatus, prestamo.fecha_liquidacion = "LIQUIDADO", f
        session.add(Movimiento(prestamo_id=prestamo.id, quincena=k, fecha=f, monto=importe, origen="NOMINA",
                               referencia=referencia_nomina(prestamo.folio, k), creado_en=ahora))
        pagos.append(Pago(f, importe))
    session.flush()


# --- citas (owned by the citas component) -------------------------------------------

def sembrar_citas(session: Session, *, ahora: datetime) -> None:
    try:
        seed_citas = importlib.import_module("backend.seed_citas")
    except ModuleNotFoundError as exc:
        if exc.name != "backend.seed_citas":
            raise
        print("nota: backend/seed_citas.py aún no existe; se omiten oficinas y citas de demostración.")
        return
    seed_citas.sembrar_oficinas(session)
    seed_citas.sembrar_citas_demo(session, ahora=ahora)
    session.commit()


# --- synthetic derechohabientes ---------------------------------------------------

NOMBRES_H = ["José", "Luis", "Juan", "Miguel", "Carlos", "Jorge", "Alejandro", "Fernando", "Roberto", "Ricardo", "Eduardo", "Francisco", "Javier", "Manuel", "Antonio", "Sergio", "Raúl", "Arturo", "Daniel", "Héctor", "Mario", "Pedro", "Rafael", "Enrique", "Óscar", "Gerardo", "Víctor", "Alfredo", "Martín", "Andrés", "Rubén", "Ramón", "Salvador", "Ignacio", "Armando", "Gabriel", "Hugo", "Alberto", "Guillermo"]
NOMBRES_M = ["María", "Guadalupe", "Juana", "Margarita", "Verónica", "Leticia", "Rosa", "Patricia", "Elizabeth", "Alejandra", "Gabriela", "Adriana", "Laura", "Silvia", "Claudia", "Martha", "Teresa", "Araceli", "Norma", "Lucía", "Sandra", "Mónica", "Ana", "Yolanda", "Gloria", "Beatriz", "Carmen", "Irma", "Rocío", "Angélica", "Susana", "Alicia", "Josefina", "Luisa", "Esther", "Isabel", "Fernanda", "Daniela"]
APELLIDOS = ["Hernández", "García", "Martínez", "López", "González", "Rodríguez", "Pérez", "Sánchez", "Ramírez", "Cruz", "Flores", "Gómez", "Morales", "Vázquez", "Reyes", "Jiménez", "Torres", "Díaz", "Gutiérrez", "Ruiz", "Mendoza", "Aguilar", "Ortiz", "Moreno", "Castillo", "Romero", "Álvarez", "Méndez", "Chávez", "Rivera", "Juárez", "Ramos", "Domínguez", "Herrera", "Medina", "Castro", "Vargas", "Guzmán", "Velázquez", "Muñoz", "Rojas", "Contreras", "Salazar", "Luna", "Ortega", "Santiago", "Guerrero", "Estrada", "Bautista", "Cortés", "Soto", "Alvarado", "Espinoza", "Lara", "Ávila", "Ríos", "Cervantes", "Silva", "Delgado", "Vega", "Márquez", "Sandoval", "Fernández", "León", "Carrillo", "Mejía", "Solís", "Núñez", "Rosas", "Valdez", "Ibarra", "Campos", "Maldonado", "Navarro", "Acosta"]
DEPENDENCIAS = (
    "Secretaría de Educación Pública", "Secretaría de Salud", "Secretaría de Hacienda y Crédito Público",
    "Secretaría de Bienestar", "Secretaría de Agricultura y Desarrollo Rural", "Secretaría de Gobernación",
    "Secretaría de Economía", "Secretaría de Infraestructura, Comunicaciones y Transportes",
    "Instituto Politécnico Nacional", "Universidad Nacional Autónoma de México", "ISSSTE",
    "Servicio de Administración Tributaria", "Comisión Nacional del Agua", "Instituto Nacional Electoral",
)
LADAS = ("55", "33", "81", "222", "229", "442", "477", "614", "662", "664", "686", "722", "744", "871", "951", "999")
# Monthly base salaries of the 2025 table (seed 004).
SUELDOS = tuple(Decimal(s) for s in ["5186.10", "5512.17", "7281.93", "8833.04", "9840.70", "10231.13", "12690.80", "16029.11", "20761.58", "23134.41", "24211.23", "26306.42", "30051.45", "36920.11", "37825.38", "41499.67", "50006.46", "51861.00"])

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


def _plazos_permitidos(tipo: str, sexo: str, quincenas_cotizadas: int, *, mas_de: int = 0) -> tuple[int, ...]:
    """The usual plazos the rules allow (cotización as it was when the loan started),
    or the longest allowed one when it is shorter than all of them; all > `mas_de`."""
    maximo = _plazo_maximo_sintetico(tipo, sexo, quincenas_cotizadas)
    plazos = tuple(p for p in PLAZOS_SINTETICOS if mas_de < p <= maximo)
    return plazos or ((maximo,) if maximo > mas_de else ())


def _monto_por_descuento(descuento: Decimal, tasa: str, plazo: int) -> Decimal:
    factor = _FACTORES.get((tasa, plazo))
    if factor is None:
        factor = _FACTORES[(tasa, plazo)] = valor_presente(Decimal(1), tasa_quincenal(Decimal(tasa)), plazo)
    return redondear(descuento * factor)


def _persona_sintetica(rng: random.Random, indice: int, hoy: date, cal: _Calendario, claves: Pimientas,
                       ahora: datetime) -> tuple[dict[str, object], list[dict[str, object]], list[list[tuple[int, date, Decimal]]]]:
    nacimiento, sexo, estado, homoclave = _identidad_sintetica(indice)
    nombre = rng.choice(NOMBRES_H if sexo == "H" else NOMBRES_M)
    ap1, ap2 = rng.choice(APELLIDOS), rng.choice(APELLIDOS)
    curp = construir_curp(nombre=nombre, primer_apellido=ap1, segundo_apellido=ap2, fecha_nacimiento=nacimiento,
                          sexo=sexo, estado=estado, homoclave=homoclave)
    edad = hoy.year - nacimiento.year
    pensionado = edad >= 60 and rng.random() < 0.8
    anios = rng.randint(28, 35) if pensionado else rng.randint(1, max(1, min(edad - 19, 30)))
    sueldo = rng.choice(SUELDOS)
    lada = rng.choice(LADAS)
    persona = {
        "curp": curp, "nombre": nombre, "primer_apellido": ap1, "segundo_apellido": ap2, "sexo": sexo,
        "fecha_nacimiento": nacimiento, "tipo": "pensionado" if pensionado else "asegurado",
        "dependencia": "ISSSTE (nómina de pensionados)" if pensionado else rng.choice(DEPENDENCIAS),
        "sueldo_base_mensual": sueldo, "anios_cotizacion": anios,
        "telefono": f"+521{lada}{rng.randrange(10 ** (10 - len(lada))):0{10 - len(lada)}d}",
        "email": f"{_ascii(nombre).lower()}.{_ascii(ap1).lower()}.{indice}@{DOMINIO_SINTETICO}",
        # A random NIP nobody knows (drawn outside `rng`, which must stay reproducible):
        # these people cannot be logged into. One HMAC each, about a microsecond.
        "nip_hash": claves_hash(curp, f"{secrets.randbelow(10_000):04d}", claves), "creado_en": ahora,
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
            prestamos.append({
                "folio": f"SIN-{indice:08d}-H", "producto": PRODUCTO_SINTETICO,
                "monto": _monto_por_descuento(descuento, "0.16", plazo), "plazo_quincenas": plazo,
                "tasa_anual": Decimal("0.16"), "descuento_quincenal": descuento,
                "fecha_otorgamiento": fechas[0] - timedelta(days=rng.randint(16, 40)),
                "fecha_primer_descuento": fechas[0], "estatus": "LIQUIDADO", "fecha_liquidacion": fechas[-1],
                "creado_en": ahora,
            })
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
            prestamos.append({
                "folio": f"SIN-{indice:08d}-V", "producto": PRODUCTO_SINTETICO,
                "monto": _monto_por_descuento(descuento, "0.16", plazo), "plazo_quincenas": plazo,
                "tasa_anual": Decimal("0.16"), "descuento_quincenal": descuento,
                "fecha_otorgamiento": fechas[0] - timedelta(days=rng.randint(16, 40)),
                "fecha_primer_descuento": fechas[0], "estatus": "VIGENTE", "fecha_liquidacion": None,
                "creado_en": ahora,
            })
            nominas.append([(k, fechas[k - 1], descuento) for k in range(1, transcurridas - omitidas + 1)])
    return persona, prestamos, nominas


_COLUMNAS_MOVIMIENTO = ("prestamo_id", "quincena", "fecha", "monto", "origen", "referencia", "creado_en")


def _insertar_movimientos(conn: Connection, movimientos: Sequence[Mapping[str, object]]) -> None:
    """Core executemany in batches; on PostgreSQL, COPY (same transaction), which is
    several times faster for the millions of payroll rows of a 1M-people seed."""
    if conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg":
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        with cursor, cursor.copy(f"COPY movimiento ({', '.join(_COLUMNAS_MOVIMIENTO)}) FROM STDIN") as copia:
            for fila in movimientos:
                copia.write_row(tuple(fila[c] for c in _COLUMNAS_MOVIMIENTO))
        return
    for desde in range(0, len(movimientos), 20_000):
        conn.execute(insert(Movimiento), movimientos[desde:desde + 20_000])


def contar_sinteticos(session: Session) -> int:
    return int(session.scalar(
        select(func.count()).select_from(Derechohabiente).where(Derechohabiente.email.like(f"%@{DOMINIO_SINTETICO}"))
    ) or 0)


def sembrar_sinteticos(session: Session, *, count: int, hoy: date, ahora: datetime, progreso: bool = True) -> int:
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
        ids = conn.execute(
            insert(Derechohabiente).returning(Derechohabiente.id, sort_by_parameter_order=True), personas
        ).scalars().all()
        filas_prestamo, nominas_plano = [], []
        for dh_id, prestamos, nominas in zip(ids, prestamos_de, nominas_de, strict=True):
            for fila, nomina in zip(prestamos, nominas, strict=True):
                fila["derechohabiente_id"] = dh_id
                filas_prestamo.append(fila)
                nominas_plano.append(nomina)
        if filas_prestamo:
            prestamo_ids = conn.execute(
                insert(Prestamo).returning(Prestamo.id, sort_by_parameter_order=True), filas_prestamo
            ).scalars().all()
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
            print(f"\rsintéticos: {hechos:,}/{count:,} ({hechos * 100 // count} %) "
                  f"en {time.monotonic() - inicio_reloj:.1f} s", end="", file=sys.stderr, flush=True)
    if progreso:
        print(file=sys.stderr)
    return agregados


# --- entry point -------------------------------------------------------------------------

def sembrar(session: Session, *, count: int, ahora: datetime | None = None, zona: str = "America/Mexico_City",
            progreso: bool = False) -> None:
    ahora = ahora or datetime.now(UTC)
    hoy = ahora.astimezone(ZoneInfo(zona)).date()
    sembrar_personas(session, hoy=hoy, ahora=ahora)
    sembrar_citas(session, ahora=ahora)
    sembrar_sinteticos(session, count=count, hoy=hoy, ahora=ahora, progreso=progreso)


RAIZ = Path(__file__).resolve().parent.parent


def base_desechable(url: str) -> bool:
    """True for databases the demo personas may be reset on without --forzar: the
    local default (sqlite:///var/capp.db) and any SQLite file under the repository's
    var/ or the system's temporary folder (tests, the e2e stack, benchmarks)."""
    try:
        u = make_url(url)
    except ArgumentError:
        return False
    if u.get_backend_name() != "sqlite":
        return False
    if not u.database or u.database == ":memory:":
        return True
    ruta = Path(u.database)
    ruta = (ruta if ruta.is_absolute() else Path.cwd() / ruta).resolve()
    return any(ruta.is_relative_to(Path(carpeta).resolve())
               for carpeta in (RAIZ / "var", Path.cwd() / "var", tempfile.gettempdir()))


def main(argv: Sequence[str] | None = None) -> int:
    from backend.db import make_engine, make_sessionmaker
    from backend.migrate import upgrade
    from backend.settings import get_settings

    parser = argparse.ArgumentParser(prog="python -m backend.seed", description="Siembra datos de demostración.")
    parser.add_argument("--count", type=int, default=1000, help="derechohabientes sintéticos (omisión: 1000)")
    parser.add_argument("--database-url", default=None, help="omisión: DATABASE_URL")
    parser.add_argument("--forzar", "--force", action="store_true",
                        help="siembra aunque la base no sea la local de desarrollo (restablece NIP y "
                             "bloqueos de las personas de demostración)")
    args = parser.parse_args(argv)
    if args.count < 0:
        parser.error("--count no puede ser negativo")
    settings = get_settings()
    url = args.database_url or settings.database_url
    if not args.forzar and not base_desechable(url):
        print("No siembro: la base de datos no es la local de desarrollo (sqlite:///var/capp.db) y la semilla "
              "restablece las personas de demostración (NIP conocidos). Si de verdad es una base de pruebas, "
              "repita con --forzar.", file=sys.stderr)
        return 2
    upgrade(url)
    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as session:
            inicio = time.monotonic()
            sembrar(session, count=args.count, zona=settings.timezone, progreso=True)
            print(f"Semilla lista en {time.monotonic() - inicio:.1f} s. Personas de demostración "
                  "(sus CURP completas y NIP están en README.md):")
            for p in PERSONAS:  # never print a NIP, not even a demo one
                print(f"  {p.clave} {mascara_curp(p.curp)} - {p.nombre} {p.primer_apellido} {p.segundo_apellido}")
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
