"""The phone line as a graph, explored with the real engine and real TwiML.

Proves: every node of menu.yml is reachable by keys from the root; every
Gather (menus, the bot's questions, buttons, free conversation, the apology)
has a retry (Redirect on silence to the same state, one attempt further) and
exits (0 / "asesor" to a human, * back to a menu, silence ends the call); and
no path loops forever: with the turn left out of the state and max_turnos out
of reach, the inputs that are no choice of the caller (silence, a wrong key,
nonsense, the assistant failing) form no cycle and end the call on their own.
The turn cap is only a safety net for a caller who keeps choosing.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections import deque
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import yaml
from fastapi.testclient import TestClient

from ivr.llamada import Llamada
from ivr.main import crear_app
from ivr.motor import (
    MENU_PATH,
    Asesor,
    Despedir,
    Estado,
    Iniciar,
    Interpretar,
    Menu,
    Mostrar,
    Motor,
    cargar_menu,
)
from ivr.rasa import ClienteRasa
from ivr.registro import Registro
from ivr.settings import IVRSettings
from tests.ivr.conftest import PUBLIC, RASA_TOKEN, TOKEN, firmar, query, respuesta_bot

MENU = cargar_menu()
TECLAS = [str(d) for d in range(10)] + ["*", "#"]
HABLADO = ["", "asesor", "regresar", "repetir", "citas", "opción dos", "algo que nadie entiende"]


def _motor(max_turnos: int = 60) -> Motor:
    return Motor(MENU, reintentos=2, max_turnos=max_turnos)


def _siguientes(motor: Motor, estado: Estado):
    for tecla in TECLAS:
        yield ("tecla", tecla), motor.paso(estado, tecla, "")
    for frase in HABLADO:
        decision = motor.paso(estado, "", frase)
        if isinstance(decision, Interpretar):  # Rasa may understand anything or nothing
            for nodo in MENU.nodos.values():
                if nodo.intent:
                    yield (
                        ("voz", frase, nodo.intent),
                        motor.tras_interpretar(decision.estado, frase, nodo.intent, 0.9),
                    )
            decision = motor.tras_interpretar(decision.estado, frase, "nlu_fallback", 0.2)
        yield ("voz", frase), decision


def test_cada_nodo_es_alcanzable_con_teclas_desde_la_raiz():
    motor = _motor()
    vistos = {MENU.raiz}
    cola = deque([Estado(MENU.raiz)])
    while cola:
        estado = cola.popleft()
        for tecla in TECLAS:
            d = motor.paso(estado, tecla)
            destino = (
                d.estado.nodo
                if isinstance(d, Mostrar)
                else d.hoja.id
                if isinstance(d, Iniciar)
                else None
            )
            if destino and destino not in vistos:
                vistos.add(destino)
                if isinstance(d, Mostrar):
                    cola.append(Estado(destino))
    assert vistos == set(MENU.nodos)


def test_cada_hoja_inicia_un_intent_o_una_pregunta_y_el_contrato_de_teclas():
    assert MENU.nodos["principal"].opciones["5"] == "capp"
    esperado = {
        "1": "citas",
        "2": "consultar_saldo",
        "3": "simular_prestamo",
        "4": "generar_fopi",
        "5": "regularizar_pagos",
        "7": "registro_oficina_virtual",
    }
    for tecla, objetivo in esperado.items():
        hijo = MENU.nodos[MENU.nodos["capp"].opciones[tecla]]
        assert (hijo.intent or hijo.id) == objetivo
    citas = MENU.nodos["citas"].opciones
    assert [MENU.nodos[citas[t]].intent for t in "123"] == [
        "cancelar_cita",
        "consultar_citas",
        "reimprimir_cita",
    ]
    for nodo in MENU.nodos.values():
        assert nodo.es_hoja == (bool(nodo.intent) or bool(nodo.pregunta))


def test_ningun_camino_es_infinito_y_todo_estado_tiene_salida():
    """Explore every menu state the engine can produce, *without* the turn
    (so the turn cap plays no part: max_turnos is set out of reach). Every
    input leads to a menu state or an end (leaf / asesor / goodbye); the
    inputs that are no choice of the caller (silence, a wrong key, what nobody
    understands) never form a cycle, so they end the call on their own."""
    motor = _motor(max_turnos=500)
    inicio = Estado(MENU.raiz)
    aristas: dict[Estado, list[tuple[tuple, Estado | str]]] = {}
    cola = deque([inicio])
    while cola:
        estado = cola.popleft()
        if estado in aristas:
            continue
        aristas[estado] = []
        for entrada, d in _siguientes(motor, estado):
            if isinstance(d, Mostrar):
                assert d.estado.turno == estado.turno + 1, entrada  # progress on every input
                assert d.estado.intento <= motor.reintentos + 1
                destino: Estado | str = Estado(d.estado.nodo, d.estado.intento)  # the turn left out
                cola.append(destino)
            else:
                assert isinstance(d, Iniciar | Asesor | Despedir), (estado, entrada, d)
                destino = type(d).__name__
            aristas[estado].append((entrada, destino))
    finales = {dest for salidas in aristas.values() for _, dest in salidas if isinstance(dest, str)}
    assert finales == {"Iniciar", "Asesor", "Despedir"}
    assert {e.nodo for e in aristas} == {n for n, v in MENU.nodos.items() if v.opciones}

    def sin_avance(entrada: tuple) -> bool:
        if entrada[0] == "tecla":
            return entrada[1] == "#" or entrada[1] not in "0*9123456789"
        return entrada[1] in {"", "algo que nadie entiende"} and len(entrada) == 2

    # Each menu's invalid keys are no progress too.
    def invalida(estado: Estado, entrada: tuple) -> bool:
        return (
            entrada[0] == "tecla"
            and entrada[1] not in MENU.nodo(estado.nodo).opciones
            and entrada[1] not in "0*9"
        )

    grafo = {
        e: [
            d
            for entrada, d in salidas
            if isinstance(d, Estado) and (sin_avance(entrada) or invalida(e, entrada))
        ]
        for e, salidas in aristas.items()
    }
    assert _sin_ciclos(grafo)
    # and the longest such path is short: re-prompts, the asesor offer, goodbye
    assert _camino_mas_largo(grafo) <= motor.reintentos + 1


def _sin_ciclos(grafo: dict) -> bool:
    blanco, gris, negro = 0, 1, 2
    color = dict.fromkeys(grafo, blanco)

    def visitar(nodo) -> bool:
        color[nodo] = gris
        for siguiente in grafo.get(nodo, []):
            if color.get(siguiente, blanco) == gris:
                return False
            if color.get(siguiente, blanco) == blanco and not visitar(siguiente):
                return False
        color[nodo] = negro
        return True

    return all(visitar(n) for n in grafo if color[n] == blanco)


def _camino_mas_largo(grafo: dict) -> int:
    memo: dict = {}

    def largo(nodo) -> int:
        if nodo not in memo:
            memo[nodo] = max((1 + largo(s) for s in grafo.get(nodo, [])), default=0)
        return memo[nodo]

    return max((largo(n) for n in grafo), default=0)


@pytest.mark.parametrize("nodo", sorted(n for n, v in MENU.nodos.items() if v.opciones))
@pytest.mark.parametrize("intento", [0, 1, 2, 3])
def test_silencio_termina_en_a_lo_sumo_cuatro_pasos(nodo, intento):
    motor = _motor()
    d = Mostrar(Estado(nodo, intento))
    for _ in range(motor.reintentos + 2):
        d = motor.paso(d.estado, "", "")
        if not isinstance(d, Mostrar):
            break
    assert isinstance(d, Despedir) and d.motivo == "sin_respuesta"


@pytest.mark.parametrize("nodo", sorted(n for n, v in MENU.nodos.items() if v.opciones))
@pytest.mark.parametrize("intento", [0, 1, 2, 3])
def test_cada_gather_renderizado_tiene_reintento_y_salidas(nodo, intento, tmp_path):
    settings = IVRSettings(_env_file=None, twilio_auth_token="t", public_base_url="https://ivr.test")
    llamada = Llamada(
        settings=settings,
        motor=_motor(),
        rasa=ClienteRasa("http://x", timeout=1),
        registro=Registro(tmp_path / "r.jsonl"),
    )
    motor = llamada.motor
    decision = Mostrar(Estado(nodo, intento), ofrecer_asesor=intento == motor.reintentos + 1)
    raiz = ET.fromstring(str(llamada._mostrar(decision)))
    gather, redirect = raiz[0], raiz[1]
    assert (gather.tag, redirect.tag) == ("Gather", "Redirect")
    assert redirect.text == gather.get("action")  # silence retries the same state
    q = {k: v[0] for k, v in parse_qs(urlsplit(gather.get("action")).query).items()}
    assert q["nodo"] == nodo and int(q["i"]) == intento
    dicho = " ".join(gather.find("Say").itertext())
    assert "asesor, marque 0" in dicho.replace("cero", "0")  # always an exit to a human
    if not decision.ofrecer_asesor:
        for tecla in MENU.nodos[nodo].opciones:
            assert (
                f"marque {tecla}" in dicho
                or f"""marque {['cero', 'uno', 'dos', 'tres', 'cuatro', 'cinco', 'seis', 'siete',
                               'ocho', 'nueve'][int(tecla)]}"""
                in dicho
            )


def test_un_menu_mal_formado_se_rechaza(tmp_path):
    datos = yaml.safe_load(MENU_PATH.read_text(encoding="utf-8"))
    datos["nodos"]["citas"]["opciones"]["9"] = "cancelar_cita"  # 9 is reserved (repetir)
    with pytest.raises(ValueError, match="reservada"):
        Menu.model_validate(datos)
    datos = yaml.safe_load(MENU_PATH.read_text(encoding="utf-8"))
    datos["nodos"]["citas"]["opciones"]["5"] = "no_existe"
    with pytest.raises(ValueError, match="no existe"):
        Menu.model_validate(datos)


# ====================================================================== the whole call
# The same proof on the real app and real TwiML, conversation and apology
# Gathers included: every document the IVR answers is explored from the
# entry, with a scripted bot behind the Rasa channel that asks for every kind
# of slot, offers buttons, rejects wrong answers, does not understand
# nonsense, and fails (HTTP 500) on one phrase. The turn is left out of the
# state and max_turnos is out of reach, so termination cannot come from the cap.

P1_CURP = (
    "hache e ge ge cincuenta y seis cero cuatro veintisiete eme ve de vaca zeta erre erre ele "
    "cero cuatro"
)
# What the scripted bot asks for after each leaf, and the answer it accepts for each slot.
PIDE = {
    "cancelar_cita": "clave_cita",
    "consultar_saldo": "curp",
    "simular_prestamo": "sueldo",
    "generar_fopi": "monto",
}
SIGUE = {
    "clave_cita": "fecha_nacimiento",
    "fecha_nacimiento": "botones",
    "curp": "nip",
    "nip": None,
    "sueldo": "plazo",
    "plazo": None,
    "monto": None,
}
RESPUESTA_VALIDA = {  # caller input -> what the bot receives once normalised
    "clave_cita": ("say:ce ce tres cu zeta ocho", "CC3QZ8"),
    "fecha_nacimiento": ("27041956", "27041956"),
    "curp": ("say:" + P1_CURP, "HEGG560427MVZRRL04"),
    "nip": ("4821", "4821"),
    "sueldo": ("say:quince mil pesos", "15000"),
    "plazo": ("say:veinticuatro", "24"),
    "monto": ("say:mil pesos", "1000"),
}
FALLA = "provoca una falla"
SIN_AVANCE = ["-", "#", "say:patito de hule azul", f"say:{FALLA}"]
ELECCIONES = [
    "0",
    "1",
    "2",
    "3",
    "4",
    "5",
    "6",
    "7",
    "9",
    "*",
    "say:asesor",
    "say:regresar",
    "say:repetir",
    "say:quiero cancelar mi cita",
    "say:gracias",
]
FINALES = {"Hangup", "Dial", "Enqueue"}


class BotGuionado:
    """Stands in for bot/channels/ivr.py + Rasa; remembers each CallSid's last answer."""

    def __init__(self) -> None:
        self.ultimas: dict[str, dict] = {}

    def _respuesta(self, texto: str, anterior: dict) -> dict | None:
        base = respuesta_bot(intent=None)
        if FALLA in texto:
            return None
        if texto.startswith("/"):
            intent = texto[1:].split("{", 1)[0]
            if intent == "detener":
                return base | {"mensajes": ["De acuerdo."], "intent": "detener"}
            if intent in PIDE:
                return base | {
                    "mensajes": [f"Dígame {PIDE[intent]}."],
                    "requested_slot": PIDE[intent],
                    "active_loop": "f",
                }
            return base | {"mensajes": ["Aquí tiene la información. ¿Algo más?"], "intent": intent}
        slot = anterior.get("requested_slot")
        if slot:
            if texto == RESPUESTA_VALIDA[slot][1]:
                siguiente = SIGUE[slot]
                if siguiente == "botones":
                    return base | {
                        "mensajes": ["¿Confirma?"],
                        "botones": [
                            {"title": "Sí", "payload": "/afirmar"},
                            {"title": "No", "payload": "/negar"},
                        ],
                    }
                if siguiente:
                    return base | {
                        "mensajes": [f"Dígame {siguiente}."],
                        "requested_slot": siguiente,
                        "active_loop": "f",
                    }
                return base | {"mensajes": ["Listo. ¿Algo más?"], "intent": "informar"}
            return base | {
                "mensajes": [f"No es válido. Dígame {slot}."],
                "requested_slot": slot,
                "active_loop": "f",
            }
        if anterior.get("botones") and texto in {"1", "2"}:
            return base | {"mensajes": ["Hecho. ¿Algo más?"], "intent": "afirmar"}
        if texto == "gracias":
            return base | {"mensajes": ["Con gusto. ¿Algo más?"], "intent": "agradecer"}
        if texto == "quiero cancelar mi cita":
            return base | {
                "mensajes": ["Dígame clave_cita."],
                "requested_slot": "clave_cita",
                "active_loop": "f",
                "intent": "cancelar_cita",
            }
        return base | {"mensajes": ["Disculpe, no le entendí."], "intent": "nlu_fallback"}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.headers.get("Authorization") != f"Bearer {RASA_TOKEN}":
            return httpx.Response(403, json={"detail": "token"})
        cuerpo = json.loads(request.content)
        ruta = request.url.path
        if ruta.endswith("/interpretar"):
            if FALLA in cuerpo["message"]:
                return httpx.Response(500, json={"detail": "falla"})
            if cuerpo["message"] == "quiero cancelar mi cita":
                return httpx.Response(
                    200, json={"intent": "cancelar_cita", "confidence": 0.95, "entities": []}
                )
            return httpx.Response(
                200, json={"intent": "nlu_fallback", "confidence": 0.2, "entities": []}
            )
        sender = cuerpo["sender"]
        if ruta.endswith("/repetir"):
            anterior = self.ultimas.get(sender)
            return (
                httpx.Response(200, json=anterior)
                if anterior
                else httpx.Response(404, json={"detail": "nada"})
            )
        respuesta = self._respuesta(cuerpo["message"], self.ultimas.get(sender, {}))
        if respuesta is None:
            return httpx.Response(500, json={"detail": "falla"})
        self.ultimas[sender] = respuesta
        return httpx.Response(200, json=respuesta)


def _clave(raiz: ET.Element) -> tuple:
    """A state: the Gather's action without the turn, or how the call ended."""
    verbos = [v.tag for v in raiz]
    if verbos and verbos[-1] in FINALES:
        return ("fin", verbos[-1])
    assert len(verbos) >= 2 and verbos[-2:] == ["Gather", "Redirect"], ET.tostring(raiz)
    gather, redirect = raiz[-2], raiz[-1]
    assert redirect.text == gather.get("action"), "silence must retry the same state"
    accion = gather.get("action")
    q = {k: v for k, v in query(accion).items() if k != "n"}
    return (urlsplit(accion).path, tuple(sorted(q.items())))


@pytest.fixture(scope="module")
def llamadas(tmp_path_factory):
    bot = BotGuionado()
    settings = IVRSettings(
        _env_file=None, twilio_auth_token=TOKEN, public_base_url=PUBLIC, rasa_token=RASA_TOKEN,
        ivr_rasa_timeout=1, ivr_max_turnos=500, ivr_asesor_numero="+525555550000",
        ivr_registro_path=str(tmp_path_factory.mktemp("grafo") / "r.jsonl"),
    )
    rasa = ClienteRasa(
        "http://rasa.test", timeout=1, token=RASA_TOKEN, transport=httpx.MockTransport(bot)
    )
    with TestClient(crear_app(settings, rasa=rasa), base_url="http://testserver") as client:
        yield client, bot, settings


def _explorar(client: TestClient, bot: BotGuionado):
    """BFS over states. For each edge the bot's memory of the call is the one
    that produced the state, under a fresh CallSid (so edges do not interfere)."""
    contador = iter(range(10**9))

    def post(url: str, params: dict) -> ET.Element:
        partes = urlsplit(url)
        ruta = partes.path + (f"?{partes.query}" if partes.query else "")
        r = client.post(ruta, data=params, headers={"X-Twilio-Signature": firmar(ruta, params)})
        assert r.status_code == 200, (ruta, params, r.text)
        return ET.fromstring(r.content)

    sid = f"CA{next(contador)}"
    raiz = post(PUBLIC + "/ivr/voice", {"CallSid": sid})
    inicio = _clave(raiz)
    datos = {inicio: (raiz, bot.ultimas.get(sid))}
    aristas: dict[tuple, list[tuple[str, tuple]]] = {}
    cola = deque([inicio])
    while cola:
        estado = cola.popleft()
        if estado in aristas or estado[0] == "fin":
            continue
        raiz, memoria = datos[estado]
        accion = raiz[-2].get("action")
        slot = dict(estado[1]).get("slot")
        entradas = (
            SIN_AVANCE
            + ELECCIONES
            + ([RESPUESTA_VALIDA[slot][0]] if slot in RESPUESTA_VALIDA else [])
        )
        aristas[estado] = []
        for entrada in dict.fromkeys(entradas):
            sid = f"CA{next(contador)}"
            if memoria is not None:
                bot.ultimas[sid] = memoria
            params = {"CallSid": sid}
            if entrada.startswith("say:"):
                params["SpeechResult"] = entrada[4:]
            elif entrada != "-":
                params["Digits"] = entrada
            siguiente = post(accion, params)
            destino = _clave(siguiente)
            if destino not in datos:
                datos[destino] = (siguiente, bot.ultimas.get(sid, memoria))
                cola.append(destino)
            aristas[estado].append((entrada, destino))
    return aristas, datos


def test_toda_la_llamada_termina_sin_depender_del_tope_de_turnos(llamadas):
    client, bot, settings = llamadas
    aristas, datos = _explorar(client, bot)
    estados = [e for e in aristas]
    # What was explored: every menu, every slot the bot asks for, buttons, free talk, the apology
    menus = {dict(e[1])["nodo"] for e in estados if e[0] == "/ivr/menu"}
    assert menus == {n for n, v in MENU.nodos.items() if v.opciones}
    conversaciones = [dict(e[1]) for e in estados if e[0] == "/ivr/conversacion"]
    assert {c.get("slot") for c in conversaciones} >= set(RESPUESTA_VALIDA) | {None}
    assert any(c.get("b") not in (None, "0") for c in conversaciones)  # buttons offered
    disculpas = [e for e in estados if "Una disculpa" in " ".join(datos[e][0].itertext())]
    assert disculpas and all(e[0] == "/ivr/conversacion" for e in disculpas)
    ofertas = [e for e in estados if int(dict(e[1])["i"]) == settings.ivr_reintentos + 1]
    assert {e[0] for e in ofertas} == {"/ivr/menu", "/ivr/conversacion"}

    for estado, salidas in aristas.items():
        destino = dict(salidas)
        # a way to a human from every Gather, at once
        assert destino["0"] in {("fin", "Dial"), ("fin", "Enqueue")}, estado
        assert destino["say:asesor"] in {("fin", "Dial"), ("fin", "Enqueue")}, estado
        # a way back: `*` leads to a menu (the root's "back" is the root itself)
        assert destino["*"][0] == "/ivr/menu", estado
        if estado[0] == "/ivr/conversacion":
            assert dict(destino["*"][1])["nodo"] == dict(estado[1])["desde"]
        # a retry: silence stays at the same prompt, one attempt further, or ends the call
        silencio = destino["-"]
        if silencio[0] != "fin":
            assert silencio[0] == estado[0]
            assert int(dict(silencio[1])["i"]) == int(dict(estado[1])["i"]) + 1
        else:
            assert silencio == ("fin", "Hangup")

    # No cycle made only of inputs that are no choice of the caller (silence, '#',
    # nonsense, the assistant failing): on their own they always end the call.
    grafo = {
        e: [d for entrada, d in salidas if entrada in SIN_AVANCE and d[0] != "fin"]
        for e, salidas in aristas.items()
    }
    assert _sin_ciclos(grafo)
    # re-prompts up to the asesor offer, at most one apology, then the end
    assert _camino_mas_largo(grafo) <= settings.ivr_reintentos + 2
    # ... and the state space itself is finite without the turn: the exploration ended
    assert len(aristas) < 2000


@pytest.mark.parametrize(
    "ruta", ["/ivr/menu?nodo=capp&i=0", "/ivr/conversacion?desde=capp&slot=nip&i=0"]
)
def test_el_tope_de_turnos_es_solo_una_red_de_seguridad(llamadas, ruta):
    """For a caller who keeps choosing (e.g. 9, 9, 9...): past max_turnos, the asesor."""
    client, _, settings = llamadas
    ruta += f"&n={settings.ivr_max_turnos}"
    params = {"CallSid": "CA-tope", "Digits": "9"}
    r = client.post(ruta, data=params, headers={"X-Twilio-Signature": firmar(ruta, params)})
    assert ET.fromstring(r.content)[-1].tag == "Dial"
