"""Helpers for the action tests: a rasa_sdk Tracker, a CollectingDispatcher and
a fake backend (httpx.MockTransport) plugged into the actions' one client."""

from __future__ import annotations

import json
from typing import Any, Callable, Dict, List, Optional, Tuple

import httpx
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import backend_client as bc
from bot.actions import boveda

Ruta = Tuple[str, str]

# The backend's simulation at 48 quincenas of a 9,000-12,000 sueldo (the forms' happy path).
SIMULACION_48: Dict[str, Any] = {
    "descuento_quincenal": 900.0,
    "monto_maximo": 31000.0,
    "tasa_anual": 0.16,
    "plazo_quincenas": 48,
}


class BackendFalso:
    """Answers by (method, path); records every request it saw."""

    def __init__(self, rutas: Dict[Ruta, Any]) -> None:
        self.rutas = rutas
        self.peticiones: List[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.peticiones.append(request)
        respuesta = self.rutas.get((request.method, request.url.path))
        if respuesta is None:
            return httpx.Response(
                404, json={"detail": "No encontramos lo que busca.", "codigo": "no_encontrado"}
            )
        if callable(respuesta):
            respuesta = respuesta(request)
        if isinstance(respuesta, Exception):
            raise respuesta
        if isinstance(respuesta, httpx.Response):
            return respuesta
        return httpx.Response(200, json=respuesta)

    def cuerpo(self, i: int = -1) -> Any:
        contenido = self.peticiones[i].content
        return json.loads(contenido) if contenido else None

    def instalar(self) -> BackendFalso:
        bc.usar_transporte(httpx.MockTransport(self))
        return self


def error(status: int, detail: str, **extra: Any) -> httpx.Response:
    return httpx.Response(status, json={"detail": detail, "codigo": "x", **extra})


def caido(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("Connection refused", request=request)


def lento(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("timed out", request=request)


def tracker(
    slots: Optional[Dict[str, Any]] = None,
    *,
    intent: str = "informar",
    texto: str = "",
    canal: str = "rest",
    active_loop: Optional[str] = None,
    eventos_extra: Optional[List[Dict[str, Any]]] = None,
    anteriores: Optional[List[Dict[str, Any]]] = None,
) -> Tracker:
    ultimo = {"intent": {"name": intent, "confidence": 1.0}, "entities": [], "text": texto}
    slots = dict(slots or {})
    # Rasa's tracker holds the CURP and the token only sealed (actions/boveda.py).
    for sellado in ("token", "curp"):
        if isinstance(slots.get(sellado), str) and not slots[sellado].startswith(boveda.PREFIJO):
            slots[sellado] = boveda.sellar(slots[sellado])
    eventos = list(anteriores or []) + [
        {"event": "user", "text": texto, "parse_data": ultimo, "input_channel": canal}
    ] + list(eventos_extra or [])
    return Tracker(
        sender_id="prueba",
        slots=slots,
        latest_message=ultimo,
        events=eventos,
        paused=False,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name="action_listen",
    )


def respuesta_en_forma(
    slot: str,
    valor: Any,
    slots: Optional[Dict[str, Any]] = None,
    *,
    texto: Optional[str] = None,
    forma: str = "simulacion_form",
) -> Tracker:
    """The tracker right after the user answered the form's requested `slot`: Rasa has
    already set it to `valor` from the message (`texto`, the value itself by default)."""
    return tracker(
        {**(slots or {}), slot: valor, "requested_slot": slot},
        texto=valor if texto is None else texto,
        active_loop=forma,
        eventos_extra=[{"event": "slot", "name": slot, "value": valor}],
    )


def respuestas(dispatcher: CollectingDispatcher) -> List[str]:
    return [m.get("response") for m in dispatcher.messages if m.get("response")]


def mensaje(dispatcher: CollectingDispatcher, response: str) -> Dict[str, Any]:
    for m in dispatcher.messages:
        if m.get("response") == response:
            return m
    raise AssertionError(f"{response} no se envió; se enviaron {respuestas(dispatcher)}")


def slots_de(eventos: List[Dict[str, Any]]) -> Dict[str, Any]:
    return {e["name"]: e["value"] for e in eventos if e.get("event") == "slot"}


DOMINIO: Dict[str, Any] = {
    "forms": {
        "identificacion_form": {"required_slots": ["curp", "nip"]},
        "cancelacion_form": {
            "required_slots": ["clave_cita", "fecha_nacimiento", "confirmar_cancelacion"]
        },
        "fopi_form": {"required_slots": ["tipo_fopi", "monto"]},
        "cita_form": {"required_slots": ["oficina", "fecha", "inicio_cita", "confirmar_cita"]},
        "simulacion_form": {"required_slots": ["sueldo", "plazo"]},
    },
    "slots": {},
}

Manejador = Callable[[httpx.Request], httpx.Response]
