"""The phone tree as a graph, explored with the real engine and real TwiML.

Proves: every node of menu.yml is reachable by keys from the root; every state
answers with a Gather that has a retry (Redirect on silence) and exits (0 to an
asesor, silence ends the call); and no path of inputs loops forever.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import deque
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from ivr.llamada import Llamada
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
                    yield ("voz", frase, nodo.intent), motor.tras_interpretar(decision.estado, frase, nodo.intent, 0.9)
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
            destino = d.estado.nodo if isinstance(d, Mostrar) else d.hoja.id if isinstance(d, Iniciar) else None
            if destino and destino not in vistos:
                vistos.add(destino)
                if isinstance(d, Mostrar):
                    cola.append(Estado(destino))
    assert vistos == set(MENU.nodos)


def test_cada_hoja_inicia_un_intent_o_una_pregunta_y_el_contrato_de_teclas():
    assert MENU.nodos["principal"].opciones["5"] == "capp"
    esperado = {"1": "citas", "2": "consultar_saldo", "3": "simular_prestamo", "4": "generar_fopi", "5": "regularizar_pagos", "7": "registro_oficina_virtual"}
    for tecla, objetivo in esperado.items():
        hijo = MENU.nodos[MENU.nodos["capp"].opciones[tecla]]
        assert (hijo.intent or hijo.id) == objetivo
    citas = MENU.nodos["citas"].opciones
    assert [MENU.nodos[citas[t]].intent for t in "123"] == ["cancelar_cita", "consultar_citas", "reimprimir_cita"]
    for nodo in MENU.nodos.values():
        assert nodo.es_hoja == (bool(nodo.intent) or bool(nodo.pregunta))


def test_ningun_camino_es_infinito_y_todo_estado_tiene_salida():
    """Explore every (node, attempt, turn) the engine can produce. Each step
    raises the turn, so the graph is a DAG capped by max_turnos; the explored
    set is finite and every state reaches an end (Asesor / Despedir / leaf)."""
    motor = _motor(max_turnos=12)
    inicio = motor.inicio().estado
    vistos = {inicio}
    cola = deque([inicio])
    finales = set()
    while cola:
        estado = cola.popleft()
        for entrada, d in _siguientes(motor, estado):
            if isinstance(d, Mostrar):
                assert d.estado.turno == estado.turno + 1, entrada  # progress on every input
                assert d.estado.intento <= motor.reintentos + 1
                if d.estado not in vistos:
                    vistos.add(d.estado)
                    cola.append(d.estado)
            else:
                assert isinstance(d, Iniciar | Asesor | Despedir), (estado, entrada, d)
                finales.add(type(d).__name__)
    assert max(e.turno for e in vistos) == motor.max_turnos
    assert finales == {"Iniciar", "Asesor", "Despedir"}


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
    llamada = Llamada(settings=settings, motor=_motor(), rasa=ClienteRasa("http://x", timeout=1), registro=Registro(tmp_path / "r.jsonl"))
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
            assert f"marque {tecla}" in dicho or f"marque {['cero','uno','dos','tres','cuatro','cinco','seis','siete','ocho','nueve'][int(tecla)]}" in dicho


def test_un_menu_mal_formado_se_rechaza(tmp_path):
    datos = yaml.safe_load(MENU_PATH.read_text(encoding="utf-8"))
    datos["nodos"]["citas"]["opciones"]["9"] = "cancelar_cita"  # 9 is reserved (repetir)
    with pytest.raises(ValueError, match="reservada"):
        Menu.model_validate(datos)
    datos = yaml.safe_load(MENU_PATH.read_text(encoding="utf-8"))
    datos["nodos"]["citas"]["opciones"]["5"] = "no_existe"
    with pytest.raises(ValueError, match="no existe"):
        Menu.model_validate(datos)
