from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Request, Response
from fastapi.responses import JSONResponse

from backend.deps import (
    Ahora,
    DerechohabienteActual,
    DerechohabienteOpcional,
    SessionDep,
    secreto_compartido,
    settings_of,
)
from backend.errors import ERROR_RESPONSES, ErrorResponse
from backend.models import Cita
from backend.models.cita import AGENDADA
from backend.schemas.citas import (
    AtencionOut,
    CancelacionOut,
    CancelarCita,
    CitaCrear,
    CitaOut,
    EnlaceOut,
    FilaBitacoraOut,
    OficinaResumen,
    ReenvioIn,
    ReenvioOut,
)
from backend.services import cancelacion_citas as cancelacion
from backend.services import citas as svc
from backend.services import disponibilidad as disp
from backend.services import hoja_cita, limites
from backend.services import idempotencia as idem
from backend.services.errores import ErrorDominio

router = APIRouter(prefix="/api/v1/citas", tags=["citas"], responses=ERROR_RESPONSES)


def _cita_out(cita: Cita, *, ahora: datetime) -> CitaOut:
    limite = cancelacion.limite_cancelacion(cita)
    return CitaOut(
        clave=cita.clave,
        estatus=cita.estatus,
        oficina=OficinaResumen(id=cita.oficina.id, nombre=cita.oficina.nombre,
                               direccion=cita.oficina.direccion, telefono=cita.oficina.telefono),
        inicio=disp.local(cita.inicio),
        fin=disp.local(cita.fin),
        fecha_cita=disp.fecha_texto(cita.inicio),
        hora=disp.hora_texto(cita.inicio),
        fecha_texto=disp.fecha_larga(cita.inicio),
        registrado_en=disp.registro_texto(svc.registrado_en(cita)),
        limite_cancelacion=disp.local(limite),
        cancelable=cita.estatus == AGENDADA and disp.utc(ahora) <= limite,
    )


def turno_de(
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            max_length=128,
            description="Clave única del intento (p. ej. un UUID por turno del IVR): repetir la "
            "solicitud con la misma clave devuelve la primera respuesta sin agendar o cancelar "
            "dos veces",
        ),
    ] = None,
    turno_vence: Annotated[
        str | None,
        Header(
            alias="X-Turno-Vence",
            max_length=32,
            description="Instante (segundos Unix) en que quien llama deja de esperar; después se "
            "rechaza con 409 turno_vencido sin cambiar nada",
        ),
    ] = None,
) -> idem.Turno:
    return idem.Turno(idem.validar_clave(idempotency_key), idem.validar_vence(turno_vence))


TurnoDep = Annotated[idem.Turno, Depends(turno_de)]


def _json(respuesta: idem.Respuesta) -> JSONResponse:
    """The HTTP answer of an idempotent operation (its first run or the replay)."""
    return JSONResponse(respuesta.cuerpo, status_code=respuesta.status)


_RESPUESTAS_TURNO: dict[int | str, dict[str, Any]] = {
    409: {
        "model": ErrorResponse,
        "description": "Regla de negocio, solicitud tardía (turno_vencido) o clave de "
        "idempotencia ya usada para otra solicitud",
    },
}


@router.post(
    "",
    response_model=CitaOut,
    status_code=201,
    summary="Agendar una cita",
    responses={
        503: {"model": ErrorResponse, "description": "No se pudo generar una clave única"},
        **_RESPUESTAS_TURNO,
    },
)
def agendar(
    datos: CitaCrear,
    request: Request,
    dh: DerechohabienteActual,
    session: SessionDep,
    ahora: Ahora,
    turno: TurnoDep,
) -> JSONResponse:
    def hacer() -> dict[str, Any]:
        cita = svc.agendar(
            session,
            derechohabiente=dh,
            oficina_id=datos.oficina_id,
            inicio=datos.inicio,
            ahora=ahora,
            canal_notificacion=datos.canal_notificacion,
            origen=datos.origen,
        )
        return _cita_out(cita, ahora=ahora).model_dump(mode="json")

    return _json(idem.ejecutar(session, turno, operacion="agendar", sujeto=f"dh:{dh.id}",
                         cuerpo=datos.model_dump(mode="json"), status_ok=201,
                         horas=settings_of(request).idempotencia_horas, funcion=hacer))


@router.get(
    "", response_model=list[FilaBitacoraOut], summary="Bitácora de citas (la más reciente primero)"
)
def bitacora(dh: DerechohabienteActual, session: SessionDep) -> list[FilaBitacoraOut]:
    return [
        FilaBitacoraOut(
            fecha_cita=disp.fecha_texto(f.cita.inicio),
            hora=disp.hora_texto(f.cita.inicio),
            expediente="SI" if f.evento.estatus == "ATENDIDA" else "NO",
            registrado_en=disp.registro_texto(f.evento.registrado_en),
            estatus=f.evento.estatus,
            clave=f.cita.clave,
            inicio=disp.local(f.cita.inicio),
            registrado_en_iso=disp.local(f.evento.registrado_en),
            oficina=f.cita.oficina.nombre,
        )
        for f in svc.bitacora(session, derechohabiente=dh)
    ]


@router.get("/{clave}", response_model=CitaOut, summary="Detalle de una cita")
def detalle(clave: str, dh: DerechohabienteActual, session: SessionDep, ahora: Ahora) -> CitaOut:
    return _cita_out(svc.obtener_cita(session, derechohabiente=dh, clave=clave), ahora=ahora)


@router.post(
    "/{clave}/cancelar",
    response_model=CancelacionOut,
    summary="Cancelar una cita",
    responses={
        423: {
            "model": ErrorResponse,
            "description": "Clave bloqueada tras varios intentos con fecha de nacimiento",
        },
        429: {
            "model": ErrorResponse,
            "description": "Demasiados intentos fallidos desde el mismo origen o en total "
            "(con encabezado Retry-After)",
        },
        **_RESPUESTAS_TURNO,
    },
)
def cancelar(
    clave: str,
    request: Request,
    session: SessionDep,
    ahora: Ahora,
    dh: DerechohabienteOpcional,
    turno: TurnoDep,
    datos: Annotated[CancelarCita | None, Body()] = None,
) -> JSONResponse:
    datos = datos or CancelarCita()
    origen = datos.origen or ("web" if dh is not None else "telefono")
    settings = settings_of(request)
    # Without a token the clave + birth date are the only secrets: failures are
    # throttled per source and globally, on top of the per-clave lock.
    por_fecha = dh is None and datos.fecha_nacimiento is not None
    red = limites.origen_de(request, settings)
    if por_fecha:
        limites.exigir_cupo(
            session, ambito=limites.CANCELACION, origen=red, ahora=ahora, settings=settings
        )

    def hacer() -> dict[str, Any]:
        try:
            resultado = cancelacion.cancelar(
                session,
                clave=clave,
                ahora=ahora,
                derechohabiente=dh,
                fecha_nacimiento=None if dh is not None else datos.fecha_nacimiento,
                origen=origen,
                settings=settings,
            )
        except ErrorDominio as error:
            if por_fecha and error.codigo in ("cita_no_encontrada", "bloqueado"):
                limites.registrar_fallo(
                    session, ambito=limites.CANCELACION, origen=red, ahora=ahora, settings=settings
                )
            raise
        cita = resultado.cita
        mensaje = (f"La cita {cita.clave} ya estaba cancelada." if resultado.ya_estaba_cancelada
                   else f"Su cita {cita.clave} quedó cancelada.")
        return CancelacionOut(
            clave=cita.clave,
            estatus=cita.estatus,
            ya_estaba_cancelada=resultado.ya_estaba_cancelada,
            mensaje=mensaje,
        ).model_dump(mode="json")

    return _json(idem.ejecutar(session, turno, operacion="cancelar",
                         sujeto=f"{clave.strip().upper()}|{dh.id if dh is not None else '-'}",
                         cuerpo=datos.model_dump(mode="json"), status_ok=200,
                         horas=settings.idempotencia_horas, funcion=hacer))


@router.get(
    "/{clave}/hoja.pdf",
    response_class=Response,
    responses={
        200: {"content": {"application/pdf": {}}, "description": "Hoja de asignación en PDF"}
    },
    summary="Hoja de asignación de clave de cita (PDF)",
)
def hoja(clave: str, dh: DerechohabienteActual, session: SessionDep, ahora: Ahora) -> Response:
    cita = svc.obtener_cita(session, derechohabiente=dh, clave=clave)
    pdf = hoja_cita.hoja_pdf(cita, ahora=ahora)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="hoja_cita_{cita.clave}.pdf"'},
    )


@router.post(
    "/{clave}/enlace", response_model=EnlaceOut, summary="Enlace firmado y temporal a la hoja"
)
def enlace(
    clave: str, request: Request, dh: DerechohabienteActual, session: SessionDep, ahora: Ahora
) -> EnlaceOut:
    url, expira = hoja_cita.crear_enlace_hoja(session, settings_of(request), derechohabiente=dh,
                                        clave=clave, ahora=ahora)
    return EnlaceOut(url=url, expira_en=expira)


@router.post("/{clave}/reenviar", response_model=ReenvioOut, status_code=202,
             summary="Reenviar la hoja de asignación por SMS o WhatsApp")
def reenviar(clave: str, dh: DerechohabienteActual, session: SessionDep, ahora: Ahora,
             datos: Annotated[ReenvioIn | None, Body()] = None) -> ReenvioOut:
    cita, canal = hoja_cita.reenviar_hoja(session, derechohabiente=dh, clave=clave, ahora=ahora,
                                    canal=(datos.canal if datos else None))
    medio = "WhatsApp" if canal == "WHATSAPP" else "mensaje de texto"
    return ReenvioOut(clave=cita.clave, canal=canal or "",
                      mensaje=f"Le enviaremos su hoja de asignación por {medio} en unos momentos.")


_SOLO_CAPP = secreto_compartido(
    encabezado="X-CAPP-Secret",
    ajuste="capp_interno_secret",
    descripcion="Clave compartida del CAPP",
    quien="del CAPP",
    servicio="Las operaciones internas del CAPP",
)


@router.post(
    "/{clave}/atendida",
    response_model=AtencionOut,
    summary="Uso interno del CAPP: registrar que la cita fue atendida",
    **_SOLO_CAPP,
)
def atendida(clave: str, session: SessionDep, ahora: Ahora) -> AtencionOut:
    resultado = svc.marcar_atendida(session, clave=clave, ahora=ahora)
    cita = resultado.cita
    mensaje = (
        f"La cita {cita.clave} ya estaba registrada como atendida."
        if resultado.ya_estaba_atendida
        else f"La cita {cita.clave} quedó registrada como atendida."
    )
    return AtencionOut(
        clave=cita.clave,
        estatus=cita.estatus,
        ya_estaba_atendida=resultado.ya_estaba_atendida,
        mensaje=mensaje,
    )
