"""Seed: exact demo personas, real loan maths, idempotence, synthetic people."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from stdnum.mx import curp as stdnum_curp

from backend import seed
from backend.models import Derechohabiente, IntentoIdentidad, Movimiento, Prestamo
from backend.seed import citas as seed_citas
from backend.seed import sinteticos
from backend.services import prestamos as servicio_prestamos
from backend.services.finanzas import fechas_quincena
from backend.services.identidad import nip_correcto
from backend.services.nip_hash import pimientas
from backend.services.simulacion import simular

AHORA = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)
HOY = date(2026, 11, 20)

ESPERADAS = {
    "HEGG560427MVZRRL04": (date(1956, 4, 27), "4821", "pensionado", "M"),
    "BEML920313HMCLNS09": (date(1992, 3, 13), "7315", "asegurado", "H"),
    "PEGL890909MJCRMS08": (date(1989, 9, 9), "5502", "asegurado", "M"),
}


def _conteos(session: Session) -> tuple[int, int, int]:
    return tuple(  # type: ignore[return-value]
        session.scalar(select(func.count()).select_from(m))
        for m in (Derechohabiente, Prestamo, Movimiento)
    )


def _dh(session: Session, curp: str) -> Derechohabiente:
    return session.scalars(select(Derechohabiente).where(Derechohabiente.curp == curp)).one()


def _prestamos(session: Session, curp: str) -> list[Prestamo]:
    return servicio_prestamos.historico(session, derechohabiente_id=_dh(session, curp).id)


def test_personas_exactas(session: Session) -> None:
    seed.sembrar_personas(session, hoy=HOY, ahora=AHORA)
    for curp, (nacimiento, nip, tipo, sexo) in ESPERADAS.items():
        dh = _dh(session, curp)
        assert stdnum_curp.is_valid(dh.curp)
        assert dh.fecha_nacimiento == nacimiento == stdnum_curp.get_birth_date(curp)
        assert (dh.tipo, dh.sexo) == (tipo, sexo)
        assert nip_correcto(dh.nip_hash, nip, dh.curp)
        assert dh.nip_hash.startswith("hmac-sha256$")
        assert dh.telefono and dh.telefono.startswith("+52") and dh.email and "@" in dh.email
        # The names are the ones the CURP was derived from.
        assert (
            seed.construir_curp(
                nombre=dh.nombre,
                primer_apellido=dh.primer_apellido,
                segundo_apellido=dh.segundo_apellido,
                fecha_nacimiento=dh.fecha_nacimiento,
                sexo=dh.sexo,
                estado=curp[11:13],
                homoclave=curp[16],
            )
            == curp
        )
    assert _dh(session, "BEML920313HMCLNS09").anios_cotizacion == 8
    assert _dh(session, "PEGL890909MJCRMS08").anios_cotizacion == 12

    p1 = _prestamos(session, "HEGG560427MVZRRL04")
    assert [p.estatus for p in p1] == ["VIGENTE", "LIQUIDADO", "LIQUIDADO"]
    for p in p1[1:]:  # paid off: every quincena discounted and the saldo closed at zero
        estado = servicio_prestamos.estado_prestamo(session, prestamo=p, al=p.fecha_liquidacion)
        assert estado.quincenas_pagadas == p.plazo_quincenas
        from backend.services.finanzas import Pago, saldo_deudor

        cierre = saldo_deudor(
            monto=p.monto,
            tasa_anual=p.tasa_anual,
            fechas_programadas=estado.fechas,
            pagos=[Pago(m.fecha, m.monto) for m in estado.movimientos],
            al=p.fecha_liquidacion,
        )
        assert cierre == Decimal("0.00")
    assert _prestamos(session, "PEGL890909MJCRMS08") == []


def test_p2_sin_descuento_en_las_ultimas_tres_quincenas(session: Session) -> None:
    seed.sembrar_personas(session, hoy=HOY, ahora=AHORA)
    (p2,) = _prestamos(session, "BEML920313HMCLNS09")
    pasadas = [f for f in fechas_quincena(p2.fecha_primer_descuento, p2.plazo_quincenas) if f < HOY]
    nomina = session.scalars(select(Movimiento.fecha).where(Movimiento.prestamo_id == p2.id,
                                                            Movimiento.origen == "NOMINA")).all()
    assert len(pasadas) > 5
    assert sorted(nomina) == pasadas[:-3]
    assert p2.descuento_quincenal == Decimal("1269.08")  # 20 % of the quincenal salary of nivel 10
    assert p2.plazo_quincenas == 36  # under 10 years of cotización


def test_personas_idempotentes_y_al_dia_en_una_nueva_corrida(session: Session) -> None:
    seed.sembrar_personas(session, hoy=HOY, ahora=AHORA)
    primera = _conteos(session)
    session.add(
        IntentoIdentidad(
            curp="HEGG560427MVZRRL04",
            intentos_fallidos=3,
            bloqueos=2,
            bloqueado_hasta=AHORA + timedelta(minutes=10),
            actualizado_en=AHORA,
        )
    )
    session.commit()
    seed.sembrar_personas(session, hoy=HOY, ahora=AHORA)
    assert _conteos(session) == primera
    # re-seeding unlocks the demo
    assert session.get(IntentoIdentidad, "HEGG560427MVZRRL04") is None

    # A month later the vigente loans get the payroll of the quincenas in between;
    # P2 still lacks exactly its last three.
    despues = HOY + timedelta(days=31)
    seed.sembrar_personas(session, hoy=despues, ahora=AHORA + timedelta(days=31))
    assert _conteos(session)[:2] == primera[:2]
    assert _conteos(session)[2] == primera[2] + 2 + 2
    (p2,) = _prestamos(session, "BEML920313HMCLNS09")
    estado = servicio_prestamos.estado_prestamo(session, prestamo=p2, al=despues)
    assert len(estado.quincenas_sin_descuento) == 3
    assert estado.quincenas_sin_descuento == list(range(estado.quincenas_transcurridas - 2,
                                                        estado.quincenas_transcurridas + 1))


def _curps_esperadas(count: int) -> set[str]:
    cal = sinteticos._Calendario.de(HOY)
    curps = set()
    for bloque in range((count + sinteticos.BLOQUE - 1) // sinteticos.BLOQUE):
        rng = random.Random(f"{sinteticos.SEMILLA}-{bloque}")
        for indice in range(
            bloque * sinteticos.BLOQUE, min((bloque + 1) * sinteticos.BLOQUE, count)
        ):
            persona, _, _ = sinteticos._persona_sintetica(rng, indice, HOY, cal, pimientas(), AHORA)
            curps.add(str(persona["curp"]))
    return curps


def test_sinteticos_validos_deterministas_e_idempotentes(session: Session) -> None:
    assert seed.sembrar_sinteticos(session, count=40, hoy=HOY, ahora=AHORA, progreso=False) == 40
    assert seed.sembrar_sinteticos(session, count=40, hoy=HOY, ahora=AHORA, progreso=False) == 0
    assert seed.sembrar_sinteticos(session, count=120, hoy=HOY, ahora=AHORA, progreso=False) == 80
    curps = session.scalars(select(Derechohabiente.curp)).all()
    assert len(curps) == 120
    assert all(stdnum_curp.is_valid(c) for c in curps)
    # Resuming gives exactly the people a single run would have made.
    assert set(curps) == _curps_esperadas(120)
    assert not set(curps) & set(ESPERADAS)

    vigentes = session.scalars(select(Prestamo).where(Prestamo.estatus == "VIGENTE")).all()
    assert 30 < len(vigentes) < 100
    for p in vigentes:
        fechas = fechas_quincena(p.fecha_primer_descuento, p.plazo_quincenas)
        movs = session.scalars(select(Movimiento).where(Movimiento.prestamo_id == p.id)).all()
        assert all(
            m.origen == "NOMINA" and m.fecha == fechas[m.quincena - 1] and m.fecha < HOY
            for m in movs
        )
        assert len(movs) < p.plazo_quincenas
        saldo = servicio_prestamos.estado_prestamo(session, prestamo=p, al=HOY).saldo_deudor_total
        assert Decimal(0) < saldo <= p.monto * Decimal("1.2")
    # Each synthetic person has their own keyed hash of a NIP nobody knows.
    filas = session.execute(select(Derechohabiente.curp, Derechohabiente.nip_hash)).all()
    assert len({h for _, h in filas}) == len(filas)
    assert all(h.startswith(f"hmac-sha256${pimientas().actual_id}$") for _, h in filas)


def _quincenas_antes_de_hoy(desde: date) -> int:
    return sum(1 for f in fechas_quincena(desde, 24 * 12) if f < HOY)


def test_prestamos_sinteticos_que_la_simulacion_permitiria() -> None:
    """Every synthetic loan passes POST /api/v1/simulaciones' rules with the person's
    tipo and sexo and the cotización they had at its first discount (36 quincenas
    under 10 years, cotización + plazo under 29 a 6 m 1 d / 27 a 6 m 1 d), and has the
    simulation's descuento and monto."""
    cal = sinteticos._Calendario.de(HOY)
    rng = random.Random(f"{sinteticos.SEMILLA}-0")
    revisados = cerca_del_limite = 0
    for indice in range(3000):
        persona, prestamos, _ = sinteticos._persona_sintetica(
            rng, indice, HOY, cal, pimientas(), AHORA
        )
        for p in prestamos:
            anios = Decimal(int(persona["anios_cotizacion"]) * 24  # type: ignore[call-overload]
                            - _quincenas_antes_de_hoy(p["fecha_primer_descuento"])) / 24  # type: ignore[arg-type]
            # Raises ErrorDominio (422) if the loan breaks a product rule.
            r = simular(
                producto=str(p["producto"]),
                sueldo_base_mensual=persona["sueldo_base_mensual"],  # type: ignore[arg-type]
                plazo_quincenas=int(p["plazo_quincenas"]),
                tipo=str(persona["tipo"]),  # type: ignore[call-overload]
                anios_cotizacion=anios,
                sexo=str(persona["sexo"]),
            )
            assert (r.descuento_quincenal, r.monto_maximo) == (
                p["descuento_quincenal"],
                p["monto"],
            ), (persona, p)
            revisados += 1
            limite = 28 if persona["sexo"] == "H" else 26
            if (
                persona["tipo"] == "asegurado"
                and anios + Decimal(int(p["plazo_quincenas"])) / 24 > limite
            ):  # type: ignore[call-overload]
                cerca_del_limite += 1
    # Enough loans, and enough of them close to the cotización + plazo limit, for the rule to
    # matter.
    assert revisados > 1500 and cerca_del_limite > 20, (revisados, cerca_del_limite)


def test_sembrar_siembra_oficinas_y_citas(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    llamadas: list[tuple[str, object]] = []
    monkeypatch.setattr(seed_citas, "sembrar_oficinas", lambda s: llamadas.append(("oficinas", s)))
    monkeypatch.setattr(
        seed_citas, "sembrar_citas_demo", lambda s, *, ahora: llamadas.append(("citas", ahora))
    )
    seed.sembrar(session, count=3, ahora=AHORA)
    assert llamadas == [("oficinas", session), ("citas", AHORA)]
    assert _conteos(session)[0] == 3 + 3


def test_cli_idempotente(db_url: str, session_factory: sessionmaker[Session],
                         capsys: pytest.CaptureFixture[str]) -> None:
    # --forzar: the PostgreSQL test database is not a local SQLite file.
    assert seed.main(["--count", "25", "--database-url", db_url, "--forzar"]) == 0
    salida = capsys.readouterr()
    # The demo personas are named with their CURP masked; no NIP is ever printed.
    for curp, (_, nip, _, _) in ESPERADAS.items():
        assert curp not in salida.out + salida.err and nip not in salida.out + salida.err
        assert f"{curp[:4]}************{curp[-2:]}" in salida.out
    assert "README" in salida.out
    with session_factory() as s:
        primera = _conteos(s)
    assert seed.main(["--count", "25", "--database-url", db_url, "--forzar"]) == 0
    with session_factory() as s:
        assert _conteos(s) == primera
        assert primera[0] == 25 + 3
        assert seed.contar_sinteticos(s) == 25
