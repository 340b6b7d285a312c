"""A WhatsApp phone in the terminal: posts to Rasa's WhatsApp webhook exactly
as Twilio would (form fields, `X-Twilio-Signature` over PUBLIC_BASE_URL + path)
and prints the replies parsed from the TwiML.

    make whatsapp                                   # interactive
    python -m tools.whatsapp --say hola --say 3     # scripted
    python -m tools.whatsapp --imagen               # send a photo, see the answer
    python -m tools.whatsapp --say "hoja de cita" --guardar-medios var/whatsapp

Settings (environment or .env): RASA_URL, PUBLIC_BASE_URL, TWILIO_AUTH_TOKEN.
"""

from __future__ import annotations

import argparse
import sys
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import httpx
from pydantic_settings import BaseSettings, SettingsConfigDict
from twilio.request_validator import RequestValidator

WEBHOOK = "/webhooks/whatsapp/webhook"
NUMERO_DEMO = "whatsapp:+5215555550101"
NUMERO_CAPP = "whatsapp:+14155238886"


class SimuladorSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    rasa_url: str = "http://localhost:5005"
    public_base_url: str = "http://localhost:5005"
    twilio_auth_token: str = ""


@dataclass
class Mensaje:
    """One <Message> of the TwiML answer."""

    cuerpo: str
    medios: list[str] = field(default_factory=list)


class ErrorSimulador(Exception):
    """Something the person at the terminal should read (in Spanish)."""


def leer_twiml(xml: str) -> list[Mensaje]:
    """The messages of a TwiML <Response>; the body may be the element's own
    text or a nested <Body>."""
    raiz = ET.fromstring(xml)
    if raiz.tag != "Response":
        raise ErrorSimulador(f"Rasa no respondió TwiML: <{raiz.tag}>")
    mensajes = []
    for m in raiz.iter("Message"):
        cuerpo = (m.text or "") + "".join(b.text or "" for b in m.findall("Body"))
        mensajes.append(Mensaje(cuerpo.strip(), [x.text or "" for x in m.findall("Media")]))
    return mensajes


class TelefonoWhatsApp:
    """Sends what a WhatsApp user types, signed as Twilio signs it."""

    def __init__(
        self,
        *,
        rasa_url: str,
        public_base_url: str,
        auth_token: str,
        numero: str = NUMERO_DEMO,
        cliente: httpx.Client | None = None,
        timeout: float = 60,
    ) -> None:
        self.rasa_url = rasa_url.rstrip("/")
        self.url_firmada = public_base_url.rstrip("/") + WEBHOOK
        self.validador = RequestValidator(auth_token)
        self.numero = numero if numero.startswith("whatsapp:") else f"whatsapp:{numero}"
        self.cliente = cliente or httpx.Client(timeout=timeout)

    @classmethod
    def desde_settings(cls, settings: SimuladorSettings, **extra: object) -> TelefonoWhatsApp:
        if not settings.twilio_auth_token:
            raise ErrorSimulador(
                "Falta TWILIO_AUTH_TOKEN (en el entorno o en .env; `make run` lo genera)."
            )
        return cls(
            rasa_url=settings.rasa_url,
            public_base_url=settings.public_base_url,
            auth_token=settings.twilio_auth_token,
            **extra,  # type: ignore[arg-type]
        )

    def parametros(self, texto: str = "", **extra: str) -> dict[str, str]:
        """The form fields Twilio posts for an incoming WhatsApp message."""
        params = {
            "SmsMessageSid": "SM" + uuid.uuid4().hex,
            "MessageSid": "SM" + uuid.uuid4().hex,
            "AccountSid": "AC" + "0" * 32,
            "From": self.numero,
            "To": NUMERO_CAPP,
            "WaId": self.numero.removeprefix("whatsapp:+"),
            "ProfileName": "Prueba",
            "Body": texto,
            "NumMedia": "0",
            "NumSegments": "1",
            "ApiVersion": "2010-04-01",
        }
        params.update(extra)
        return params

    def publicar(self, params: dict[str, str], *, firma: str | None = None) -> httpx.Response:
        firma = (
            self.validador.compute_signature(self.url_firmada, params) if firma is None else firma
        )
        try:
            return self.cliente.post(
                self.rasa_url + WEBHOOK, data=params, headers={"X-Twilio-Signature": firma}
            )
        except httpx.ConnectError as exc:
            raise ErrorSimulador(
                f"No pude conectar con Rasa en {self.rasa_url}. ¿Está corriendo `make run`?"
            ) from exc

    def decir(self, texto: str = "", **extra: str) -> list[Mensaje]:
        r = self.publicar(self.parametros(texto, **extra))
        if r.status_code == 403:
            raise ErrorSimulador(
                "Rasa rechazó la firma (403): revise que TWILIO_AUTH_TOKEN y PUBLIC_BASE_URL "
                "sean los mismos que usa Rasa."
            )
        if r.status_code != 200:
            raise ErrorSimulador(f"Rasa respondió {r.status_code}: {r.text[:300]}")
        return leer_twiml(r.text)

    def enviar_imagen(self, pie: str = "") -> list[Mensaje]:
        return self.decir(pie, NumMedia="1", MediaContentType0="image/jpeg",
                          MediaUrl0="https://api.twilio.com/2010-04-01/Accounts/AC0/Messages/MM0/Media/ME0")

    def enviar_audio(self) -> list[Mensaje]:
        return self.decir("", NumMedia="1", MediaContentType0="audio/ogg",
                          MediaUrl0="https://api.twilio.com/2010-04-01/Accounts/AC0/Messages/MM1/Media/ME1")

    def enviar_ubicacion(
        self, latitud: float = 19.4326, longitud: float = -99.1332
    ) -> list[Mensaje]:
        return self.decir("", Latitude=str(latitud), Longitude=str(longitud))


def imprimir(mensajes: Iterable[Mensaje], salida: TextIO | None = None) -> None:
    salida = salida or sys.stdout
    for m in mensajes:
        if m.cuerpo:
            lineas = m.cuerpo.splitlines() or [""]
            print("CAPP> " + lineas[0], file=salida)
            for linea in lineas[1:]:
                print("      " + linea, file=salida)
        for url in m.medios:
            print(f"CAPP> [archivo] {url}", file=salida)
    salida.flush()


def guardar_medios(mensajes: Iterable[Mensaje], carpeta: Path, cliente: httpx.Client) -> list[Path]:
    """Download the media as Twilio would; returns the files written."""
    carpeta.mkdir(parents=True, exist_ok=True)
    guardados = []
    for m in mensajes:
        for url in m.medios:
            r = cliente.get(url)
            if r.status_code != 200:
                print(f"      (el archivo no se pudo descargar: {r.status_code})", flush=True)
                continue
            extension = ".pdf" if "pdf" in r.headers.get("content-type", "") else ".bin"
            destino = carpeta / f"whatsapp-{uuid.uuid4().hex[:8]}{extension}"
            destino.write_bytes(r.content)
            print(f"      (guardado en {destino}, {len(r.content)} bytes)", flush=True)
            guardados.append(destino)
    return guardados


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.whatsapp",
        description="Simulador de WhatsApp para el asistente CAPP (firma las solicitudes como "
                    "Twilio).",
    )
    parser.add_argument(
        "--say",
        action="append",
        default=[],
        metavar="TEXTO",
        help="mensaje a enviar (repetible); sin --say se abre una sesión interactiva",
    )
    parser.add_argument(
        "--numero",
        default=NUMERO_DEMO,
        help=f"número de WhatsApp del usuario (predeterminado {NUMERO_DEMO})",
    )
    parser.add_argument("--imagen", action="store_true", help="enviar una foto")
    parser.add_argument("--audio", action="store_true", help="enviar una nota de voz")
    parser.add_argument("--ubicacion", action="store_true", help="enviar una ubicación")
    parser.add_argument(
        "--guardar-medios", type=Path, metavar="CARPETA", help="descargar los PDF recibidos"
    )
    args = parser.parse_args(argv)

    try:
        telefono = TelefonoWhatsApp.desde_settings(SimuladorSettings(), numero=args.numero)
        print(
            f"Conversación de {telefono.numero} con {telefono.rasa_url} (firma sobre "
            f"{telefono.url_firmada})"
        )

        def turno(mensajes: list[Mensaje]) -> None:
            imprimir(mensajes)
            if args.guardar_medios:
                guardar_medios(mensajes, args.guardar_medios, telefono.cliente)

        if args.imagen:
            turno(telefono.enviar_imagen())
        if args.audio:
            turno(telefono.enviar_audio())
        if args.ubicacion:
            turno(telefono.enviar_ubicacion())
        for texto in args.say:
            print(f"Usted> {texto}")
            turno(telefono.decir(texto))
        if args.say or args.imagen or args.audio or args.ubicacion:
            return 0

        print(
            "Escriba sus mensajes; «/imagen», «/audio», «/ubicacion» envían eso; Ctrl-D o "
            "«/salir» termina."
        )
        while True:
            try:
                texto = input("Usted> ").strip()
            except (EOFError, KeyboardInterrupt):
                print()
                return 0
            if texto in {"/salir", "/exit"}:
                return 0
            especiales = {"/imagen": telefono.enviar_imagen, "/audio": telefono.enviar_audio,
                          "/ubicacion": telefono.enviar_ubicacion}
            turno(especiales[texto]() if texto in especiales else telefono.decir(texto))
    except ErrorSimulador as error:
        print(f"Error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
