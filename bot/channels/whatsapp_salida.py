"""What the WhatsApp channel says by itself (Spanish, es-MX) and the output
channel that collects the bot's messages of one turn."""

from __future__ import annotations

from rasa.core.channels.channel import CollectingOutputChannel

from bot.texto import LINEA_CAPP

CANAL = "whatsapp"

SUGERENCIA = "Por ejemplo: «saldo», «simular préstamo» o «agendar cita»."
_CONSULTA = "¿Me escribe su consulta? " + SUGERENCIA
_SOLO_TEXTO = "pero por este medio solo puedo leer texto. " + _CONSULTA
_TARDANDO = "Disculpe, su consulta está tardando más de lo normal."
MENSAJES = {
    "imagen": "Recibí su imagen, " + _SOLO_TEXTO,
    "audio": "Recibí su nota de voz, pero por ahora no puedo escuchar audios. " + _CONSULTA,
    "video": "Recibí su video, " + _SOLO_TEXTO,
    "archivo": "Recibí su archivo, " + _SOLO_TEXTO,
    "ubicacion": "Gracias por compartir su ubicación; no la necesito para atenderle. " + _CONSULTA,
    "vacio": "No recibí texto en su mensaje. " + _CONSULTA,
    "error": (
        "Lo siento, tuve un problema para atenderle. Intente de nuevo en unos minutos "
        f"o llame a {LINEA_CAPP}."
    ),
    "sin_respuesta": "Disculpe, no tengo una respuesta para eso. ¿Me lo puede decir de otra forma? "
    + SUGERENCIA,
    "demora": _TARDANDO + " Escríbame de nuevo en un momento y le mostraré la respuesta.",
    "demora_saliente": _TARDANDO + " En cuanto tenga la respuesta se la envío por aquí.",
    "anterior": "Esta es la respuesta a su mensaje anterior:",
}


class WhatsAppOutput(CollectingOutputChannel):
    """Collects the bot's messages of one turn; the webhook turns them into TwiML."""

    @classmethod
    def name(cls) -> str:
        return CANAL
