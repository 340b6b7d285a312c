"""Citas: agendar among the free slots, bitácora, hoja de asignación, cancelar (36 h)."""

from __future__ import annotations

from datetime import date, timedelta

import httpx
import pytest
from rasa_sdk.executor import CollectingDispatcher
from test_actions_apoyo import (
    DOMINIO,
    BackendFalso,
    caido,
    error,
    mensaje,
    respuestas,
    slots_de,
    tracker,
)

from bot.actions import backend_client as bc
from bot.actions.cancelacion import ActionCancelarCita, ValidateCancelacionForm
from bot.actions.citas import (
    ActionAgendarCita,
    ActionConsultarCitas,
    ActionReimprimirCita,
    ValidateCitaForm,
)

CANCELAR = ("POST", "/api/v1/citas/CC3QZ8/cancelar")


def _confirmada(token=None, fecha="1956-04-27"):
    return {
        "clave_cita": "CC3QZ8",
        "fecha_nacimiento": fecha,
        "confirmar_cancelacion": True,
        "token": token,
    }


@pytest.mark.asyncio
async def test_cancelar_sin_token_manda_la_fecha_de_nacimiento():
    backend = BackendFalso(
        {CANCELAR: {"clave": "CC3QZ8", "estatus": "CANCELADA", "ya_estaba_cancelada": False}}
    ).instalar()
    d = CollectingDispatcher()
    eventos = await ActionCancelarCita().run(d, tracker(_confirmada(), canal="ivr"), {})
    assert backend.cuerpo() == {"fecha_nacimiento": "1956-04-27", "origen": "telefono"}
    assert "Authorization" not in backend.peticiones[0].headers
    assert mensaje(d, "utter_cita_cancelada")["clave"] == "CC3QZ8"
    assert slots_de(eventos) == {
        "clave_cita": None,
        "clave_deletreada": None,
        "fecha_nacimiento": None,
        "confirmar_cancelacion": None,
    }


@pytest.mark.asyncio
async def test_cancelar_con_token_no_manda_fecha():
    backend = BackendFalso({CANCELAR: {"clave": "CC3QZ8", "estatus": "CANCELADA"}}).instalar()
    d = CollectingDispatcher()
    await ActionCancelarCita().run(d, tracker(_confirmada(token="tok", fecha=None)), {})
    assert backend.cuerpo() == {"origen": "web"}
    assert backend.peticiones[0].headers["Authorization"] == "Bearer tok"


@pytest.mark.asyncio
async def test_dentro_de_36_horas_explica_con_el_detalle_del_backend():
    detalle = (
        "Ya no es posible cancelar: el plazo venció el 11/03/2026 a las 09:00 (36 horas antes de "
        "su cita)."
    )
    BackendFalso({CANCELAR: error(409, detalle)}).instalar()
    d = CollectingDispatcher()
    eventos = await ActionCancelarCita().run(d, tracker(_confirmada()), {})
    assert mensaje(d, "utter_cancelacion_rechazada")["detalle"] == detalle
    assert all(v is None for v in slots_de(eventos).values())


@pytest.mark.asyncio
async def test_clave_bloqueada_por_intentos_dice_hasta_cuando():
    detalle = (
        "Por su seguridad, la cancelación con esa clave de cita quedó bloqueada tras varios "
        "intentos con "
        "datos que no coinciden. Podrá intentarlo de nuevo a partir de las 14:05 horas del "
        "01/12/2026."
    )
    BackendFalso({CANCELAR: error(423, detalle)}).instalar()
    d = CollectingDispatcher()
    eventos = await ActionCancelarCita().run(d, tracker(_confirmada(), canal="ivr"), {})
    assert respuestas(d) == ["utter_cancelacion_bloqueada"]
    assert mensaje(d, "utter_cancelacion_bloqueada")["detalle"] == detalle
    assert all(v is None for v in slots_de(eventos).values())


@pytest.mark.asyncio
async def test_demasiados_intentos_al_cancelar_se_dice_con_amabilidad():
    BackendFalso({CANCELAR: error(429, "Por su seguridad hicimos una pausa.")}).instalar()
    d = CollectingDispatcher()
    eventos = await ActionCancelarCita().run(d, tracker(_confirmada(), canal="ivr"), {})
    assert respuestas(d) == ["utter_demasiados_intentos"]
    assert all(v is None for v in slots_de(eventos).values())


@pytest.mark.asyncio
async def test_clave_o_fecha_que_no_coinciden():
    BackendFalso(
        {CANCELAR: error(404, "No encontramos una cita con esa clave y fecha de nacimiento.")}
    ).instalar()
    d = CollectingDispatcher()
    await ActionCancelarCita().run(d, tracker(_confirmada()), {})
    assert respuestas(d) == ["utter_cancelacion_no_posible"]


@pytest.mark.asyncio
async def test_cancelacion_desistida_no_llama_al_backend():
    backend = BackendFalso({}).instalar()
    d = CollectingDispatcher()
    v = ValidateCancelacionForm()
    slots = v.validate_confirmar_cancelacion(False, d, tracker(), {})
    assert slots["requested_slot"] is None and slots["clave_cita"] is None
    await ActionCancelarCita().run(d, tracker({"clave_cita": "CC3QZ8"}), {})
    assert backend.peticiones == []
    assert respuestas(d) == ["utter_cancelacion_desistida"]


@pytest.mark.asyncio
async def test_identificado_no_se_pide_fecha_de_nacimiento():
    d = CollectingDispatcher()
    v = ValidateCancelacionForm()
    slots = DOMINIO["forms"]["cancelacion_form"]["required_slots"]
    assert await v.required_slots(slots, d, tracker({"token": "t"}), DOMINIO) == [
        "clave_cita",
        "confirmar_cancelacion",
    ]
    assert await v.required_slots(slots, d, tracker({}), DOMINIO) == slots


@pytest.mark.parametrize("texto", ["27041956", "27/04/1956", "1956-04-27", "27 de abril de 1956"])
def test_fecha_de_nacimiento_en_varias_formas(texto):
    d = CollectingDispatcher()
    assert ValidateCancelacionForm().validate_fecha_nacimiento(texto, d, tracker(), {}) == {
        "fecha_nacimiento": "1956-04-27"
    }


def test_clave_se_normaliza():
    d = CollectingDispatcher()
    v = ValidateCancelacionForm()
    # The phone line reads it back character by character (utter_ask_confirmar_cancelacion).
    assert v.validate_clave_cita("cc3 qz8", d, tracker(), {}) == {"clave_cita": "CC3QZ8",
                                                                  "clave_deletreada": "C C 3 Q Z 8"}
    assert v.validate_clave_cita("CC3", d, tracker(), {}) == {
        "clave_cita": None,
        "clave_deletreada": None,
    }


@pytest.mark.asyncio
async def test_fecha_ofrece_los_horarios_libres_de_ese_dia():
    dia = date.today() + timedelta(days=10)
    otro = dia + timedelta(days=1)
    horarios = [
        {
            "inicio": f"{dia}T09:00:00-06:00",
            "hora": "09:00 hrs-09:15 hrs",
            "fecha_texto": "el día",
            "fecha": "",
        },
        {
            "inicio": f"{dia}T09:15:00-06:00",
            "hora": "09:15 hrs-09:30 hrs",
            "fecha_texto": "el día",
            "fecha": "",
        },
        {
            "inicio": f"{otro}T09:00:00-06:00",
            "hora": "09:00 hrs-09:15 hrs",
            "fecha_texto": "otro",
            "fecha": "",
        },
    ]
    backend = BackendFalso(
        {("GET", "/api/v1/oficinas/3/disponibilidad"): {"horarios": horarios}}
    ).instalar()
    d = CollectingDispatcher()
    slots = await ValidateCitaForm().validate_fecha(
        dia.strftime("%d/%m/%Y"), d, tracker({"oficina": "3", "token": "t"}), {}
    )
    assert slots["fecha"] == dia.isoformat()
    assert [h["hora"] for h in slots["horarios_ofrecidos"]] == ["09:00", "09:15"]
    assert backend.peticiones[0].url.params["desde"] == dia.isoformat()
    # "2" picks the second slot offered; "9:15" the same one.
    t = tracker({"horarios_ofrecidos": slots["horarios_ofrecidos"]})
    assert (
        ValidateCitaForm().validate_inicio_cita("2", d, t, {})["inicio_cita"]
        == f"{dia}T09:15:00-06:00"
    )
    assert ValidateCitaForm().validate_inicio_cita("9:15", d, t, {})["hora_cita"] == "09:15"
    assert ValidateCitaForm().validate_inicio_cita("17:00", d, t, {}) == {"inicio_cita": None}
    # Said on the phone.
    assert (
        ValidateCitaForm().validate_inicio_cita("a las nueve y cuarto", d, t, {})["hora_cita"]
        == "09:15"
    )
    assert ValidateCitaForm().validate_inicio_cita("las nueve", d, t, {})["hora_cita"] == "09:00"


@pytest.mark.asyncio
async def test_dia_sin_lugares_sugiere_el_siguiente():
    dia = date.today() + timedelta(days=10)
    BackendFalso({("GET", "/api/v1/oficinas/3/disponibilidad"): {"horarios": [
        {"inicio": f"{dia + timedelta(days=3)}T09:00:00-06:00", "hora": "09:00 hrs-09:15 hrs",
         "fecha_texto": "jueves 5 de marzo de 2026"}]}}).instalar()
    d = CollectingDispatcher()
    slots = await ValidateCitaForm().validate_fecha(
        dia.isoformat(), d, tracker({"oficina": "3"}), {}
    )
    assert slots == {"fecha": None}
    assert mensaje(d, "utter_sin_horarios")["siguiente"] == "jueves 5 de marzo de 2026"


def _cita_lista():
    return {
        "token": "tok",
        "oficina": "3",
        "oficina_nombre": "Delegación Jalisco",
        "inicio_cita": "2026-03-10T09:00:00-06:00",
        "confirmar_cita": True,
    }


@pytest.mark.asyncio
async def test_agendar_envia_la_hoja_como_adjunto_en_web():
    backend = BackendFalso(
        {
            ("POST", "/api/v1/citas"): {
                "clave": "AB12CD",
                "estatus": "AGENDADA",
                "fecha_texto": "martes 10 de marzo de 2026",
                "hora": "09:00 hrs-09:15 hrs",
                "oficina": {"nombre": "Delegación Jalisco"},
            },
            ("POST", "/api/v1/citas/AB12CD/enlace"): {
                "url": "http://b/api/v1/archivos/firma",
                "expira_en": "x",
            },
        }
    ).instalar()
    d = CollectingDispatcher()
    eventos = await ActionAgendarCita().run(d, tracker(_cita_lista(), canal="socketio"), {})
    assert backend.cuerpo(0) == {
        "oficina_id": 3,
        "inicio": "2026-03-10T09:00:00-06:00",
        "origen": "web",
    }
    assert mensaje(d, "utter_cita_agendada")["clave"] == "AB12CD"
    assert mensaje(d, "utter_enlace_hoja_cita")["url"] == "http://b/api/v1/archivos/firma"
    assert any(m.get("attachment") == "http://b/api/v1/archivos/firma" for m in d.messages)
    assert all(v is None for v in slots_de(eventos).values())


@pytest.mark.asyncio
async def test_agendar_por_telefono_no_dicta_url():
    backend = BackendFalso(
        {("POST", "/api/v1/citas"): {"clave": "AB12CD", "estatus": "AGENDADA"}}
    ).instalar()
    d = CollectingDispatcher()
    await ActionAgendarCita().run(d, tracker(_cita_lista(), canal="ivr"), {})
    assert mensaje(d, "utter_cita_agendada")["clave_deletreada"] == "A B 1 2 C D"
    assert "utter_hoja_por_mensaje" in respuestas(d)
    assert not any(m.get("attachment") for m in d.messages)
    assert len(backend.peticiones) == 1


@pytest.mark.asyncio
async def test_horario_ya_ocupado():
    BackendFalso(
        {("POST", "/api/v1/citas"): error(409, "Ese horario ya se ocupó; elija otro.")}
    ).instalar()
    d = CollectingDispatcher()
    await ActionAgendarCita().run(d, tracker(_cita_lista()), {})
    assert mensaje(d, "utter_cita_no_agendada")["detalle"] == "Ese horario ya se ocupó; elija otro."


@pytest.mark.asyncio
async def test_bitacora_y_reimpresion_de_la_cita_agendada():
    filas = [
        {
            "clave": "CC3QZ8",
            "estatus": "AGENDADA",
            "fecha_cita": "30/01/2024",
            "hora": "13:30 hrs-13:45 hrs",
            "registrado_en": "24/01/2024 15:53:49",
        },
        {
            "clave": "Z8YP3Q",
            "estatus": "CANCELADA",
            "fecha_cita": "30/01/2024",
            "hora": "13:15 hrs-13:30 hrs",
            "registrado_en": "24/01/2024 15:49:45",
        },
    ]
    BackendFalso(
        {
            ("GET", "/api/v1/citas"): filas,
            ("POST", "/api/v1/citas/CC3QZ8/enlace"): {"url": "http://b/hoja", "expira_en": "x"},
        }
    ).instalar()
    d = CollectingDispatcher()
    await ActionConsultarCitas().run(d, tracker({"token": "tok"}), {})
    assert respuestas(d) == [
        "utter_citas_encabezado",
        "utter_cita_renglon",
        "utter_cita_renglon",
        "utter_citas_opciones",
    ]
    assert [m.get("estatus") for m in d.messages[1:3]] == ["AGENDADA", "CANCELADA"]
    d2 = CollectingDispatcher()
    await ActionReimprimirCita().run(d2, tracker({"token": "tok"}, canal="whatsapp"), {})
    assert mensaje(d2, "utter_enlace_hoja_cita")["clave"] == "CC3QZ8"
    assert any(m.get("attachment") == "http://b/hoja" for m in d2.messages)


@pytest.mark.asyncio
async def test_bitacora_con_backend_caido():
    BackendFalso({("GET", "/api/v1/citas"): caido}).instalar()
    bc.PAUSA_REINTENTO, pausa = 0, bc.PAUSA_REINTENTO
    try:
        d = CollectingDispatcher()
        assert await ActionConsultarCitas().run(d, tracker({"token": "tok"}), {}) == []
    finally:
        bc.PAUSA_REINTENTO = pausa
    assert respuestas(d) == ["utter_servicio_no_disponible"]


def test_fechas_de_cita_sin_anio_y_relativas():
    from bot.actions.lectura import hoy_mx, leer_fecha

    hoy = hoy_mx()  # citas are on Mexico City's calendar, not the machine's (UTC)
    assert leer_fecha("mañana") == hoy + timedelta(days=1)
    ayer = hoy - timedelta(days=1)
    texto = f"""{ayer.day} de {['enero', 'febrero', 'marzo', 'abril', 'mayo', 'junio', 'julio',
                                'agosto', 'septiembre', 'octubre', 'noviembre',
                                'diciembre'][ayer.month - 1]}"""
    assert leer_fecha(texto) == date(ayer.year + 1, ayer.month, ayer.day)
    assert leer_fecha("31/02/2026") is None


# ------------------------------------------- lo dicho al pedir la cita
DOMINIO_CITA = {
    "forms": {
        "cita_form": {"required_slots": ["oficina", "fecha", "inicio_cita", "confirmar_cita"]}
    },
    "slots": {s: {"mappings": []} for s in ("oficina", "fecha", "inicio_cita", "confirmar_cita")},
}


@pytest.mark.asyncio
async def test_cita_en_puebla_el_jueves_llena_oficina_y_fecha_y_ofrece_horarios():
    """At activation Rasa hands over what "cita en Puebla el jueves" said; the
    form validates both (office first: the day's slots depend on it)."""
    from bot.actions.lectura import hoy_mx, leer_fecha

    jueves = leer_fecha("jueves", hoy=hoy_mx())
    backend = BackendFalso(
        {
            ("GET", "/api/v1/oficinas"): [
                {"id": 7, "nombre": "Delegación Puebla", "ciudad": "Puebla"}
            ],
            ("GET", "/api/v1/oficinas/7/disponibilidad"): {
                "horarios": [
                    {
                        "inicio": f"{jueves}T10:00:00-06:00",
                        "hora": "10:00 hrs-10:15 hrs",
                        "fecha_texto": "el jueves",
                    }
                ]
            },
        }
    ).instalar()
    t = tracker({"token": "tok", "oficina": "Puebla", "fecha": "el jueves"}, intent="agendar_cita",
                texto="quiero una cita en Puebla el jueves",
                eventos_extra=[{"event": "slot", "name": "oficina", "value": "Puebla"},
                               {"event": "slot", "name": "fecha", "value": "el jueves"}])
    d = CollectingDispatcher()
    slots = slots_de(await ValidateCitaForm().run(d, t, DOMINIO_CITA))
    assert (slots["oficina"], slots["oficina_nombre"], slots["fecha"]) == (
        "7",
        "Delegación Puebla",
        jueves.isoformat(),
    )
    assert [h["hora"] for h in slots["horarios_ofrecidos"]] == ["10:00"]
    assert respuestas(d) == []
    assert backend.peticiones[0].url.params["q"] == "Puebla"
    assert backend.peticiones[1].url.params["desde"] == jueves.isoformat()


@pytest.mark.asyncio
async def test_fecha_dicha_con_una_oficina_que_no_existe_se_pide_despues():
    BackendFalso({("GET", "/api/v1/oficinas"): []}).instalar()
    t = tracker({"token": "tok", "oficina": "Atlantis", "fecha": "jueves"}, intent="agendar_cita",
                eventos_extra=[{"event": "slot", "name": "oficina", "value": "Atlantis"},
                               {"event": "slot", "name": "fecha", "value": "jueves"}])
    d = CollectingDispatcher()
    slots = slots_de(await ValidateCitaForm().run(d, t, DOMINIO_CITA))
    assert slots == {"oficina": None, "fecha": None}
    assert respuestas(d) == ["utter_oficina_no_valida"]  # one complaint, about the office


@pytest.mark.asyncio
@pytest.mark.parametrize("texto", ["jueves", "el próximo martes", "primero de junio", "martes 18"])
async def test_fechas_dichas_como_se_dicen(texto):
    from bot.actions.lectura import hoy_mx, leer_fecha

    dia = leer_fecha(texto, hoy=hoy_mx())
    assert dia is not None and dia >= hoy_mx()
    backend = BackendFalso(
        {
            ("GET", "/api/v1/oficinas/3/disponibilidad"): {
                "horarios": [
                    {
                        "inicio": f"{dia}T09:00:00-06:00",
                        "hora": "09:00 hrs-09:15 hrs",
                        "fecha_texto": "ese día",
                    }
                ]
            }
        }
    ).instalar()
    slots = await ValidateCitaForm().validate_fecha(
        texto, CollectingDispatcher(), tracker({"oficina": "3"}), {}
    )
    assert slots["fecha"] == dia.isoformat()
    assert backend.peticiones[0].url.params["desde"] == dia.isoformat()


def test_fecha_de_nacimiento_dicha_por_telefono():
    d = CollectingDispatcher()
    v = ValidateCancelacionForm()
    assert v.validate_fecha_nacimiento(
        "veintisiete de abril del cincuenta y seis", d, tracker(), {}
    ) == {"fecha_nacimiento": "1956-04-27"}
    assert v.validate_fecha_nacimiento("27 de abril", d, tracker(), {}) == {
        "fecha_nacimiento": None
    }
    assert respuestas(d) == ["utter_fecha_nacimiento_no_valida"]


@pytest.mark.asyncio
async def test_al_cancelar_por_telefono_se_deletrea_la_clave():
    BackendFalso({CANCELAR: {"clave": "CC3QZ8", "estatus": "CANCELADA"}}).instalar()
    d = CollectingDispatcher()
    await ActionCancelarCita().run(d, tracker(_confirmada(), canal="ivr"), {})
    assert mensaje(d, "utter_cita_cancelada")["clave_deletreada"] == "C C 3 Q Z 8"


@pytest.mark.asyncio
async def test_la_bitacora_deletrea_cada_clave():
    BackendFalso(
        {("GET", "/api/v1/citas"): [{"clave": "CC3QZ8", "estatus": "AGENDADA"}]}
    ).instalar()
    d = CollectingDispatcher()
    await ActionConsultarCitas().run(d, tracker({"token": "tok"}, canal="ivr"), {})
    assert mensaje(d, "utter_cita_renglon")["clave_deletreada"] == "C C 3 Q Z 8"


# ------------------------------------------- a turn the caller gave up on
@pytest.mark.asyncio
async def test_cancelar_lleva_la_clave_y_el_plazo_del_turno_y_el_origen_de_la_conversacion():
    """The IVR gives each turn a key and the moment it stops waiting; the backend
    cancels at most once per key and never after that moment. Failed attempts
    are counted per conversation, not for the whole action server."""
    from bot.actions.backend_client import origen_de_conversacion

    backend = BackendFalso({CANCELAR: {"clave": "CC3QZ8", "estatus": "CANCELADA"}}).instalar()
    t = tracker(_confirmada(), canal="ivr")
    t.latest_message["metadata"] = {
        "canal": "telefono",
        "idempotencia": "ivr-abc123",
        "vence": 1790000000.5,
    }
    await ActionCancelarCita().run(CollectingDispatcher(), t, {})
    cabeceras = backend.peticiones[0].headers
    assert cabeceras["Idempotency-Key"] == "ivr-abc123"
    assert cabeceras["X-Turno-Vence"] == "1790000000.500"
    assert cabeceras["X-Forwarded-For"] == origen_de_conversacion("prueba") != "prueba"
    assert cabeceras["X-Forwarded-For"].startswith("conv-")


@pytest.mark.asyncio
async def test_un_turno_vencido_no_cancela_y_se_dice_por_que():
    detalle = "Su llamada ya no esperaba esta respuesta: no se hizo ningún cambio."
    BackendFalso(
        {CANCELAR: httpx.Response(409, json={"detail": detalle, "codigo": "turno_vencido"})}
    ).instalar()
    d = CollectingDispatcher()
    t = tracker(_confirmada(), canal="ivr")
    t.latest_message["metadata"] = {"idempotencia": "ivr-viejo", "vence": 1.0}
    await ActionCancelarCita().run(d, t, {})
    # Said as the backend says it, without the 36 h explanation that does not apply.
    assert (
        respuestas(d) == ["utter_aviso_backend"]
        and mensaje(d, "utter_aviso_backend")["detalle"] == detalle
    )


@pytest.mark.parametrize("dicho,respuesta", [
    ("¿Dónde viene la clave?", "utter_donde_esta_la_clave"),
    ("no la encuentro", "utter_donde_esta_la_clave"),
    ("ABC", "utter_clave_no_valida"),
])
def test_preguntar_por_la_clave_no_es_una_clave_mal_escrita(dicho, respuesta):
    from bot.actions.cancelacion import ValidateCancelacionForm

    d = CollectingDispatcher()
    assert ValidateCancelacionForm().validate_clave_cita(dicho, d, tracker(), {}) == {
        "clave_cita": None, "clave_deletreada": None}
    assert respuestas(d) == [respuesta]
