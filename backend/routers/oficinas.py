from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Query

from backend.deps import Ahora, SessionDep
from backend.errors import ERROR_RESPONSES
from backend.schemas.oficinas import DisponibilidadOut, HorarioOut, OficinaOut
from backend.services import disponibilidad as disp
from backend.services import oficinas as svc

router = APIRouter(prefix="/api/v1/oficinas", tags=["oficinas"], responses=ERROR_RESPONSES)
OficinaId = Annotated[int, Path(ge=1, le=2**31 - 1, description="Identificador de la oficina.")]


@router.get("", response_model=list[OficinaOut], summary="Oficinas de representación")
def listar(
    session: SessionDep,
    q: Annotated[
        str | None, Query(max_length=80, description="Busca por ciudad, estado o nombre.")
    ] = None,
) -> list[OficinaOut]:
    return [OficinaOut.model_validate(o) for o in svc.listar_oficinas(session, q=q)]


@router.get("/{oficina_id}", response_model=OficinaOut, summary="Una oficina")
def detalle(oficina_id: OficinaId, session: SessionDep) -> OficinaOut:
    return OficinaOut.model_validate(svc.obtener_oficina(session, oficina_id=oficina_id))


@router.get(
    "/{oficina_id}/disponibilidad",
    response_model=DisponibilidadOut,
    summary="Próximos horarios libres de una oficina",
)
def disponibilidad(
    oficina_id: OficinaId,
    session: SessionDep,
    ahora: Ahora,
    desde: Annotated[
        date | None, Query(description="Primer día (AAAA-MM-DD); hoy si se omite.")
    ] = None,
    hasta: Annotated[
        date | None, Query(description="Último día; 30 días después de `desde` si se omite.")
    ] = None,
    limite: Annotated[int, Query(ge=1, le=200)] = 20,
) -> DisponibilidadOut:
    oficina = svc.obtener_oficina(session, oficina_id=oficina_id)
    desde = desde or disp.local(ahora).date()
    if hasta is None:
        hasta = desde + timedelta(days=30) if desde < date(9999, 1, 1) else desde
    horarios = disp.horarios_libres(session, oficina=oficina, desde=desde, hasta=hasta,
                                    ahora=ahora, limite=limite)
    return DisponibilidadOut(
        oficina_id=oficina.id,
        oficina=oficina.nombre,
        zona_horaria=str(disp.zona()),
        desde=desde,
        hasta=hasta,
        horarios=[
            HorarioOut(
                inicio=h.inicio,
                fin=h.fin,
                fecha=disp.fecha_texto(h.inicio),
                hora=disp.hora_texto(h.inicio),
                fecha_texto=disp.fecha_larga(h.inicio),
                lugares_disponibles=h.lugares_disponibles,
            )
            for h in horarios
        ],
    )
