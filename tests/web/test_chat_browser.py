"""The web chat in a real browser: Debian's Chromium, headless, via Playwright.

* against the whole stack (backend + Rasa with the trained model + actions):
  an anonymous simulation asked for by typing (desktop) and by clicking the
  page's button (phone), driven to the result by typing the sueldo and
  clicking a plazo button Rasa itself sent; the page shows exactly what Rasa
  answered (checked against Rasa's tracker), the figures are the backend's own
  POST /api/v1/simulaciones answer, and the conversation survives a reload;
  screenshots at desktop and phone widths go to var/screenshots/;
* against Rasa's real socket.io channel with a scripted bot: buttons, PDF
  links, the typing indicator, keyboard use, contrast;
* against a Rasa URL where nothing listens: the Spanish unreachable message.
"""

from __future__ import annotations

import re
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.web.conftest import ESCRITORIO, TELEFONO, puerto_libre

ETIQUETA_ENTRADA = "Escriba su mensaje para el asistente"


def abrir(navegador: Browser, url: str, viewport: dict[str, int], **extra: Any) -> Page:
    contexto = navegador.new_context(viewport=viewport, locale="es-MX", **extra)
    page = contexto.new_page()
    page.goto(url + "/chat")
    return page


def conversacion(page: Page) -> list[tuple[str, str]]:
    """What the page shows, in order: (autor, texto) per text bubble."""
    filas = page.eval_on_selector_all(
        ".mensaje",
        "ns => ns.map(n => [n.classList.contains('usuario') ? 'usuario' : 'bot', "
        "n.querySelector('.texto').textContent])",
    )
    return [(autor, texto) for autor, texto in filas]


def session_id(page: Page) -> str:
    return page.evaluate("JSON.parse(localStorage.getItem('capp-chat-v1')).sessionId")


def escribir(page: Page, texto: str) -> None:
    page.get_by_label(ETIQUETA_ENTRADA).fill(texto)
    page.get_by_label(ETIQUETA_ENTRADA).press("Enter")


def esperar(condicion: Any, segundos: float = 45, paso: float = 0.3) -> Any:
    limite = time.monotonic() + segundos
    ultimo = None
    while time.monotonic() < limite:
        ultimo = condicion()
        if ultimo:
            return ultimo
        time.sleep(paso)
    return ultimo


# -- against the whole stack -----------------------------------------------------


def _tracker(stack: Any, sid: str) -> dict[str, Any]:
    r = httpx.get(stack.rasa_api(f"/conversations/{sid}/tracker"), timeout=10)
    r.raise_for_status()
    return r.json()


def _ultimo_turno_en_rasa(tracker: dict[str, Any]) -> list[str]:
    """Bot texts after the last user event, as the socket.io channel splits them."""
    eventos = tracker["events"]
    usuarios = [i for i, e in enumerate(eventos) if e["event"] == "user"]
    if not usuarios:  # Rasa has not recorded the message yet
        return []
    ultimo_usuario = usuarios[-1]
    textos: list[str] = []
    for e in eventos[ultimo_usuario + 1 :]:
        if e["event"] == "bot" and e.get("text"):
            textos.extend(p.strip() for p in e["text"].strip().split("\n\n"))
    return textos


def _ultimo_turno_en_pagina(page: Page) -> list[str]:
    mensajes = conversacion(page)
    usuarios = [i for i, (autor, _) in enumerate(mensajes) if autor == "usuario"]
    if not usuarios:
        return []
    ultimo_usuario = usuarios[-1]
    return [texto.strip() for autor, texto in mensajes[ultimo_usuario + 1 :]]


def _la_pagina_muestra_lo_que_dijo_rasa(stack: Any, page: Page) -> list[str]:
    sid = session_id(page)

    def iguales() -> list[str] | None:
        en_rasa = _ultimo_turno_en_rasa(_tracker(stack, sid))
        return en_rasa if en_rasa and en_rasa == _ultimo_turno_en_pagina(page) else None

    respuesta = esperar(iguales)
    assert respuesta, (
        f"la página muestra {_ultimo_turno_en_pagina(page)!r}, "
        f"Rasa dijo {_ultimo_turno_en_rasa(_tracker(stack, sid))!r}"
    )
    return respuesta


def _ultimo_bot_con_botones(tracker: dict[str, Any]) -> list[dict[str, str]]:
    """The buttons of Rasa's last bot message that had any (title, payload)."""
    for e in reversed(tracker["events"]):
        if e["event"] == "user":
            break
        botones = (e.get("data") or {}).get("buttons") if e["event"] == "bot" else None
        if botones:
            return [{"title": b["title"], "payload": b["payload"]} for b in botones]
    return []


def _botones_activos(page: Page) -> list[str]:
    return page.eval_on_selector_all(".opcion:not([disabled])", "bs => bs.map(b => b.textContent)")


def _sueldo_p3(stack: Any) -> Decimal:
    from sqlalchemy import select

    from backend.models import Derechohabiente

    with stack.session() as s:
        return s.scalars(select(Derechohabiente.sueldo_base_mensual)
                         .where(Derechohabiente.curp == "PEGL890909MJCRMS08")).one()


def _pesos(valor: float) -> str:
    return f"${valor:,.2f}"


def _pulsar_boton_de_rasa(stack: Any, page: Page, titulo: str) -> dict[str, str]:
    """Click the option `titulo`, checking the options on screen are exactly
    the buttons of Rasa's last message (not the page's own); returns it."""
    de_rasa = _ultimo_bot_con_botones(_tracker(stack, session_id(page)))
    assert de_rasa and _botones_activos(page) == [b["title"] for b in de_rasa], (
        de_rasa,
        _botones_activos(page),
    )
    (boton,) = [b for b in de_rasa if b["title"] == titulo]
    page.get_by_role("button", name=titulo).click()
    expect(page.locator(".mensaje.usuario .texto").last).to_have_text(titulo)
    return boton


def _simular_hasta_el_resultado(stack: Any, page: Page, turno: list[str], titulo_plazo: str) -> str:
    """Answers what the simulation form asks, as a user would, until the
    result: types P3's sueldo, presses Rasa's own buttons («En activo» and
    «Primer préstamo» if it asks, then the plazo), and checks the figures against the backend's
    own POST /api/v1/simulaciones for what was answered. Returns the result."""
    sueldo = _sueldo_p3(stack)
    plazo = int(re.search(r"\d+", titulo_plazo).group(0))
    dicho: dict[str, Any] = {}
    for _ in range(6):
        texto = " ".join(turno)
        if "descuento quincenal" in texto.lower():
            break
        if "En activo" in _botones_activos(page):  # P3 is asegurada
            _pulsar_boton_de_rasa(stack, page, "En activo")
            dicho["tipo"] = "asegurado"
        elif "Primer préstamo" in _botones_activos(page):
            _pulsar_boton_de_rasa(stack, page, "Primer préstamo")
            dicho["renovacion"] = False
        elif "quincenas" in texto and titulo_plazo in _botones_activos(page):
            boton = _pulsar_boton_de_rasa(stack, page, titulo_plazo)
            dicho["plazo_quincenas"] = plazo
        elif "sueldo" in texto.lower() and "sueldo_base_mensual" not in dicho:
            escribir(page, f"{sueldo}")
            dicho["sueldo_base_mensual"] = float(sueldo)
        else:
            raise AssertionError(f"pregunta inesperada del asistente: {turno!r}")
        turno = _la_pagina_muestra_lo_que_dijo_rasa(stack, page)
    resultado = "\n".join(turno)
    # Both asked and answered: the sueldo typed, the plazo clicked on Rasa's button.
    assert set(dicho) >= {"sueldo_base_mensual", "plazo_quincenas"}, (dicho, resultado)
    # The click sent the button's payload (the last user event Rasa recorded).
    usuarios = [e for e in _tracker(stack, session_id(page))["events"] if e["event"] == "user"]
    assert usuarios[-1]["text"] == boton["payload"]
    r = httpx.post(f"{stack.backend_url}/api/v1/simulaciones",
                   json={"producto": "credito_complementario", **dicho}, timeout=10)
    r.raise_for_status()
    esperado = r.json()
    assert _pesos(esperado["monto_maximo"]) in resultado, resultado
    assert _pesos(esperado["descuento_quincenal"]) in resultado, resultado
    assert f"{plazo} quincenas" in resultado
    return resultado


def _recargar_y_seguir(stack: Any, page: Page) -> None:
    """A reload shows the same conversation, in the same Rasa session, which goes on."""
    antes, sid = conversacion(page), session_id(page)
    page.reload()
    expect(page.locator("#estado")).to_have_text("Conectado", timeout=20_000)
    assert conversacion(page) == antes
    assert session_id(page) == sid
    escribir(page, "gracias")
    _la_pagina_muestra_lo_que_dijo_rasa(stack, page)
    textos_usuario = [e.get("text") for e in _tracker(stack, sid)["events"] if e["event"] == "user"]
    assert textos_usuario[-1] == "gracias" and len(textos_usuario) >= 4


@pytest.mark.e2e
def test_simulation_typed_on_desktop_to_the_result_and_a_reload(
    stack, navegador: Browser, capturas: Path
) -> None:
    page = abrir(navegador, stack.backend_url, ESCRITORIO)
    expect(page.locator("#estado")).to_have_text("Conectado", timeout=20_000)

    escribir(page, "Quiero simular un préstamo")
    expect(page.locator(".mensaje.usuario .texto").last).to_have_text("Quiero simular un préstamo")
    pide_sueldo = _la_pagina_muestra_lo_que_dijo_rasa(stack, page)
    tracker = _tracker(stack, session_id(page))
    assert tracker["latest_message"]["intent"]["name"] == "simular_prestamo"
    assert tracker["latest_input_channel"] == "socketio"

    resultado = _simular_hasta_el_resultado(stack, page, pide_sueldo, "36 quincenas")
    page.screenshot(path=str(capturas / "chat-escritorio.png"), full_page=True)
    _recargar_y_seguir(stack, page)
    assert resultado in "\n".join(t for _, t in conversacion(page))
    page.context.close()


@pytest.mark.e2e
def test_simulation_clicked_on_a_phone_to_the_result_and_a_reload(
    stack, navegador: Browser, capturas: Path
) -> None:
    page = abrir(
        navegador,
        stack.backend_url,
        TELEFONO,
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
    )
    expect(page.locator("#estado")).to_have_text("Conectado", timeout=20_000)
    page.get_by_role("button", name="Simular un préstamo").click()
    expect(page.locator(".mensaje.usuario .texto").last).to_have_text("Simular un préstamo")
    pide_sueldo = _la_pagina_muestra_lo_que_dijo_rasa(stack, page)
    tracker = _tracker(stack, session_id(page))
    assert tracker["latest_message"]["text"] == "/simular_prestamo"
    assert tracker["latest_message"]["intent"]["name"] == "simular_prestamo"

    _simular_hasta_el_resultado(stack, page, pide_sueldo, "24 quincenas")
    # Nothing wider than the phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= TELEFONO["width"]
    page.screenshot(path=str(capturas / "chat-telefono.png"), full_page=True)
    _recargar_y_seguir(stack, page)
    page.context.close()


# -- against Rasa's socket.io channel with a scripted bot ----------------------------


def test_buttons_pdf_links_typing_indicator_and_reload(
    backend_local, rasa_guion: str, navegador: Browser, capturas: Path
) -> None:
    backend = backend_local(rasa_guion)
    page = abrir(navegador, backend.url, ESCRITORIO)
    expect(page.locator("#estado")).to_have_text("Conectado", timeout=20_000)
    # the welcome offers its own options
    expect(
        page.get_by_role("group", name="Opciones de respuesta").get_by_role("button")
    ).to_have_count(4)

    escribir(page, "¡Hola! quiero simular")
    expect(page.locator("#escribiendo")).to_be_visible()
    expect(page.locator(".mensaje.bot .texto").last).to_have_text("¿A cuántas quincenas?")
    expect(page.locator("#escribiendo")).to_be_hidden()
    assert conversacion(page)[-3:] == [
        ("usuario", "¡Hola! quiero simular"),
        ("bot", "Con gusto simulamos su préstamo."),
        ("bot", "¿A cuántas quincenas?"),
    ]
    # the welcome's options are no longer active; the new ones are
    assert page.get_by_role("button", name="Simular un préstamo").is_disabled()
    page.get_by_role("button", name="48 quincenas").click()
    expect(page.locator(".mensaje.bot .texto").last).to_have_text('Recibí: /informar{"plazo": 48}')
    assert conversacion(page)[-2] == ("usuario", "48 quincenas")  # the title, not the payload
    assert page.get_by_role("button", name="24 quincenas").is_disabled()

    escribir(page, "mi hoja de cita")
    enlace = page.get_by_role("link", name="Descargar documento (PDF)")
    expect(enlace).to_be_visible()
    assert (
        enlace.evaluate("a => a.href")
        == backend.url + "/chat/static/vendor/socket.io-client.LICENSE"
    )
    assert enlace.get_attribute("rel") == "noopener"

    antes = conversacion(page)
    sid = session_id(page)
    page.reload()
    expect(page.locator("#estado")).to_have_text("Conectado", timeout=20_000)
    assert conversacion(page) == antes and session_id(page) == sid
    expect(page.get_by_role("link", name="Descargar documento (PDF)")).to_be_visible()
    page.screenshot(path=str(capturas / "chat-guion-escritorio.png"))

    # A signed file link that reaches the text is a short link, never hundreds of characters.
    escribir(page, "mi estado de cuenta")
    expect(page.get_by_role("link", name="enlace al documento")).to_be_visible()
    burbuja = conversacion(page)[-1]
    assert burbuja == ("bot", "Su estado de cuenta: enlace al documento")
    assert "/api/v1/archivos/" in page.get_by_role(
        "link", name="enlace al documento"
    ).get_attribute("href")

    # "Nueva conversación" starts over with a new session
    page.get_by_role("button", name="Nueva conversación").click()
    assert session_id(page) != sid
    assert [a for a, _ in conversacion(page)] == ["bot"]
    page.context.close()


def test_keyboard_only_use(backend_local, rasa_guion: str, navegador: Browser) -> None:
    backend = backend_local(rasa_guion)
    page = abrir(navegador, backend.url, ESCRITORIO)
    expect(page.locator("#estado")).to_have_text("Conectado", timeout=20_000)
    # The first Tab reaches the skip link, which leads to the input.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Ir al cuadro para escribir"
    page.keyboard.press("Enter")
    page.keyboard.type("hola")
    page.keyboard.press("Enter")
    expect(page.locator(".mensaje.bot .texto").last).to_have_text(
        "¡Entendido! Usted escribió: hola"
    )
    assert page.evaluate("document.activeElement.id") == "mensaje"  # focus stays in the input

    # Options are reachable with Tab and work with Enter.
    page.get_by_role("button", name="Nueva conversación").press("Enter")
    page.get_by_role("button", name="Simular un préstamo").focus()
    page.keyboard.press("Enter")
    expect(page.locator(".mensaje.bot .texto").last).to_have_text("¿A cuántas quincenas?")
    page.get_by_role("button", name="24 quincenas").focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "48 quincenas"
    page.keyboard.press("Space")
    expect(page.locator(".mensaje.bot .texto").last).to_have_text('Recibí: /informar{"plazo": 48}')
    page.context.close()


def test_a_button_pressed_while_a_new_conversation_connects_is_sent(
    backend_local, rasa_guion: str, navegador: Browser
) -> None:
    """"Nueva conversación" reconnects the socket; a message sent in that gap
    waits for the new session instead of being refused."""
    backend = backend_local(rasa_guion)
    page = abrir(navegador, backend.url, ESCRITORIO)
    expect(page.locator("#estado")).to_have_text("Conectado", timeout=20_000)
    escribir(page, "hola")
    expect(page.locator(".mensaje.bot .texto").last).to_have_text(
        "¡Entendido! Usted escribió: hola"
    )
    anterior = session_id(page)
    # Both clicks in one task: the new socket cannot have connected in between.
    estado = page.evaluate("""() => {
        document.getElementById("nueva").click();
        const simular = [...document.querySelectorAll(".opcion")].find(b => \
b.textContent === "Simular un préstamo");
        simular.click();
        return document.getElementById("estado").textContent;
    }""")
    assert estado == "Conectando…"
    expect(page.locator(".mensaje.bot .texto").last).to_have_text("¿A cuántas quincenas?")
    assert conversacion(page)[1:] == [
        ("usuario", "Simular un préstamo"),
        ("bot", "Con gusto simulamos su préstamo."),
        ("bot", "¿A cuántas quincenas?"),
    ]
    assert (page.locator("#aviso").text_content() or "") == "" or page.locator("#aviso").is_hidden()
    assert session_id(page) != anterior
    expect(page.locator("#estado")).to_have_text("Conectado")
    # The same gap, typed: the text is queued too and the input cleared.
    page.evaluate("""() => {
        document.getElementById("nueva").click();
        document.getElementById("mensaje").value = "mi hoja de cita";
        document.getElementById("formulario").requestSubmit();
    }""")
    expect(page.get_by_role("link", name="Descargar documento (PDF)")).to_be_visible()
    expect(page.get_by_label(ETIQUETA_ENTRADA)).to_have_value("")
    page.context.close()


_CONTRASTE_JS = """
els => els.map(el => {
  const rgb = s => (s.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const c = [r, g, b].map(v => { v /= 255; \
return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  };
  let fondo = null, n = el;
  while (n && n.nodeType === 1) {
    const bg = rgb(getComputedStyle(n).backgroundColor);
    if (bg.length === 3 || (bg.length === 4 && bg[3] === 1)) { fondo = bg.slice(0, 3); break; }
    n = n.parentElement;
  }
  fondo = fondo || [255, 255, 255];
  const a = lum(rgb(getComputedStyle(el).color).slice(0, 3)), b = lum(fondo);
  return [el.className || el.tagName, (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)];
})
"""


def test_contrast_and_accessible_names(
    backend_local, rasa_guion: str, navegador: Browser, capturas: Path
) -> None:
    backend = backend_local(rasa_guion)
    page = abrir(
        navegador, backend.url, TELEFONO, is_mobile=True, has_touch=True, device_scale_factor=2
    )
    expect(page.locator("#estado")).to_have_text("Conectado", timeout=20_000)
    escribir(page, "quiero simular")
    expect(page.locator(".mensaje.bot .texto").last).to_have_text("¿A cuántas quincenas?")
    escribir(page, "hola")
    expect(page.locator(".mensaje.bot .texto").last).to_have_text(
        "¡Entendido! Usted escribió: hola"
    )
    page.screenshot(path=str(capturas / "chat-guion-telefono.png"))
    ratios = page.eval_on_selector_all(
        ".mensaje .texto, .opcion, .boton-enviar, #mensaje, .encabezado h1, .pie p, "
        ".boton-secundario",
        _CONTRASTE_JS,
    )
    assert len(ratios) >= 8
    bajos = [(c, round(r, 2)) for c, r in ratios if r < 4.5]
    assert not bajos, f"contraste menor a 4.5:1: {bajos}"
    # every control has an accessible name; the log is announced
    expect(page.get_by_role("textbox", name=ETIQUETA_ENTRADA)).to_be_visible()
    expect(page.get_by_role("button", name="Enviar")).to_be_visible()
    expect(page.get_by_role("log", name="Conversación con el asistente")).to_be_visible()
    # the screen reader hears who said what
    assert (
        page.locator(".mensaje.usuario .visualmente-oculto").last.text_content().strip()
        == "Usted dijo:"
    )
    # the message list fits a phone without sideways scrolling
    assert page.evaluate("document.documentElement.scrollWidth") <= TELEFONO["width"]
    page.context.close()


# -- nobody listening at the Rasa URL --------------------------------------------------


def test_unreachable_server_gets_a_clear_spanish_message(
    backend_local, navegador: Browser, capturas: Path
) -> None:
    backend = backend_local(f"http://127.0.0.1:{puerto_libre()}")  # nothing listens there
    page = abrir(navegador, backend.url, TELEFONO, is_mobile=True)
    aviso = page.get_by_role("alert")
    expect(aviso).to_be_visible(timeout=20_000)
    expect(aviso).to_contain_text("No pudimos conectar con el asistente")
    expect(aviso).to_contain_text("55 4000 1000")
    expect(page.locator("#estado")).to_have_text("Sin conexión")
    # the welcome is still there, and a message typed now is not lost
    assert conversacion(page)[0][0] == "bot"
    escribir(page, "saldo")
    expect(aviso).to_contain_text("no se envió")
    expect(page.get_by_label(ETIQUETA_ENTRADA)).to_have_value("saldo")
    assert [a for a, _ in conversacion(page)] == ["bot"]
    assert re.search(r"Sin conexión", page.locator("#estado").text_content() or "")
    page.screenshot(path=str(capturas / "chat-sin-conexion.png"))
    page.context.close()
