"""TwiML built with Twilio's own `VoiceResponse` (never by string concatenation).

Every prompt is a `<Gather input="dtmf speech" language="es-MX">` followed by a
`<Redirect>` to the same action: Twilio runs the Redirect only when the caller
said and pressed nothing, so silence is handled by the same state machine as
any other input. Every call ends with `<Hangup>` or `<Dial>`/`<Enqueue>`.
"""

from __future__ import annotations

from urllib.parse import urlencode

from twilio.twiml.voice_response import Gather, Say, VoiceResponse

from ivr.settings import IVRSettings
from ivr.textos import Textos

PAUSA_SEGMENTOS = "300ms"


class Voz:
    """Renders what the caller hears with the configured es-MX voice."""

    def __init__(self, settings: IVRSettings, textos: Textos) -> None:
        self.settings = settings
        self.textos = textos

    # ----------------------------------------------------------------- urls
    def url(self, path: str, **query: object) -> str:
        limpio = {k: str(v) for k, v in query.items() if v is not None and v != ""}
        base = self.settings.public_base_url.rstrip("/") + path
        return base + ("?" + urlencode(limpio) if limpio else "")

    # ----------------------------------------------------------------- pieces
    def say(self, segmentos: list[str]) -> Say:
        say = Say(voice=self.settings.ivr_voz, language=self.settings.ivr_idioma)
        for n, segmento in enumerate(s for s in segmentos if s.strip()):
            if n:
                say.break_(time=PAUSA_SEGMENTOS)
            say.append(segmento)
        return say

    def preguntar(
        self,
        segmentos: list[str],
        action: str,
        *,
        pistas: list[str] | None = None,
        num_digits: int | None = 1,
        finish_on_key: str | None = None,
        accion_si_vacio: bool = False,
    ) -> VoiceResponse:
        """Say the prompt inside a Gather; on silence, Redirect to the same action.

        `accion_si_vacio` (actionOnEmptyResult) makes Twilio post even when no
        digit was collected, e.g. when `*` is the finishOnKey and the caller
        presses it first: the post then carries FinishedOnKey=*."""
        respuesta = VoiceResponse()
        opciones: dict[str, object] = {
            "input": "dtmf speech",
            "language": self.settings.ivr_idioma,
            "action": action,
            "method": "POST",
            "timeout": self.settings.ivr_gather_timeout,
            "speech_timeout": "auto",
            "action_on_empty_result": False,
        }
        if pistas:
            opciones["hints"] = ", ".join(pistas)
        if num_digits:
            opciones["num_digits"] = num_digits
        if finish_on_key:
            opciones["finish_on_key"] = finish_on_key
        if accion_si_vacio:
            opciones["action_on_empty_result"] = True
        gather = Gather(**opciones)
        gather.append(self.say(segmentos))
        respuesta.append(gather)
        respuesta.redirect(action, method="POST")
        return respuesta

    def colgar(self, segmentos: list[str]) -> VoiceResponse:
        respuesta = VoiceResponse()
        if segmentos:
            respuesta.append(self.say(segmentos))
        respuesta.hangup()
        return respuesta

    def transferir(self, segmentos: list[str], *, espera: bool = True) -> VoiceResponse:
        """To a human: <Dial> IVR_ASESOR_NUMERO if set, else <Enqueue> into
        IVR_ASESOR_COLA (never ISSSTETEL itself: settings refuse it). When that
        leg ends Twilio posts to /ivr/asesor/fin, which says goodbye (or
        apologises if nobody answered) and hangs up. `espera=False` leaves
        Twilio's own hold music (the fallback must not depend on this service)."""
        respuesta = VoiceResponse()
        respuesta.append(self.say(segmentos or [self.textos.traslado]))
        fin = self.url("/ivr/asesor/fin")
        if self.settings.ivr_asesor_numero:
            respuesta.dial(self.settings.ivr_asesor_numero, action=fin, method="POST", timeout=30)
        elif espera:
            respuesta.enqueue(
                self.settings.ivr_asesor_cola, action=fin, method="POST",
                wait_url=self.url("/ivr/asesor/espera"), wait_url_method="POST",
            )
        else:
            respuesta.enqueue(self.settings.ivr_asesor_cola, action=fin, method="POST")
        return respuesta

    def espera(self, segundos_en_cola: int) -> VoiceResponse:
        """Twilio's waitUrl for the queue: a Spanish wait message, then a pause;
        Twilio asks again when it ends. Past the limit, <Leave>: the Enqueue's
        action (/ivr/asesor/fin) then apologises and hangs up."""
        respuesta = VoiceResponse()
        if segundos_en_cola >= self.settings.ivr_asesor_espera_max:
            respuesta.append(self.say([self.textos.espera_agotada]))
            respuesta.leave()
            return respuesta
        texto = self.textos.espera_inicio if segundos_en_cola < 5 else self.textos.espera
        respuesta.append(self.say([texto]))
        respuesta.pause(length=20)
        return respuesta
