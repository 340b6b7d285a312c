"""Loans of the identified derechohabiente: saldo, conditions, history, statement PDF
(direct, or as a signed expiring link Twilio can fetch).

Every route needs the identity token and answers only about the token's owner.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from backend.deps import Ahora, DerechohabienteActual, Hoy, SessionDep, settings_of
from backend.errors import ERROR_RESPONSES
from backend.schemas.prestamos import (
    CondicionesPrestamo,
    EnlaceEstadoCuenta,
    PrestamoHistorico,
    Saldo,
)
from backend.services import estado_cuenta  # also registers the "estado_cuenta" file kind
from backend.services import prestamos as servicio
from backend.services.disponibilidad import local

# The statement of which loan: one of the caller's own (checked by the service).
FolioPropio = Annotated[
    str | None,
    Query(max_length=20, description="Folio de un préstamo suyo; por omisión, el vigente"),
]

router = APIRouter(prefix="/api/v1/prestamos", tags=["préstamos"], responses=ERROR_RESPONSES)


# What every loan answer copies as is: the loan's own columns, and its state's counters on a day.
_DEL_PRESTAMO = ("folio", "producto", "estatus", "monto", "plazo_quincenas", "descuento_quincenal",
                 "fecha_otorgamiento")
_DEL_ESTADO = ("quincenas_pagadas", "quincenas_restantes", "saldo_deudor_total", "al")


def _campos(origen: object, nombres: tuple[str, ...]) -> dict[str, Any]:
    return {nombre: getattr(origen, nombre) for nombre in nombres}


@router.get(
    "/saldo",
    response_model=Saldo,
    summary="Saldo deudor total del préstamo vigente (y saldo a favor)",
)
def saldo(dh: DerechohabienteActual, session: SessionDep, hoy: Hoy) -> Saldo:
    estado = servicio.saldo_para_consulta(session, derechohabiente_id=dh.id, al=hoy)
    p = estado.prestamo
    return Saldo(
        **_campos(estado, _DEL_ESTADO),
        **_campos(p, ("estatus", "producto", "descuento_quincenal")),
        prestamo_folio=p.folio,
        saldo_a_favor=estado.saldo_a_favor,
        quincenas_sin_descuento=len(estado.quincenas_sin_descuento),
        total_pagado=estado.total_pagado,
        fecha_ultimo_pago=estado.ultimo_pago.fecha if estado.ultimo_pago else None,
        proximo_descuento=estado.proximo_descuento,
    )


@router.get(
    "/vigente", response_model=CondicionesPrestamo, summary="Condiciones del préstamo vigente"
)
def vigente(dh: DerechohabienteActual, session: SessionDep, hoy: Hoy) -> CondicionesPrestamo:
    estado = servicio.saldo_vigente(session, derechohabiente_id=dh.id, al=hoy)
    p = estado.prestamo
    return CondicionesPrestamo(
        **_campos(p, _DEL_PRESTAMO),
        **_campos(estado, _DEL_ESTADO),
        tasa_anual=float(p.tasa_anual),
        tasa_anual_porcentaje=round(float(p.tasa_anual) * 100, 2),
        fecha_primer_descuento=p.fecha_primer_descuento,
        fecha_termino=estado.fecha_termino,
    )


@router.get(
    "",
    response_model=list[PrestamoHistorico],
    summary="Histórico de préstamos (el más reciente primero)",
)
def historico(dh: DerechohabienteActual, session: SessionDep) -> list[PrestamoHistorico]:
    return [
        PrestamoHistorico(
            **_campos(p, _DEL_PRESTAMO),
            tasa_anual=float(p.tasa_anual),
            fecha_termino=servicio.calendario(p)[-1],
            fecha_liquidacion=p.fecha_liquidacion,
        )
        for p in servicio.historico(session, derechohabiente_id=dh.id)
    ]


@router.get(
    "/estado-de-cuenta.pdf",
    summary="Estado de cuenta en PDF",
    response_class=Response,
    responses={
        200: {"content": {"application/pdf": {}}, "description": "El estado de cuenta en PDF"}
    },
)
def estado_de_cuenta(
    dh: DerechohabienteActual,
    session: SessionDep,
    ahora: Ahora,
    folio: FolioPropio = None,
) -> Response:
    prestamo = estado_cuenta.prestamo_solicitado(session, derechohabiente_id=dh.id, folio=folio)
    doc = estado_cuenta.documento(session, prestamo=prestamo, emitido=local(ahora))
    return Response(
        content=doc.contenido,
        media_type=doc.media_type,
        headers={
            "Content-Disposition": f'inline; filename="{doc.nombre}"',
            "Cache-Control": "no-store",
        },
    )


@router.post(
    "/estado-de-cuenta/enlace",
    response_model=EnlaceEstadoCuenta,
    summary="Enlace firmado y temporal al estado de cuenta en PDF",
    description="El enlace no pide credenciales (WhatsApp lo descarga así) y vence en 24 horas; "
                "el PDF se genera al abrirlo, con el saldo de ese día.",
)
def enlace_estado_de_cuenta(
    dh: DerechohabienteActual,
    session: SessionDep,
    request: Request,
    ahora: Ahora,
    folio: FolioPropio = None,
) -> EnlaceEstadoCuenta:
    url, expira = estado_cuenta.crear_enlace(
        session, settings_of(request), derechohabiente=dh, folio=folio, ahora=ahora
    )
    return EnlaceEstadoCuenta(url=url, expira_en=expira)
