"""Pure decisions for the turns where the caller talks to the bot (a leaf of the tree).

Like the menu engine (`ivr/motor.py`): the input is the state carried in the
action URL (`EstadoConversacion`) plus what Twilio posted (`Turno`) or what
the bot answered (`RespuestaRasa`); the output is a *decision*. Nothing here
talks to Rasa or renders TwiML: `ivr/llamada.py` does both, from decisions.

Keys on these turns: `*` (or "regresar") goes back to the menu the leaf hangs
from, `0` (or "asesor") to a human, `9` (or "repetir") says the bot's last
question again. Silence, a key that means nothing here, a question the bot asks
again or an answer it does not understand are failed attempts: after
`reintentos` of them the asesor is offered, one more ends the call.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

from ivr import locucion, normalizacion
from ivr.motor import Asesor, Despedir, Estado, Menu, comando_hablado, entero
from ivr.rasa import RespuestaRasa

# The bot did not understand: like the same question asked again, a failed attempt.
INTENTS_SIN_AVANCE = {"nlu_fallback", "fuera_de_alcance"}
# Keys 1-8 carry the bot's buttons (0 * 9 are reserved).
MAX_BOTONES = 8


@dataclass(frozen=True)
class EstadoConversacion:
    """Conversation state carried in the action URL's query string."""

    desde: str  # the menu the leaf hangs from (where `*` goes back to)
    slot: str | None = None  # the slot the bot asks for
    intento: int = 0
    turno: int = 0
    botones: int = 0  # buttons offered as keys 1..n

    def query(self) -> dict[str, Any]:
        return {
            "desde": self.desde, "slot": self.slot, "i": self.intento, "n": self.turno,
            "b": self.botones,
        }

    @classmethod
    def de_query(cls, query: Mapping[str, str], raiz: str) -> EstadoConversacion:
        return cls(
            desde=query.get("desde") or raiz,
            slot=query.get("slot") or None,
            intento=entero(query.get("i")),
            turno=entero(query.get("n")),
            botones=entero(query.get("b")),
        )


@dataclass(frozen=True)
class Turno:
    """What Twilio posted for one Gather."""

    digitos: str = ""
    voz: str = ""
    tecla_final: str = ""  # FinishedOnKey

    @classmethod
    def de_formulario(cls, form: Mapping[str, str]) -> Turno:
        return cls(
            form.get("Digits", "").strip(),
            form.get("SpeechResult", "").strip(),
            form.get("FinishedOnKey", ""),
        )


# ------------------------------------------------------------------ decisions

@dataclass(frozen=True)
class Regresar:
    """Stop the bot's open form and read the menu again."""

    estado: Estado


@dataclass(frozen=True)
class Repetir:
    """Say the bot's last reply again (after `aviso`) and gather in `estado`."""

    estado: EstadoConversacion
    aviso: str = ""
    ofrecer_asesor: bool = False


@dataclass(frozen=True)
class Enviar:
    """Send the caller's answer, normalised for the slot, to the bot."""

    estado: EstadoConversacion
    mensaje: str
    entrada: Literal["dtmf", "voz"]


@dataclass(frozen=True)
class Preguntar:
    """Say the bot's reply and gather the next answer in `estado`."""

    estado: EstadoConversacion
    ofrecer_asesor: bool = False


@dataclass(frozen=True)
class SinRespuesta:
    """The bot answered nothing to say: a failure of the assistant."""

    estado: EstadoConversacion


@dataclass(frozen=True)
class Disculpa:
    """After a failure of the assistant: apologise and gather once more in
    `estado` (the last chance: attempt = reintentos + 1, asesor offered)."""

    estado: EstadoConversacion


DecisionTurno = Regresar | Asesor | Despedir | Repetir | Enviar
DecisionRespuesta = Asesor | Despedir | Preguntar | SinRespuesta


@dataclass(frozen=True)
class Conversacion:
    menu: Menu
    reintentos: int = 2
    max_turnos: int = 60

    def _ultima_oportunidad(self, intento: int) -> bool:
        return intento == self.reintentos + 1

    def paso(self, estado: EstadoConversacion, turno: Turno) -> DecisionTurno:
        """One caller turn while the bot has the call."""
        textos = self.menu.textos
        estado = replace(estado, turno=estado.turno + 1)
        digitos, voz = turno.digitos, turno.voz
        if estado.turno > self.max_turnos:
            return Asesor("demasiados_turnos", estado.turno)
        comando = comando_hablado(voz) if voz and not digitos else None
        # On 4/8-digit Gathers `*` is the finishOnKey: Twilio posts at once with
        # FinishedOnKey=* (and whatever digits came before it): back, always.
        if turno.tecla_final == "*" or digitos.startswith("*") or comando == "atras":
            return Regresar(Estado(estado.desde, 0, estado.turno))
        if digitos == "0" or comando == "asesor":
            # On a NIP / date Gather 0 is also a digit: a lone 0 reaches us only
            # after the Gather's pause, and is then the asesor (no NIP is "0").
            return Asesor("solicitado", estado.turno)
        if comando == "adios":
            return Despedir("caller_se_despidio", estado.turno, (textos.adios,))
        if digitos == "9" or comando == "repetir":
            return Repetir(estado, ofrecer_asesor=self._ultima_oportunidad(estado.intento))
        if not digitos and not voz:
            return self._fallo(estado, textos.aviso_silencio)
        entrada = self.menu.entrada(estado.slot)
        solo_voz = not estado.slot or (entrada is not None and entrada.solo_voz)
        if digitos and not estado.botones and solo_voz:
            # free conversation or a spoken answer: keys other than 0 * 9 mean nothing here
            return self._fallo(
                estado, textos.aviso_solo_voz if estado.slot else textos.aviso_invalido
            )
        if not digitos:
            # the caller's words; only a plausible value (or a bare number) is rewritten
            return Enviar(estado, normalizacion.para_slot(estado.slot, voz), "voz")
        if estado.slot and not estado.botones:
            return Enviar(
                estado, normalizacion.para_slot(estado.slot, digitos, teclado=True), "dtmf"
            )
        return Enviar(estado, digitos, "dtmf")

    def _fallo(self, estado: EstadoConversacion, aviso: str) -> Despedir | Repetir:
        intento = estado.intento + 1
        if intento > self.reintentos + 1:
            return Despedir("sin_respuesta", estado.turno, (self.menu.textos.adios_silencio,))
        return Repetir(
            replace(estado, intento=intento), aviso, self._ultima_oportunidad(intento)
        )

    def tras_respuesta(
        self, antes: EstadoConversacion, r: RespuestaRasa, *, contesto: bool
    ) -> DecisionRespuesta:
        """The bot replied. `contesto`: to the caller's answer (not to a leaf's start)."""
        textos = self.menu.textos
        dijo_algo = any(locucion.para_voz(m) for m in r.mensajes)
        if r.accion == "transferir":
            return Asesor("solicitado_al_bot", antes.turno, (textos.traslado,))
        if r.accion == "colgar":
            return Despedir("bot_se_despidio", antes.turno, () if dijo_algo else (textos.adios,))
        if not dijo_algo and not r.botones:
            return SinRespuesta(antes)
        slot = r.requested_slot if r.active_loop or r.requested_slot else None
        intento = 0
        sin_entender = not slot and not antes.slot and r.intent in INTENTS_SIN_AVANCE
        if contesto and ((slot and slot == antes.slot) or sin_entender):
            # The bot asks the same thing again, or (outside a form, where a
            # "not understood" answer can still fill a slot) did not understand:
            # a failed attempt. So a caller who only says what nobody understands
            # reaches the asesor offer and the goodbye, however the bot words it.
            intento = antes.intento + 1
        if intento > self.reintentos + 1:
            return Despedir(
                "sin_respuesta_valida", antes.turno, (textos.sin_continuar, textos.adios)
            )
        botones = len(r.botones[:MAX_BOTONES])
        estado = EstadoConversacion(antes.desde, slot, intento, antes.turno, botones)
        return Preguntar(estado, self._ultima_oportunidad(intento))

    def tras_falla(self, estado: EstadoConversacion) -> Asesor | Disculpa:
        """Rasa (or whatever is behind it) failed. The apology is the last
        chance: silence then ends the call, and a second failure in a row goes
        to the asesor, so a caller is never kept apologised-to while the
        assistant is down. The slot stays: if the bot, back again, asks the
        same thing, that is one more failed attempt, not a fresh start."""
        if estado.intento > self.reintentos:
            textos = self.menu.textos
            return Asesor(
                "falla_repetida", estado.turno, (f"{textos.disculpa} {textos.traslado}",)
            )
        return Disculpa(replace(estado, intento=self.reintentos + 1, botones=0))
