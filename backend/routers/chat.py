"""The web chat page (`/chat`) and its static files, served with no CDN: the
socket.io client is vendored under backend/static/chat/vendor
(scripts/vendor_web.sh refreshes it from the npm registry)."""

from __future__ import annotations

import html
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from backend.deps import settings_of

STATIC_DIR = Path(__file__).resolve().parents[1] / "static" / "chat"
PLANTILLA = STATIC_DIR / "index.html"

router = APIRouter(prefix="/chat", tags=["chat"])
# A StaticFiles app used per request: mounts inside an APIRouter are not carried
# over by include_router, and this keeps Starlette's path checks, ETags and 304s.
_estaticos = StaticFiles(directory=STATIC_DIR)


def _origenes_rasa(rasa_url: str) -> str:
    """The http(s) and ws(s) origins of Rasa, for the page's connect-src."""
    partes = urlsplit(rasa_url)
    if not partes.scheme or not partes.netloc:
        return ""
    ws = "wss" if partes.scheme == "https" else "ws"
    return f"{partes.scheme}://{partes.netloc} {ws}://{partes.netloc}"


@router.get("", response_class=HTMLResponse, include_in_schema=False)
def pagina(request: Request) -> HTMLResponse:
    """The chat page, told where Rasa's socket.io channel listens."""
    rasa_url = settings_of(request).rasa_public_url.rstrip("/")
    contenido = PLANTILLA.read_text(encoding="utf-8").replace(
        "{{RASA_URL}}", html.escape(rasa_url, quote=True)
    )
    politica = (
        "default-src 'self'; "
        f"connect-src 'self' {_origenes_rasa(rasa_url)}; "
        "img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    )
    return HTMLResponse(
        contenido,
        headers={"Content-Security-Policy": politica, "Cache-Control": "no-cache"},
    )


@router.get("/", include_in_schema=False)
def pagina_con_diagonal() -> RedirectResponse:
    return RedirectResponse("/chat", status_code=308)


@router.get("/static/{ruta:path}", include_in_schema=False)
async def estaticos(ruta: str, request: Request) -> Response:
    return await _estaticos.get_response(ruta, request.scope)
