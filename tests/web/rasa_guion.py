"""Our socket.io and WhatsApp channels (bot/channels/) with a scripted bot instead of a model.

Run with .venv-rasa (`python tests/web/rasa_guion.py PORT PDF_URL`): lets the
browser tests check how the page renders buttons, several messages and PDF
links without depending on what the trained model answers, and the WhatsApp
simulator (tools/whatsapp.py, twilio 9) talk to the channel (twilio 8). The
real stack is exercised in tests/web/test_chat_browser.py and
tests/e2e/test_whatsapp.py.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from types import SimpleNamespace

from rasa.core.channels.channel import UserMessage
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sanic import Sanic

# The same channel class credentials.yml uses (Rasa runs from the repository root).
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from bot.channels.webchat import WebChatInput  # noqa: E402
from bot.channels.whatsapp import WhatsAppInput  # noqa: E402

BOTONES = [
    {"title": "24 quincenas", "payload": '/informar{"plazo": 24}'},
    {"title": "48 quincenas", "payload": '/informar{"plazo": 48}'},
]


def main() -> None:
    port, pdf_url = int(sys.argv[1]), sys.argv[2]
    canal = WebChatInput(session_persistence=True)

    # Like Rasa, each turn lands in the conversation's tracker (the WhatsApp
    # channel reads the options on screen from it).
    almacen = InMemoryTrackerStore(Domain.empty())

    async def bot(mensaje: UserMessage) -> None:
        salida = mensaje.output_channel
        antes = len(getattr(salida, "messages", []))
        await responder(mensaje)
        if hasattr(salida, "messages"):
            previo = await almacen.retrieve(mensaje.sender_id)
            eventos = list(previo.events) if previo else []
            eventos.append(UserUttered(mensaje.text, message_id=mensaje.message_id))
            eventos += [
                BotUttered(
                    m.get("text"), {k: v for k, v in m.items() if k not in ("recipient_id", "text")}
                )
                for m in salida.messages[antes:]
            ]
            await almacen.save(
                DialogueStateTracker.from_events(mensaje.sender_id, eventos, slots=[])
            )

    async def responder(mensaje: UserMessage) -> None:
        salida, quien, texto = mensaje.output_channel, mensaje.sender_id, mensaje.text or ""
        await asyncio.sleep(0.6)  # long enough for the typing indicator to show
        if texto == "/simular_prestamo" or "simular" in texto.lower():
            await salida.send_response(
                quien,
                {
                    "text": "Con gusto simulamos su préstamo.\n\n¿A cuántas quincenas?",
                    "buttons": BOTONES,
                },
            )
        elif texto.startswith("/informar"):
            await salida.send_response(quien, {"text": f"Recibí: {texto}"})
        elif "estado de cuenta" in texto.lower():
            # A signed link inside the text (as an old domain text did) must not show raw.
            firmado = "http://127.0.0.1:9/api/v1/archivos/" + "x" * 300
            await salida.send_response(quien, {"text": f"Su estado de cuenta: {firmado}"})
        elif "hoja" in texto.lower():
            await salida.send_response(
                quien, {"text": "Aquí está su hoja de cita.", "attachment": pdf_url}
            )
        else:
            await salida.send_response(quien, {"text": f"¡Entendido! Usted escribió: {texto}"})

    app = Sanic("rasa_guion")
    app.ctx.agent = SimpleNamespace(tracker_store=almacen)
    app.blueprint(canal.blueprint(bot), url_prefix="/webhooks/socketio")
    # WhatsApp too (TWILIO_AUTH_TOKEN and PUBLIC_BASE_URL from the environment).
    app.blueprint(
        WhatsAppInput.from_credentials(None).blueprint(bot), url_prefix="/webhooks/whatsapp"
    )
    app.run(host="127.0.0.1", port=port, access_log=False, motd=False)


if __name__ == "__main__":
    main()
