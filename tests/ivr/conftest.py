"""IVR test fixtures: the real app with a scripted stand-in for Rasa's ivr channel
(httpx.MockTransport, so the real bridge code and its timeouts are exercised)."""

from __future__ import annotations

import asyncio
import json
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from twilio.request_validator import RequestValidator

from ivr.main import crear_app
from ivr.rasa import ClienteRasa
from ivr.settings import IVRSettings
from ivr.simulator import Telefono


def respuesta_bot(**campos: Any) -> dict[str, Any]:
    """An answer of the bot's IVR channel with nothing in it, then `campos`."""
    vacia: dict[str, Any] = {
        "mensajes": [],
        "botones": [],
        "accion": None,
        "requested_slot": None,
        "active_loop": None,
    }
    return vacia | campos

TOKEN = "prueba-token-de-twilio"
RASA_TOKEN = "prueba-token-de-rasa"
PUBLIC = "https://ivr.ejemplo.mx"


@dataclass
class FakeRasa:
    """Answers like bot/channels/ivr.py would, from a small scripted bot."""

    modo: str = "normal"  # normal | lento | caido | vacio | error
    recibidos: list[dict[str, Any]] = field(default_factory=list)
    ultimas: dict[str, dict[str, Any]] = field(default_factory=dict)
    interpretaciones: dict[str, tuple[str, float]] = field(default_factory=dict)
    bot: Callable[[str, str], dict[str, Any]] | None = None
    # the channel's bearer token (bot/channels/ivr.py): anything else is refused
    token: str = RASA_TOKEN
    rechazados: int = 0

    def responder(self, sender: str, texto: str) -> dict[str, Any]:
        if self.bot is not None:
            return self.bot(sender, texto)
        base = respuesta_bot()
        leido = self.interpretaciones.get(texto)
        if leido and leido[0] != "faq":
            texto = f"/{leido[0]}"  # the caller's words, read by the same NLU as /interpretar
        if texto == "/cancelar_cita":
            return base | {
                "mensajes": ["Con gusto. ¿Cuál es la clave de su cita?"],
                "requested_slot": "clave_cita",
                "active_loop": "cancelar_cita_form",
            }
        if texto == "/consultar_saldo":
            return base | {
                "mensajes": ["Primero necesito su CURP."],
                "requested_slot": "curp",
                "active_loop": "identidad_form",
            }
        if texto == "/hablar_con_asesor":
            return base | {"mensajes": ["Con gusto le comunico."], "accion": "transferir"}
        if texto == "/despedir":
            return base | {"mensajes": ["Gracias por llamar."], "accion": "colgar"}
        if texto == "/detener":
            return base | {"mensajes": ["De acuerdo."]}
        if texto == "XXXXXX":
            return base | {
                "mensajes": ["Esa clave no es válida. ¿Cuál es la clave de su cita?"],
                "requested_slot": "clave_cita",
                "active_loop": "cancelar_cita_form",
            }
        if len(texto) == 6 and texto.isalnum():
            return base | {
                "mensajes": [f"Clave {texto}. ¿Su fecha de nacimiento?"],
                "requested_slot": "fecha_nacimiento",
                "active_loop": "cancelar_cita_form",
            }
        if texto.isdigit() and len(texto) == 8:
            return base | {
                "mensajes": ["Su cita del 30/01/2024 quedó CANCELADA. ¿Algo más?"],
                "botones": [
                    {"title": "Sí", "payload": "/afirmar"},
                    {"title": "No", "payload": "/negar"},
                ],
            }
        return base | {"mensajes": [f"Recibí: {texto}"]}

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            self.rechazados += 1
            codigo = 401 if "Authorization" not in request.headers else 403
            return httpx.Response(codigo, json={"detail": "El token del asistente no es válido."})
        cuerpo = json.loads(request.content or b"{}")
        self.recibidos.append({"path": request.url.path, **cuerpo})
        if self.modo == "caido":
            raise httpx.ConnectError("conexión rechazada", request=request)
        if self.modo == "lento":
            await asyncio.sleep(5)
        if self.modo == "error":
            return httpx.Response(500, json={"detail": "Error interno del asistente."})
        path = request.url.path
        if path.endswith("/interpretar"):
            intent, conf = self.interpretaciones.get(cuerpo["message"], ("nlu_fallback", 0.3))
            return httpx.Response(200, json={"intent": intent, "confidence": conf, "entities": []})
        if path.endswith("/repetir"):
            anterior = self.ultimas.get(cuerpo["sender"])
            return (
                httpx.Response(200, json=anterior)
                if anterior
                else httpx.Response(404, json={"detail": "Sin respuesta previa."})
            )
        salida = (
            {"mensajes": []}
            if self.modo == "vacio"
            else self.responder(cuerpo["sender"], cuerpo["message"])
        )
        self.ultimas[cuerpo["sender"]] = salida
        return httpx.Response(200, json=salida)

    def mensajes(self) -> list[str]:
        return [r["message"] for r in self.recibidos if r["path"].endswith("/webhook")]


@pytest.fixture
def ivr_settings(tmp_path) -> IVRSettings:
    return IVRSettings(
        _env_file=None,
        twilio_auth_token=TOKEN,
        public_base_url=PUBLIC,
        rasa_url="http://rasa.test",
        ivr_rasa_timeout=0.5,
        ivr_registro_path=str(tmp_path / "ivr_llamadas.jsonl"),
        ivr_asesor_numero="+525555550000",
        rasa_token=RASA_TOKEN,
    )


@pytest.fixture
def fake_rasa() -> FakeRasa:
    return FakeRasa()


@pytest.fixture
def client(ivr_settings, fake_rasa) -> Iterator[TestClient]:
    rasa = ClienteRasa(
        "http://rasa.test", timeout=ivr_settings.ivr_rasa_timeout, token=ivr_settings.rasa_token,
        transport=httpx.MockTransport(fake_rasa),
    )
    with TestClient(crear_app(ivr_settings, rasa=rasa), base_url="http://testserver") as c:
        yield c


@pytest.fixture
def telefono(client) -> Telefono:
    return Telefono("http://testserver", TOKEN, PUBLIC, http=client)


def firmar(url_path: str, params: dict[str, str], token: str = TOKEN) -> str:
    return RequestValidator(token).compute_signature(PUBLIC + url_path, params)


def post_firmado(client: TestClient, path: str, params: dict[str, str]) -> httpx.Response:
    return client.post(path, data=params, headers={"X-Twilio-Signature": firmar(path, params)})


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def twiml(respuesta: httpx.Response) -> ET.Element:
    assert respuesta.status_code == 200, respuesta.text
    assert respuesta.headers["content-type"].startswith("application/xml")
    raiz = ET.fromstring(respuesta.content)
    assert raiz.tag == "Response"
    return raiz


def post_twiml(client: TestClient, path: str, params: dict[str, str]) -> ET.Element:
    """A signed Twilio POST, answered with valid TwiML: its root."""
    return twiml(post_firmado(client, path, params))


def texto_dicho(elemento: ET.Element) -> str:
    partes = []
    for say in elemento.iter("Say"):
        partes.append(" ".join("".join(say.itertext()).split()))
    return " ".join(partes)
