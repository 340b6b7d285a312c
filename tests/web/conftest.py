"""Fixtures for the web chat tests: Debian's Chromium driven by Playwright, a
backend served by an in-process uvicorn, and Rasa's socket.io channel with a
scripted bot (tests/web/rasa_guion.py, run in .venv-rasa)."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from playwright.sync_api import Browser, sync_playwright

from backend.main import create_app
from backend.settings import BackendSettings

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-quic", "--no-first-run", "--disable-component-update", "--disable-sync",
]
SCREENSHOTS = ROOT / "var" / "screenshots"
ESCRITORIO = {"width": 1280, "height": 800}
# What the scripted Rasa's WhatsApp channel checks signatures with.
TOKEN_GUION = "guion-" + secrets.token_hex(8)
PUBLICO_GUION = "https://capp-publico.example.mx"
TELEFONO = {"width": 390, "height": 844}


def puerto_libre() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def navegador() -> Iterator[Browser]:
    # Playwright cannot download its own browser here: Debian's Chromium it is.
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def capturas() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


class BackendLocal:
    """backend.main's app on a free port, in a thread of this process."""

    def __init__(self, settings: BackendSettings) -> None:
        self.port = puerto_libre()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            create_app(settings), host="127.0.0.1", port=self.port, log_level="warning"
        )
        self.server = uvicorn.Server(config)
        self.hilo = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> BackendLocal:
        self.hilo.start()
        limite = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > limite or not self.hilo.is_alive():
                raise RuntimeError("el backend local no arrancó")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.hilo.join(timeout=10)


@pytest.fixture
def backend_local(tmp_path: Path) -> Iterator[Callable[[str], BackendLocal]]:
    """Factory: a backend whose /chat page points at the given Rasa URL."""
    abiertos: list[BackendLocal] = []

    def abrir(rasa_url: str) -> BackendLocal:
        settings = BackendSettings(
            database_url=f"sqlite:///{tmp_path / 'chat.db'}", rasa_public_url=rasa_url
        )
        b = BackendLocal(settings).__enter__()
        abiertos.append(b)
        return b

    yield abrir
    for b in abiertos:
        b.__exit__(None, None, None)


@pytest.fixture(scope="module")
def rasa_guion(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Rasa's real socket.io channel, scripted bot; yields its URL. The PDF link
    it sends points at the vendored LICENSE path of whatever backend serves the
    page, so only the link's rendering is checked with it."""
    port = puerto_libre()
    log = tmp_path_factory.mktemp("rasa_guion") / "rasa.log"
    env = {**os.environ, "TWILIO_AUTH_TOKEN": TOKEN_GUION, "PUBLIC_BASE_URL": PUBLICO_GUION}
    with log.open("wb") as salida:
        proc = subprocess.Popen(
            [
                str(ROOT / ".venv-rasa" / "bin" / "python"),
                str(Path(__file__).with_name("rasa_guion.py")),
                str(port),
                "/chat/static/vendor/socket.io-client.LICENSE",
            ],
            cwd=ROOT,
            env=env,
            stdout=salida,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        limite = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                raise RuntimeError("rasa_guion terminó:\n" + log.read_text(errors="replace"))
            try:
                if (
                    httpx.get(f"{url}/socket.io/?EIO=4&transport=polling", timeout=2).status_code
                    == 200
                ):
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > limite:
                raise RuntimeError("rasa_guion no respondió:\n" + log.read_text(errors="replace"))
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
