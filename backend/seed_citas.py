"""Seed data for citas: the office catalogue and the demo personas' citas.

Called by the main seed script after it creates the personas. Both functions are
idempotent: running them again with the same `ahora` leaves the same state, and a
demo cita that went stale (its date passed the window it demonstrates) is
re-created so the demo keeps working on a later `make run`.

Demo citas (office CDMX-ZC):
- P1 (HEGG560427MVZRRL04): the "Listado de citas" of seed 003. `Z8YP3Q` booked at
  12:56:02 and cancelled at 15:49:45, then `CC3QZ8` booked at 15:53:49 (registered
  the same day as seeding if that time already passed, else the day before), both on
  the 5th business day after `ahora`: Z8YP3Q 13:15-13:30, CC3QZ8 13:30-13:45 (AGENDADA).
- P3 (PEGL890909MJCRMS08): `K7M2Q9` AGENDADA inside 36 h, so "cancel inside 36 h is
  refused" can be shown. It takes the next real business slot at least 2 h ahead if
  that is within 30 h; otherwise (evenings, weekends, holidays) the next quarter hour
  at least 2 h ahead, ignoring business hours, because it is demo data.
"""

from __future__ import annotations

import logging
import math
from datetime import datetime, time, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from backend.models import Cita, Derechohabiente, EventoCita, Notificacion, Oficina
from backend.models.cita import AGENDADA, CANCELADA
from backend.privacy import mascara_curp
from backend.services.disponibilidad import (
    DURACION,
    ZONA,
    inicios_del_dia,
    local,
    sumar_dias_habiles,
    utc,
)
from backend.services.oficinas import sembrar_catalogo

log = logging.getLogger("backend.seed_citas")

P1_CURP = "HEGG560427MVZRRL04"
P3_CURP = "PEGL890909MJCRMS08"
OFICINA_DEMO = "CDMX-ZC"
CLAVE_CANCELADA = "Z8YP3Q"
CLAVE_VIGENTE = "CC3QZ8"
CLAVE_36H = "K7M2Q9"


def sembrar_oficinas(session: Session) -> None:
    """Insert or update the Oficinas de Representación from backend/data/oficinas.json."""
    sembrar_catalogo(session)
    session.commit()


def _borrar(session: Session, clave: str) -> None:
    cita = session.scalar(select(Cita).where(Cita.clave == clave))
    if cita is None:
        return
    session.execute(delete(Notificacion).where(Notificacion.cita_id == cita.id))
    session.execute(delete(EventoCita).where(EventoCita.cita_id == cita.id))
    session.execute(delete(Cita).where(Cita.id == cita.id))
    session.flush()


def _lugar_libre(session: Session, oficina: Oficina, inicio: datetime) -> int | None:
    tomados = set(session.scalars(
        select(Cita.lugar).where(Cita.oficina_id == oficina.id, Cita.inicio == utc(inicio),
                                 Cita.lugar.is_not(None))
    ))
    return next((n for n in range(1, oficina.ventanillas + 1) if n not in tomados), None)


def _otra_agendada(session: Session, dh: Derechohabiente, clave_demo: str) -> bool:
    otra = session.scalar(select(Cita).where(Cita.derechohabiente_id == dh.id, Cita.estatus == AGENDADA,
                                             Cita.clave != clave_demo))
    if otra is not None:
        log.warning("%s ya tiene otra cita agendada (%s); no se siembra %s",
                    mascara_curp(dh.curp), otra.clave, clave_demo)
        return True
    return False


def _crear(session: Session, *, clave: str, dh: Derechohabiente, oficina: Oficina, inicio: datetime,
           eventos: list[tuple[str, datetime]]) -> None:
    estatus = eventos[-1][0]
    cita = Cita(clave=clave, derechohabiente_id=dh.id, oficina_id=oficina.id, inicio=utc(inicio),
                fin=utc(inicio + DURACION), estatus=estatus, canal_notificacion="WHATSAPP",
                creado_en=utc(eventos[0][1]),
                lugar=_lugar_libre(session, oficina, inicio) if estatus == AGENDADA else None,
                cancelada_en=utc(eventos[-1][1]) if estatus == CANCELADA else None)
    session.add(cita)
    session.flush()
    for est, cuando in eventos:
        session.add(EventoCita(cita_id=cita.id, estatus=est, registrado_en=utc(cuando), origen="web"))
    session.flush()


def _demo_p1(session: Session, dh: Derechohabiente, oficina: Oficina, ahora: datetime) -> None:
    hoy = local(ahora)
    dia_cita = sumar_dias_habiles(hoy.date(), 5)
    vigente = session.scalar(select(Cita).where(Cita.clave == CLAVE_VIGENTE))
    if (
        vigente is not None
        and vigente.derechohabiente_id == dh.id
        and vigente.estatus == AGENDADA
        and local(vigente.inicio).date() >= dia_cita
        and session.scalar(select(Cita.id).where(Cita.clave == CLAVE_CANCELADA)) is not None
    ):
        return  # demo still valid
    _borrar(session, CLAVE_VIGENTE)
    _borrar(session, CLAVE_CANCELADA)
    if _otra_agendada(session, dh, CLAVE_VIGENTE):
        return
    dia_registro = hoy.date() if hoy.time() >= time(15, 54) else hoy.date() - timedelta(days=1)

    def registro(h: int, m: int, s: int) -> datetime:
        return datetime.combine(dia_registro, time(h, m, s), tzinfo=ZONA)

    _crear(session, clave=CLAVE_CANCELADA, dh=dh, oficina=oficina,
           inicio=datetime.combine(dia_cita, time(13, 15), tzinfo=ZONA),
           eventos=[(AGENDADA, registro(12, 56, 2)), (CANCELADA, registro(15, 49, 45))])
    _crear(session, clave=CLAVE_VIGENTE, dh=dh, oficina=oficina,
           inicio=datetime.combine(dia_cita, time(13, 30), tzinfo=ZONA),
           eventos=[(AGENDADA, registro(15, 53, 49))])


def _inicio_36h(session: Session, oficina: Oficina, ahora: datetime) -> datetime:
    minimo = utc(ahora) + timedelta(hours=2)
    dia = local(minimo).date()
    for _ in range(3):
        for ini in inicios_del_dia(dia):
            if utc(ini) >= minimo and utc(ini) - utc(ahora) <= timedelta(hours=30) \
                    and _lugar_libre(session, oficina, ini) is not None:
                return ini
        dia += timedelta(days=1)
    # Demo fallback: the next quarter hour >= 2 h ahead, outside business hours if need be.
    cuarto = 15 * 60
    segundos = math.ceil(minimo.timestamp() / cuarto) * cuarto
    return datetime.fromtimestamp(segundos, ZONA)


def _demo_p3(session: Session, dh: Derechohabiente, oficina: Oficina, ahora: datetime) -> None:
    cita = session.scalar(select(Cita).where(Cita.clave == CLAVE_36H))
    if (
        cita is not None
        and cita.derechohabiente_id == dh.id
        and cita.estatus == AGENDADA
        and utc(ahora) < utc(cita.inicio) < utc(ahora) + timedelta(hours=36)
    ):
        return
    _borrar(session, CLAVE_36H)
    if _otra_agendada(session, dh, CLAVE_36H):
        return
    inicio = _inicio_36h(session, oficina, ahora)
    _crear(session, clave=CLAVE_36H, dh=dh, oficina=oficina, inicio=inicio,
           eventos=[(AGENDADA, utc(ahora) - timedelta(days=2, hours=3, minutes=17, seconds=29))])


def sembrar_citas_demo(session: Session, *, ahora: datetime) -> None:
    """Create (or restore) the demo citas of P1 and P3. Needs the personas to exist."""
    oficina = session.scalar(select(Oficina).where(Oficina.clave == OFICINA_DEMO))
    if oficina is None:
        sembrar_oficinas(session)
        oficina = session.scalar(select(Oficina).where(Oficina.clave == OFICINA_DEMO))
    assert oficina is not None
    personas = {dh.curp: dh for dh in session.scalars(
        select(Derechohabiente).where(Derechohabiente.curp.in_([P1_CURP, P3_CURP])))}
    for curp, sembrar in ((P1_CURP, _demo_p1), (P3_CURP, _demo_p3)):
        dh = personas.get(curp)
        if dh is None:
            log.warning("no existe %s; siembre primero las personas demo", mascara_curp(curp))
            continue
        sembrar(session, dh, oficina, ahora)
    session.commit()
