"""The /chat page and its static files, served by the backend (no browser)."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from backend.main import create_app
from backend.settings import BackendSettings

STATIC = Path(__file__).resolve().parents[2] / "backend" / "static" / "chat"


class _Etiquetas(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.etiquetas: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.etiquetas.append((tag, dict(attrs)))


def etiquetas(html: str) -> list[tuple[str, dict[str, str | None]]]:
    p = _Etiquetas()
    p.feed(html)
    return p.etiquetas


@pytest.fixture
def cliente(tmp_path: Path) -> TestClient:
    settings = BackendSettings(
        database_url=f"sqlite:///{tmp_path / 'x.db'}", rasa_public_url="https://rasa.example.mx:5443/"
    )
    with TestClient(create_app(settings)) as c:
        yield c


def test_page_is_spanish_and_points_at_the_configured_rasa(cliente: TestClient) -> None:
    r = cliente.get("/chat")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    tags = etiquetas(r.text)
    (html_tag,) = [a for t, a in tags if t == "html"]
    assert html_tag["lang"] == "es-MX"
    metas = {a.get("name"): a.get("content") for t, a in tags if t == "meta"}
    assert metas["rasa-url"] == "https://rasa.example.mx:5443"
    assert metas["viewport"].startswith("width=device-width")
    scripts = [a["src"] for t, a in tags if t == "script"]
    assert scripts == ["/chat/static/vendor/socket.io.min.js", "/chat/static/chat.js"]
    assert all(not (src or "").startswith("http") for src in scripts)  # nothing from the internet


def test_page_has_a_labelled_input_and_a_live_log(cliente: TestClient) -> None:
    tags = etiquetas(cliente.get("/chat").text)
    por_id = {a.get("id"): (t, a) for t, a in tags if a.get("id")}
    assert por_id["mensajes"][1]["role"] == "log"
    assert por_id["mensajes"][1]["aria-live"] == "polite"
    (label,) = [a for t, a in tags if t == "label"]
    assert label["for"] == "mensaje" and por_id["mensaje"][0] == "input"
    assert por_id["aviso"][1]["role"] == "alert"


def test_csp_lets_the_page_reach_rasa_and_nothing_else(cliente: TestClient) -> None:
    politica = cliente.get("/chat").headers["content-security-policy"]
    reglas = {r.split()[0]: r.split()[1:] for r in politica.split("; ")}
    assert reglas["default-src"] == ["'self'"]
    assert reglas["script-src"] == ["'self'"]
    assert set(reglas["connect-src"]) == {"'self'", "https://rasa.example.mx:5443", "wss://rasa.example.mx:5443"}


def test_a_hostile_rasa_url_is_escaped(tmp_path: Path) -> None:
    settings = BackendSettings(database_url=f"sqlite:///{tmp_path / 'x.db'}", rasa_public_url='http://x"><script>alert(1)</script>')
    with TestClient(create_app(settings)) as c:
        html = c.get("/chat").text
    assert "<script>alert(1)</script>" not in html
    metas = {a.get("name"): a.get("content") for t, a in etiquetas(html) if t == "meta"}
    assert metas["rasa-url"] == 'http://x"><script>alert(1)</script>'


@pytest.mark.parametrize(
    ("ruta", "tipo", "archivo"),
    [
        ("/chat/static/chat.js", "javascript", "chat.js"),
        ("/chat/static/chat.css", "text/css", "chat.css"),
        ("/chat/static/vendor/socket.io.min.js", "javascript", "vendor/socket.io.min.js"),
    ],
)
def test_static_files_are_served_locally(
    cliente: TestClient, ruta: str, tipo: str, archivo: str
) -> None:
    r = cliente.get(ruta)
    assert r.status_code == 200
    assert tipo in r.headers["content-type"]
    assert r.content == (STATIC / archivo).read_bytes()
    assert r.headers.get("etag")
    assert cliente.get(ruta, headers={"If-None-Match": r.headers["etag"]}).status_code == 304


def test_vendored_socket_io_client_is_v4_with_its_license() -> None:
    cabecera = (STATIC / "vendor" / "socket.io.min.js").read_text(encoding="utf-8")[:200]
    assert "Socket.IO v4." in cabecera
    assert "MIT" in (STATIC / "vendor" / "socket.io-client.LICENSE").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "ruta",
    [
        "/chat/static/no-existe.js",
        "/chat/static/../../settings.py",
        "/chat/static/%2e%2e/%2e%2e/settings.py",
    ],
)
def test_missing_or_escaping_paths_are_404_in_spanish(cliente: TestClient, ruta: str) -> None:
    r = cliente.get(ruta)
    assert r.status_code == 404
    assert r.json()["detail"] == "No encontramos lo que busca."


def test_trailing_slash_redirects_to_the_page(cliente: TestClient) -> None:
    r = cliente.get("/chat/", follow_redirects=False)
    assert r.status_code == 308 and r.headers["location"] == "/chat"
