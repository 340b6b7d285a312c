"""Reading a Twilio WhatsApp webhook request: its body, at most a given size,
and what non-text thing (image, audio, location...) the person sent."""

from __future__ import annotations

from typing import List, Optional

from sanic.request import Request

from bot.channels.whatsapp_firma import formulario


def tipo_de_medio(request: Request) -> Optional[str]:
    """What non-text thing the person sent, if any: imagen/audio/video/archivo/ubicacion."""
    datos = formulario(request)
    if datos.get("Latitude") and datos.get("Longitude"):
        return "ubicacion"
    try:
        num_media = int(datos.get("NumMedia") or 0)
    except ValueError:
        num_media = 0
    if num_media <= 0:
        return None
    tipo = (datos.get("MediaContentType0") or "").lower()
    for prefijo, nombre in (("image", "imagen"), ("audio", "audio"), ("video", "video")):
        if tipo.startswith(prefijo):
            return nombre
    return "archivo"


async def leer_cuerpo_limitado(request: Request, limite: int) -> bool:
    """Read the body of a streamed request into `request.body`, refusing
    (False) as soon as it passes `limite` bytes; a declared Content-Length over
    the limit is refused without reading anything."""
    largo = request.headers.get("content-length", "")
    if largo.isdigit() and int(largo) > limite:
        _cortar(request, limite)
        return False
    partes: List[bytes] = []
    total = 0
    async for parte in request.stream:
        if not parte:
            continue
        total += len(parte)
        if total > limite:
            _cortar(request, limite)
            return False
        partes.append(parte)
    request.body = b"".join(partes)
    return True


def _cortar(request: Request, limite: int) -> None:
    # Over HTTP, Sanic drains what is left of the body after the answer:
    # with this limit it closes the connection instead of reading on.
    if hasattr(request.stream, "request_max_size"):
        request.stream.request_max_size = limite
