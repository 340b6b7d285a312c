"""Seed data for citas: the office catalogue and the demo personas' citas.

Called by the main seed script after it creates the personas. Idempotent, and
kind to demo activity: a demo cita that still satisfies DESIGN.md is left
exactly as it is (with whatever notifications it has); only one that no longer
does (its date moved out of the window it demonstrates, or it was cancelled) is
rebuilt. If the persona has booked another cita of their own meanwhile, nothing
of theirs is touched (one AGENDADA cita per person).

Demo citas (office CDMX-ZC):
- P1 (HEGG560427MVZRRL04): the "Listado de citas" of seed 003. `Z8YP3Q` booked at
  12:56:02 and cancelled at 15:49:45, then `CC3QZ8` booked at 15:53:49 (registered
  the same day as seeding if that time already passed, else the day before).
  CC3QZ8 is AGENDADA on the 5th business day after seeding or later: kept while
  it stays at least 5 business days ahead; built at 13:30-13:45 of the 5th
  business day (or the next slot with a free place), Z8YP3Q 15 minutes earlier.
- P3 (PEGL890909MJCRMS08): `K7M2Q9` AGENDADA inside 36 h, so "cancel inside 36 h is
  refused" can be shown; kept while it is still ahead and inside 36 h. Built on
  the latest real slot (business day, 8:30-15:15 start, free place) between 2 h
  and 35 h ahead: the latest, so the demo lasts as long as possible. Every demo
  cita is on a business day in office hours. From Friday 13:15 to Saturday
  21:30 (or before a holiday) no business slot falls in that window; then
  K7M2Q9 is not created (a stale one is removed) and the seed logs a warning:
  seeding again on a business day (`make seed`) brings it back (README).
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from backend.models import Cita, Derechohabiente, EventoCita, Notificacion, Oficina
from backend.models.cita import AGENDADA, CANCELADA
from backend.privacy import mascara_curp
from backend.services.dias_habiles import dias_habiles_entre, sumar_dias_habiles
from backend.services.disponibilidad import (
    APERTURA,
    DURACION,
    inicios_del_dia,
    local,
    plazo_cancelacion,
    utc,
    zona,
)
from backend.services.oficinas import sembrar_catalogo

log = logging.getLogger("backend.seed.citas")

P1_CURP = "HEGG560427MVZRRL04"
P3_CURP = "PEGL890909MJCRMS08"
OFICINA_DEMO = "CDMX-ZC"
CLAVE_CANCELADA = "Z8YP3Q"
CLAVE_VIGENTE = "CC3QZ8"
CLAVE_36H = "K7M2Q9"
ANTELACION_36H = timedelta(hours=2)  # K7M2Q9 starts at least this far ahead when built ...
MARGEN_36H = timedelta(hours=1)  # ... and at least this much inside the cancellation deadline


def sembrar_oficinas(session: Session) -> None:
    """Insert or update the Oficinas de Representación from backend/data/oficinas.json."""
    sembrar_catalogo(session)
    session.commit()


def _borrar(session: Session, cita: Cita) -> None:
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


def _otra_agendada(session: Session, dh: Derechohabiente, *claves_demo: str) -> bool:
    otra = session.scalar(
        select(Cita).where(
            Cita.derechohabiente_id == dh.id,
            Cita.estatus == AGENDADA,
            Cita.clave.not_in(claves_demo),
        )
    )
    if otra is not None:
        log.warning("%s ya tiene otra cita agendada (%s); no se tocan sus citas de demostración",
                    mascara_curp(dh.curp), otra.clave)
        return True
    return False


def _ajena(cita: Cita | None, dh: Derechohabiente) -> bool:
    if cita is not None and cita.derechohabiente_id != dh.id:
        log.warning("la clave demo %s pertenece a otra persona; no se siembra", cita.clave)
        return True
    return False


def _crear(session: Session, *, clave: str, dh: Derechohabiente, oficina: Oficina, inicio: datetime,
           eventos: list[tuple[str, datetime]], lugar: int | None) -> None:
    estatus = eventos[-1][0]
    if estatus == AGENDADA and lugar is None:
        raise ValueError(f"la cita demo {clave} necesita un lugar libre")
    cita = Cita(clave=clave, derechohabiente_id=dh.id, oficina_id=oficina.id, inicio=utc(inicio),
                fin=utc(inicio + DURACION), estatus=estatus, canal_notificacion="WHATSAPP",
                creado_en=utc(eventos[0][1]), lugar=lugar if estatus == AGENDADA else None,
                cancelada_en=utc(eventos[-1][1]) if estatus == CANCELADA else None)
    session.add(cita)
    session.flush()
    for est, cuando in eventos:
        session.add(
            EventoCita(cita_id=cita.id, estatus=est, registrado_en=utc(cuando), origen="web")
        )
    session.flush()


def _p1_vigente(
    vigente: Cita | None, cancelada: Cita | None, dh: Derechohabiente, ahora: datetime
) -> bool:
    """Does the demo still show what DESIGN.md says (CC3QZ8 AGENDADA >= 5 business days ahead)?"""
    return (
        vigente is not None and cancelada is not None
        and vigente.derechohabiente_id == cancelada.derechohabiente_id == dh.id
        and vigente.estatus == AGENDADA and vigente.lugar is not None
        and cancelada.estatus == CANCELADA
        and dias_habiles_entre(local(ahora).date(), local(vigente.inicio).date()) >= 5
    )


def _primer_lugar_desde(
    session: Session, oficina: Oficina, inicio: datetime
) -> tuple[datetime, int]:
    """The first slot at or after `inicio` (same or later business days) with a free place."""
    dia = local(inicio).date()
    for _ in range(90):
        for ini in inicios_del_dia(dia):
            if ini >= inicio:
                lugar = _lugar_libre(session, oficina, ini)
                if lugar is not None:
                    return ini, lugar
        dia += timedelta(days=1)
    raise RuntimeError("la oficina demo no tiene lugares en 90 días")  # pragma: no cover


def _demo_p1(session: Session, dh: Derechohabiente, oficina: Oficina, ahora: datetime) -> None:
    vigente = session.scalar(select(Cita).where(Cita.clave == CLAVE_VIGENTE))
    cancelada = session.scalar(select(Cita).where(Cita.clave == CLAVE_CANCELADA))
    if _p1_vigente(vigente, cancelada, dh, ahora):
        return  # demo still valid: keep it and whatever happened to it
    if _ajena(vigente, dh) or _ajena(cancelada, dh) or _otra_agendada(session, dh, CLAVE_VIGENTE):
        return
    for cita in (vigente, cancelada):
        if cita is not None:
            _borrar(session, cita)
    hoy = local(ahora)
    dia_cita = sumar_dias_habiles(hoy.date(), 5)
    inicio, lugar = _primer_lugar_desde(
        session, oficina, datetime.combine(dia_cita, time(13, 30), tzinfo=zona())
    )
    antes = inicio - DURACION
    inicio_cancelada = antes if antes.time() >= APERTURA else inicio
    dia_registro = hoy.date() if hoy.time() >= time(15, 54) else hoy.date() - timedelta(days=1)

    def registro(h: int, m: int, s: int) -> datetime:
        return datetime.combine(dia_registro, time(h, m, s), tzinfo=zona())

    _crear(
        session,
        clave=CLAVE_CANCELADA,
        dh=dh,
        oficina=oficina,
        inicio=inicio_cancelada,
        lugar=None,
        eventos=[(AGENDADA, registro(12, 56, 2)), (CANCELADA, registro(15, 49, 45))],
    )
    _crear(session, clave=CLAVE_VIGENTE, dh=dh, oficina=oficina, inicio=inicio, lugar=lugar,
           eventos=[(AGENDADA, registro(15, 53, 49))])


def _inicio_36h(session: Session, oficina: Oficina, ahora: datetime) -> tuple[datetime, int] | None:
    """The latest business slot with a free place from 2 h ahead to 1 h inside the
    cancellation deadline (35 h with the default 36), or None (weekend, holiday)."""
    desde, hasta = utc(ahora) + ANTELACION_36H, utc(ahora) + plazo_cancelacion() - MARGEN_36H
    dias = [local(desde).date() + timedelta(days=k) for k in range(3)]
    reales = [
        (ini, lugar)
        for dia in dias
        for ini in inicios_del_dia(dia)
        if desde <= utc(ini) <= hasta and (lugar := _lugar_libre(session, oficina, ini)) is not None
    ]
    return reales[-1] if reales else None


def _demo_p3(session: Session, dh: Derechohabiente, oficina: Oficina, ahora: datetime) -> None:
    cita = session.scalar(select(Cita).where(Cita.clave == CLAVE_36H))
    if (
        cita is not None
        and cita.derechohabiente_id == dh.id
        and cita.estatus == AGENDADA and cita.lugar is not None
        and utc(ahora) < utc(cita.inicio) < utc(ahora) + plazo_cancelacion()
    ):
        return
    if _ajena(cita, dh) or _otra_agendada(session, dh, CLAVE_36H):
        return
    if cita is not None:
        _borrar(session, cita)
    hueco = _inicio_36h(session, oficina, ahora)
    if hueco is None:
        log.warning(
            "no hay un horario hábil dentro de las próximas 36 h; la cita demo %s de %s no se "
            "crea: vuelva a sembrar en un día hábil",
            CLAVE_36H,
            mascara_curp(dh.curp),
        )
        return
    inicio, lugar = hueco
    _crear(session, clave=CLAVE_36H, dh=dh, oficina=oficina, inicio=inicio, lugar=lugar,
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
