"""The three demo personas of DESIGN.md (backend/data/personas.json) and their loans."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from backend.models import Derechohabiente, IntentoIdentidad, Movimiento, Prestamo
from backend.seed.prestamos import PlanPrestamo, plan_prestamo, referencia_nomina
from backend.services.finanzas import Pago, fechas_quincena, redondear, saldo_deudor
from backend.services.identidad import hash_nip
from backend.services.nip_hash import verificar_nip

ARCHIVO = Path(__file__).resolve().parent.parent / "data" / "personas.json"


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
    prestamos: tuple[dict[str, Any], ...] = ()


def _cargar() -> tuple[Persona, ...]:
    datos = json.loads(ARCHIVO.read_text(encoding="utf-8"))
    return tuple(
        Persona(**{**p, "fecha_nacimiento": date.fromisoformat(p["fecha_nacimiento"]),
                   "sueldo_base_mensual": Decimal(p["sueldo_base_mensual"]),
                   "prestamos": tuple(p["prestamos"])})
        for p in datos["personas"]
    )


PERSONAS: tuple[Persona, ...] = _cargar()
PERSONA = {p.clave: p for p in PERSONAS}


def _descuento_complementario(sueldo_mensual: Decimal) -> Decimal:
    return redondear(sueldo_mensual / 2 * Decimal("0.20"))


def _plan(persona: Persona, datos: dict[str, Any], hoy: date) -> PlanPrestamo:
    descuento = monto = None
    if datos.get("descuento") == "complementario":
        descuento = _descuento_complementario(persona.sueldo_base_mensual)
    else:
        monto = Decimal(datos["monto"])
    return plan_prestamo(
        folio=datos["folio"],
        producto=datos["producto"],
        tasa_anual=datos["tasa_anual"],
        plazo=datos["plazo"],
        descuento=descuento,
        monto=monto,
        fecha_otorgamiento=hoy - timedelta(days=datos["otorgado_hace_dias"]),
        hoy=hoy,
        omitir_ultimas=datos.get("omitir_ultimas", 0),
    )


def planes_personas(hoy: date) -> dict[str, list[PlanPrestamo]]:
    """Loans of the demo personas, dated relative to `hoy` (first seeding day)."""
    return {p.clave: [_plan(p, d, hoy) for d in p.prestamos] for p in PERSONAS}


def _omitir_ultimas(persona: Persona, folio: str) -> int:
    return next((d.get("omitir_ultimas", 0) for d in persona.prestamos if d["folio"] == folio), 0)


def sembrar_personas(session: Session, *, hoy: date, ahora: datetime) -> None:
    """Create or refresh the demo personas (NIP restored, lock cleared) and their loans."""
    planes = planes_personas(hoy)
    for persona in PERSONAS:
        dh = session.scalars(
            select(Derechohabiente).where(Derechohabiente.curp == persona.curp)
        ).one_or_none()
        if dh is None:
            dh = Derechohabiente(
                curp=persona.curp, nip_hash=hash_nip(persona.nip, persona.curp), creado_en=ahora
            )
            session.add(dh)
        elif not _nip_vigente(dh.nip_hash, persona.nip, persona.curp):
            dh.nip_hash = hash_nip(persona.nip, persona.curp)
        dh.nombre, dh.primer_apellido, dh.segundo_apellido = (
            persona.nombre,
            persona.primer_apellido,
            persona.segundo_apellido,
        )
        dh.sexo, dh.fecha_nacimiento, dh.tipo = persona.sexo, persona.fecha_nacimiento, persona.tipo
        dh.anios_cotizacion, dh.sueldo_base_mensual = (
            persona.anios_cotizacion,
            persona.sueldo_base_mensual,
        )
        dh.dependencia, dh.telefono, dh.email = persona.dependencia, persona.telefono, persona.email
        session.execute(
            delete(IntentoIdentidad).where(IntentoIdentidad.curp == persona.curp)
        )  # unlock
        session.flush()
        for plan in planes[persona.clave]:
            prestamo = session.scalars(
                select(Prestamo).where(Prestamo.folio == plan.folio)
            ).one_or_none()
            if prestamo is None:
                prestamo = Prestamo(
                    folio=plan.folio,
                    derechohabiente_id=dh.id,
                    producto=plan.producto,
                    monto=plan.monto,
                    plazo_quincenas=plan.plazo_quincenas,
                    tasa_anual=plan.tasa_anual,
                    descuento_quincenal=plan.descuento_quincenal,
                    fecha_otorgamiento=plan.fecha_otorgamiento,
                    fecha_primer_descuento=plan.fecha_primer_descuento,
                    estatus=plan.estatus,
                    fecha_liquidacion=plan.fecha_liquidacion,
                    creado_en=ahora,
                )
                session.add(prestamo)
                session.flush()
                session.add_all(
                    _descuento_de_nomina(prestamo, k, f, importe, ahora)
                    for k, f, importe in plan.nomina
                )
                session.flush()
            if prestamo.estatus == "VIGENTE":
                _completar_nomina(session, prestamo=prestamo, hoy=hoy, ahora=ahora,
                                  omitir_ultimas=_omitir_ultimas(persona, prestamo.folio))
    session.commit()


def _descuento_de_nomina(
    prestamo: Prestamo, quincena: int, fecha: date, importe: Decimal, ahora: datetime
) -> Movimiento:
    """The payroll discount of one quincena of a seeded loan."""
    return Movimiento(
        prestamo_id=prestamo.id,
        quincena=quincena,
        fecha=fecha,
        monto=importe,
        origen="NOMINA",
        referencia=referencia_nomina(prestamo.folio, quincena),
        creado_en=ahora,
    )


def _nip_vigente(nip_hash: str | None, nip: str, curp: str) -> bool:
    """The stored hash verifies under the current pepper and needs no rewrite."""
    verificacion = verificar_nip(nip_hash, curp, nip)
    return verificacion.correcto and not verificacion.rehacer


def _completar_nomina(
    session: Session, *, prestamo: Prestamo, hoy: date, omitir_ultimas: int, ahora: datetime
) -> None:
    """Add the payroll discount of every past quincena not yet covered (idempotent)."""
    cubiertas = set(
        session.scalars(
            select(Movimiento.quincena).where(
                Movimiento.prestamo_id == prestamo.id, Movimiento.quincena.is_not(None)
            )
        )
    )
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
            importe = saldo_deudor(
                monto=monto, tasa_anual=tasa, fechas_programadas=fechas, pagos=pagos, al=f
            )
            prestamo.estatus, prestamo.fecha_liquidacion = "LIQUIDADO", f
        session.add(_descuento_de_nomina(prestamo, k, f, importe, ahora))
        pagos.append(Pago(f, importe))
    session.flush()
