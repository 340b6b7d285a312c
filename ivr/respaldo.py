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

from ivr.settings import IVRSettings
from ivr.twiml import Voz

DISCULPA = "Una disculpa, tenemos una falla técnica en este momento."
VOLVER_A_LLAMAR = (
    "Por favor, vuelva a llamar en unos minutos, o escriba al correo capp arroba issste punto gob "
    "punto mx. Gracias por llamar a ISSSTETEL."
)


def _minimo() -> bytes:
    """What is said when not even the settings could be read: no voice setting, no URL."""
    respuesta = VoiceResponse()
    respuesta.say(f"{DISCULPA} {VOLVER_A_LLAMAR}", language="es-MX")
    respuesta.hangup()
    return str(respuesta).encode("utf-8")


MINIMO = _minimo()


def documento(settings: IVRSettings, *, externo: bool = False) -> bytes:
    """Apology, then the asesor: <Dial> the configured number, or (served by
    this process) <Enqueue> with our wait message; `externo` without a number
    apologises and hangs up, since nothing of ours may be reachable."""
    voz = Voz(settings)
    if externo and not settings.ivr_asesor_numero:
        return str(voz.colgar([DISCULPA, VOLVER_A_LLAMAR])).encode("utf-8")
    return str(voz.transferir([DISCULPA, "Le comunico con un asesor. Por favor, espere en la línea."])).encode("utf-8")


def main() -> int:
    from ivr.settings import get_settings

    print(documento(get_settings(), externo=True).decode("utf-8"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
