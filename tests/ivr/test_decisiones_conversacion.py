"""The free-text turns (the bot has the call) as pure decisions: a table of
cases, state + what Twilio posted (or what the bot answered) -> decision."""

from __future__ import annotations

import pytest

from ivr.conversacion import (
    Conversacion,
    Disculpa,
    Enviar,
    EstadoConversacion,
    Preguntar,
    Regresar,
    Repetir,
    SinRespuesta,
    Turno,
)
from ivr.motor import Asesor, Despedir, Estado, cargar_menu
from ivr.rasa import RespuestaRasa

MENU = cargar_menu()
T = MENU.textos
CONV = Conversacion(MENU, reintentos=2, max_turnos=60)


def E(slot=None, intento=0, turno=0, botones=0) -> EstadoConversacion:  # noqa: N802
    return EstadoConversacion("citas", slot, intento, turno, botones)


ATRAS = Regresar(Estado("citas", 0, 1))

PASOS = [
    # (state, what Twilio posted, decision)
    ("asterisco", E(), Turno("*"), ATRAS),
    ("asterisco tras dígitos", E("nip"), Turno("12", tecla_final="*"), ATRAS),
    ("asterisco solo, al vacío", E("fecha_nacimiento"), Turno(tecla_final="*"), ATRAS),
    ("asterisco y más", E(), Turno("*5"), ATRAS),
    ("dice regresar", E("clave_cita"), Turno(voz="quiero regresar"), ATRAS),
    ("cero", E(), Turno("0"), Asesor("solicitado", 1)),
    ("cero solo en el NIP", E("nip"), Turno("0"), Asesor("solicitado", 1)),
    ("dice asesor", E("curp"), Turno(voz="con un asesor, por favor"), Asesor("solicitado", 1)),
    ("se despide", E(), Turno(voz="Adiós."), Despedir("caller_se_despidio", 1, (T.adios,))),
    ("nueve", E("curp", 1), Turno("9"), Repetir(E("curp", 1, 1))),
    ("dice repetir", E(), Turno(voz="repita por favor"), Repetir(E(turno=1))),
    ("nueve, última oportunidad", E("curp", 3), Turno("9"), Repetir(E("curp", 3, 1), "", True)),
    ("silencio", E("nip"), Turno(), Repetir(E("nip", 1, 1), T.aviso_silencio)),
    ("silencio, 2.º", E("nip", 1), Turno(), Repetir(E("nip", 2, 1), T.aviso_silencio)),
    ("silencio, 3.º", E("nip", 2), Turno(), Repetir(E("nip", 3, 1), T.aviso_silencio, True)),
    ("silencio, fin", E("nip", 3), Turno(), Despedir("sin_respuesta", 1, (T.adios_silencio,))),
    ("tecla en conversación libre", E(), Turno("5"), Repetir(E(None, 1, 1), T.aviso_invalido)),
    ("tecla donde se dicta", E("clave_cita"), Turno("5"),
     Repetir(E("clave_cita", 1, 1), T.aviso_solo_voz)),
    ("tecla = botón", E("clave_cita", botones=2), Turno("1"),
     Enviar(E("clave_cita", 0, 1, 2), "1", "dtmf")),
    ("botón sin slot", E(botones=3), Turno("3"), Enviar(E(None, 0, 1, 3), "3", "dtmf")),
    ("NIP por teclado", E("nip"), Turno("4821"), Enviar(E("nip", 0, 1), "4821", "dtmf")),
    ("fecha por teclado", E("fecha_nacimiento"), Turno("27041956"),
     Enviar(E("fecha_nacimiento", 0, 1), "27041956", "dtmf")),
    ("monto con gato", E("monto"), Turno("15000"), Enviar(E("monto", 0, 1), "15000", "dtmf")),
    ("clave dictada", E("clave_cita"), Turno(voz="ce ce tres cu zeta ocho"),
     Enviar(E("clave_cita", 0, 1), "CC3QZ8", "voz")),
    ("monto dicho", E("sueldo"), Turno(voz="quince mil pesos"),
     Enviar(E("sueldo", 0, 1), "15000", "voz")),
    ("no sabe la clave", E("clave_cita", 2), Turno(voz="no me acuerdo de la clave"),
     Enviar(E("clave_cita", 2, 1), "no me acuerdo de la clave", "voz")),
    ("pregunta libre", E(), Turno(voz="cuánto tardan en depositar"),
     Enviar(E(turno=1), "cuánto tardan en depositar", "voz")),
    ("teclas ganan a la voz", E("nip"), Turno("4821", voz="asesor"),
     Enviar(E("nip", 0, 1), "4821", "dtmf")),
    ("demasiados turnos", E(turno=60), Turno("0"), Asesor("demasiados_turnos", 61)),
    ("justo en el tope", E(turno=59), Turno("0"), Asesor("solicitado", 60)),
]


@pytest.mark.parametrize(
    ("estado", "turno", "esperada"), [p[1:] for p in PASOS], ids=[p[0] for p in PASOS]
)
def test_paso(estado, turno, esperada):
    assert CONV.paso(estado, turno) == esperada


def R(*mensajes, **campos) -> RespuestaRasa:  # noqa: N802
    return RespuestaRasa(mensajes=list(mensajes), **campos)


BOTON = {"title": "Sí", "payload": "/afirmar"}
RESPUESTAS = [
    # (state before, bot reply, answering the caller?, decision)
    ("transfiere", E("nip", turno=4), R("Le comunico.", accion="transferir"), True,
     Asesor("solicitado_al_bot", 4, (T.traslado,))),
    ("cuelga tras despedirse", E(turno=4), R("Hasta pronto.", accion="colgar"), True,
     Despedir("bot_se_despidio", 4)),
    ("cuelga sin decir nada", E(turno=4), R(accion="colgar"), True,
     Despedir("bot_se_despidio", 4, (T.adios,))),
    ("no dice nada", E("nip", 1, 4), R(), True, SinRespuesta(E("nip", 1, 4))),
    ("solo dice emoji", E(turno=4), R("🙂"), True, SinRespuesta(E(turno=4))),
    ("pide lo mismo", E("nip", 0, 4), R("Su NIP.", requested_slot="nip", active_loop="f"), True,
     Preguntar(E("nip", 1, 4))),
    ("pide lo mismo, 3.ª vez", E("nip", 2, 4), R("Su NIP.", requested_slot="nip"), True,
     Preguntar(E("nip", 3, 4), ofrecer_asesor=True)),
    ("pide lo mismo, fin", E("nip", 3, 4), R("Su NIP.", requested_slot="nip"), True,
     Despedir("sin_respuesta_valida", 4, (T.sin_continuar, T.adios))),
    ("avanza", E("curp", 2, 4), R("Su NIP.", requested_slot="nip", active_loop="f"), True,
     Preguntar(E("nip", 0, 4))),
    ("la hoja empieza pidiendo", E("nip", 2, 4), R("Su NIP.", requested_slot="nip"), False,
     Preguntar(E("nip", 0, 4))),
    ("no entendió, fuera de formulario", E(None, 1, 4), R("¿Perdón?", intent="nlu_fallback"), True,
     Preguntar(E(None, 2, 4))),
    ("no entendió, dentro de formulario", E("clave_cita", 1, 4),
     R("Listo.", intent="nlu_fallback"), True, Preguntar(E(None, 0, 4))),
    ("responde algo", E(None, 2, 4), R("Depositan en 5 días.", intent="preguntar_deposito"), True,
     Preguntar(E(None, 0, 4))),
    ("solo botones", E(turno=4), R(botones=[BOTON]), True, Preguntar(E(None, 0, 4, 1))),
    ("más botones que teclas", E(turno=4), R("Elija.", botones=[BOTON] * 10), True,
     Preguntar(E(None, 0, 4, 8))),
]


@pytest.mark.parametrize(
    ("antes", "respuesta", "contesto", "esperada"),
    [r[1:] for r in RESPUESTAS],
    ids=[r[0] for r in RESPUESTAS],
)
def test_tras_respuesta(antes, respuesta, contesto, esperada):
    assert CONV.tras_respuesta(antes, respuesta, contesto=contesto) == esperada


@pytest.mark.parametrize(
    ("antes", "esperada"),
    [
        (E("nip", 0, 4, 2), Disculpa(E("nip", 3, 4, 0))),
        (E("nip", 2, 4), Disculpa(E("nip", 3, 4))),
        (E("nip", 3, 4), Asesor("falla_repetida", 4, (f"{T.disculpa} {T.traslado}",))),
    ],
)
def test_tras_falla(antes, esperada):
    assert CONV.tras_falla(antes) == esperada


def test_con_otros_reintentos_cambia_la_ultima_oportunidad():
    uno = Conversacion(MENU, reintentos=1, max_turnos=60)
    assert uno.paso(E("nip", 1), Turno()) == Repetir(E("nip", 2, 1), T.aviso_silencio, True)
    assert uno.paso(E("nip", 2), Turno()) == Despedir("sin_respuesta", 1, (T.adios_silencio,))
    assert isinstance(uno.tras_falla(E("nip", 2)), Asesor)


def test_el_estado_se_lee_de_la_url_y_el_formulario_sin_romperse():
    estado = EstadoConversacion.de_query({"slot": "nip", "i": "x", "n": "-3", "b": "2"}, "capp")
    assert estado == EstadoConversacion("capp", "nip", 0, 0, 2)
    ida = E("curp", 2, 17, 3)
    vuelta = {k: str(v) for k, v in ida.query().items() if v is not None}
    assert EstadoConversacion.de_query(vuelta, "capp") == ida
    assert EstadoConversacion.de_query({}, "capp") == EstadoConversacion("capp")
    turno = Turno.de_formulario({"Digits": " 4821 ", "SpeechResult": "  ", "FinishedOnKey": "#"})
    assert turno == Turno("4821", "", "#")
