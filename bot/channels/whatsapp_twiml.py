"""Rendering one turn of bot messages as WhatsApp messages (TwiML or outbound).

Consecutive texts go in one WhatsApp message, split under Twilio's
1600-character body limit at paragraph, line, then word boundaries; buttons
become numbered options; every attachment or image (the backend's signed,
expiring PDF links) goes in its own message with its <Media>."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from twilio.twiml.messaging_response import MessagingResponse

from bot.channels.privacidad import enmascarar

# Twilio rejects message bodies longer than 1600 characters.
LIMITE_CUERPO = 1600
OPCIONES = "Responda con el número de su opción."


@dataclass
class Pieza:
    """One WhatsApp message: a body (masked, under the limit) and media URLs."""

    cuerpo: str = ""
    medios: List[str] = field(default_factory=list)


def texto_de(mensaje: Dict[str, Any]) -> str:
    custom = mensaje.get("custom")
    if isinstance(custom, dict) and isinstance(custom.get("text"), str):
        return custom["text"]
    return mensaje.get("text") or ""


# Characters XML 1.0 cannot carry: a TwiML document with one is refused by Twilio.
_NO_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def apto_para_xml(texto: str) -> str:
    return _NO_XML.sub("", texto)


def partir(texto: str, limite: int = LIMITE_CUERPO) -> List[str]:
    """Split text into pieces of at most `limite` characters, at paragraph,
    line, then word boundaries (textwrap would collapse the line breaks)."""
    texto = texto.strip()
    if len(texto) <= limite:
        return [texto] if texto else []
    for separador in ("\n\n", "\n", " "):
        corte = texto.rfind(separador, 0, limite + 1)
        if corte > 0:
            return [texto[:corte].strip()] + partir(texto[corte + len(separador):], limite)
    return [texto[:limite]] + partir(texto[limite:], limite)


def url_de_adjunto(adjunto: Any) -> Optional[str]:
    """The URL in an attachment: a plain URL, or Rasa/Messenger-style dicts."""
    if isinstance(adjunto, str):
        return adjunto.strip() or None
    if isinstance(adjunto, dict):
        for clave in ("url", "src", "link", "media_url"):
            if isinstance(adjunto.get(clave), str):
                return adjunto[clave]
        payload = adjunto.get("payload")
        if payload is not None:
            return url_de_adjunto(payload)
    return None


def titulo_de_adjunto(adjunto: Any) -> Optional[str]:
    if isinstance(adjunto, dict):
        for clave in ("title", "titulo", "caption", "name"):
            if isinstance(adjunto.get(clave), str):
                return adjunto[clave]
        if isinstance(adjunto.get("payload"), dict):
            return titulo_de_adjunto(adjunto["payload"])
    return None


def construir_piezas(mensajes: List[Dict[str, Any]], nips: List[str]) -> List[Pieza]:
    """The WhatsApp messages of one turn."""
    piezas: List[Pieza] = []
    textos: List[str] = []

    def vaciar() -> None:
        if textos:
            piezas.extend(
                Pieza(p) for p in partir(apto_para_xml(enmascarar("\n\n".join(textos), nips)))
            )
            textos.clear()

    for mensaje in mensajes:
        texto = texto_de(mensaje)
        custom = mensaje.get("custom")
        botones = mensaje.get("buttons") or []
        if botones:
            opciones = "\n".join(
                f"{i}. {b.get('title', b.get('payload', ''))}" for i, b in enumerate(botones, 1)
            )
            texto = "\n\n".join(t for t in (texto, opciones, OPCIONES) if t)
        if texto:
            textos.append(texto.strip())
        for adjunto in (mensaje.get("image"), mensaje.get("attachment"),
                        custom.get("media_url") if isinstance(custom, dict) else None):
            url = url_de_adjunto(adjunto) if adjunto else None
            if url:
                vaciar()
                titulo = titulo_de_adjunto(adjunto)
                piezas.append(
                    Pieza(
                        apto_para_xml(enmascarar(titulo, nips))[:LIMITE_CUERPO] if titulo else "",
                        [url],
                    )
                )
    vaciar()
    return piezas


def twiml_de(piezas: List[Pieza]) -> MessagingResponse:
    twiml = MessagingResponse()
    for pieza in piezas:
        if not pieza.medios:
            twiml.message(pieza.cuerpo)
            continue
        # With <Media>, Twilio wants the text in a nested <Body>.
        medio = twiml.message()
        if pieza.cuerpo:
            medio.body(pieza.cuerpo)
        for url in pieza.medios:
            medio.media(url)
    return twiml


def construir_twiml(
    mensajes: List[Dict[str, Any]], nips: List[str]
) -> Tuple[MessagingResponse, List[Pieza]]:
    piezas = construir_piezas(mensajes, nips)
    return twiml_de(piezas), piezas
