"""The fallback TwiML for Twilio's Fallback URL, rendered once and served as bytes.

Twilio requests the Fallback URL when the Voice URL (or a later action URL)
fails: timeout, 5xx, invalid TwiML. The answer must not depend on what may be
failing at that moment: no Rasa, no database, no file write, no settings read.
So `ivr.main` renders this document once at start-up, from the settings it
already loaded, and the endpoint only checks the signature and sends the bytes.

Better still is hosting it outside this process (a Twilio TwiML Bin or any
static host), so it also answers when this service is down:

    python -m ivr.respaldo > respaldo.xml

That external variant cannot rely on this service at all, so without a
configured asesor number it apologises and hangs up instead of queueing.
"""

from __future__ import annotations

from twilio.twiml.voice_response import VoiceResponse

from ivr.motor import cargar_menu
from ivr.settings import IVRSettings
from ivr.textos import CORREO_CAPP_DICHO
from ivr.twiml import Voz

# The one prompt kept in code (textos.falla_tecnica + textos.volver_a_llamar):
# it is what is said when not even the settings or menu.yml could be read.
_SIN_NADA = (
    "Una disculpa, tenemos una falla técnica en este momento. Por favor, vuelva a llamar en "
    f"unos minutos, o escriba al correo {CORREO_CAPP_DICHO}. Gracias por llamar a ISSSTETEL."
)


def _minimo() -> bytes:
    """What is said when not even the settings could be read: no voice setting, no URL."""
    respuesta = VoiceResponse()
    respuesta.say(_SIN_NADA, language="es-MX")
    respuesta.hangup()
    return str(respuesta).encode("utf-8")


MINIMO = _minimo()


def documento(settings: IVRSettings, *, externo: bool = False) -> bytes:
    """Apology, then the asesor: <Dial> the configured number, or (served by
    this process) <Enqueue> with our wait message; `externo` without a number
    apologises and hangs up, since nothing of ours may be reachable."""
    textos = cargar_menu().textos
    voz = Voz(settings, textos)
    if externo and not settings.ivr_asesor_numero:
        respuesta = voz.colgar([textos.falla_tecnica, textos.volver_a_llamar])
    else:
        respuesta = voz.transferir([textos.falla_tecnica, textos.traslado])
    return str(respuesta).encode("utf-8")


def main() -> int:
    from ivr.settings import get_settings

    print(documento(get_settings(), externo=True).decode("utf-8"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
