"""Response bodies built the same way by several routers (no routes here):
routers import this module, never each other."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from fastapi import Request

from backend.deps import settings_of
from backend.models import Fopi
from backend.schemas.pagos import FopiRespuesta, QuincenaRegularizada
from backend.services import enlaces, referencias
from backend.services import fopi as servicio_fopi
from backend.services.regularizacion import QuincenaPorRegularizar

PREFIJO_PAGOS = "/api/v1/pagos"


def quincenas_regularizadas(
    quincenas: Iterable[QuincenaPorRegularizar],
) -> list[QuincenaRegularizada]:
    return [QuincenaRegularizada(numero=q.numero, fecha=q.fecha, descuento=q.descuento,
                                 dias_atraso=q.dias_atraso) for q in quincenas]


def fopi_respuesta(fopi: Fopi, request: Request, ahora: datetime) -> FopiRespuesta:
    quincenas = None
    adeudo = None
    if fopi.concepto == "REGULARIZACION":
        detalle = [QuincenaPorRegularizar.de_json(q) for q in fopi.quincenas or []]
        quincenas = quincenas_regularizadas(detalle)
        adeudo = sum((q.descuento for q in detalle), start=fopi.monto * 0)
    enlace, _expira = enlaces.url_firmada(
        settings_of(request), kind="fopi", id_=fopi.referencia, ahora=ahora
    )
    return FopiRespuesta(
        referencia=fopi.referencia,
        referencia_formateada=referencias.formatear(fopi.referencia),
        concepto=fopi.concepto,  # type: ignore[arg-type]
        descripcion=servicio_fopi.DESCRIPCION_CONCEPTO[fopi.concepto],
        monto=fopi.monto,
        fecha_emision=fopi.fecha_emision,
        vigencia=fopi.vigencia,
        estatus=fopi.estatus,  # type: ignore[arg-type]
        bancos=list(servicio_fopi.BANCOS_AUTORIZADOS),
        folio_prestamo=fopi.prestamo.folio,
        pdf_url=f"{PREFIJO_PAGOS}/fopi/{fopi.referencia}.pdf",
        pdf_enlace=enlace,
        adeudo=adeudo,
        quincenas=quincenas,
        fecha_pago=fopi.fecha_pago,
    )
