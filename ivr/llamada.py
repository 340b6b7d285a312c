"""A call, turn by turn: decisions of the engines and Rasa replies -> TwiML.

Two kinds of action URL keep all state in the query string (no server session):
  /ivr/menu?nodo=capp&i=0&n=3            a menu of menu.yml
  /ivr/conversacion?desde=citas&slot=nip&i=0&n=7&b=0
                                         a leaf handed to Rasa (slot it asks for,
                                         attempt, turn, number of buttons offered)

What to do is decided by pure functions: `ivr/motor.py` on menus,
`ivr/conversacion.py` while the bot has the call. This module talks to Rasa
and renders their decisions (`ivr/twiml.py`); it decides nothing itself.
"""

from __future__ import annotations

import asyncio
import logging

from twilio.twiml.voice_response import VoiceResponse

from ivr import locucion, normalizacion
from ivr.conversacion import (
    MAX_BOTONES,
    Conversacion,
    DecisionTurno,
    Disculpa,
    Enviar,
    EstadoConversacion,
    Regresar,
    Repetir,
    SinRespuesta,
    Turno,
)
from ivr.motor import (
    Asesor,
    Decision,
    Despedir,
    Estado,
    Iniciar,
    Interpretar,
    Mostrar,
    Motor,
    Nodo,
    entero,
)
from ivr.rasa import ClienteRasa, ErrorRasa, RespuestaRasa
from ivr.registro import Registro, mascara_telefono
from ivr.settings import IVRSettings
from ivr.twiml import Voz

logger = logging.getLogger(__name__)

# Entities of the bot's domain (DESIGN.md) the ivr may forward with an intent.


def _voz(*textos: str) -> list[str]:
    """Texts -> speakable segments, each text on its own."""
    return [segmento for texto in textos for segmento in locucion.para_voz(texto)]


class Llamada:
    def __init__(
        self, *, settings: IVRSettings, motor: Motor, rasa: ClienteRasa, registro: Registro
    ) -> None:
        self.settings = settings
        self.motor = motor
        self.conversacion_pura = Conversacion(
            motor.menu, reintentos=settings.ivr_reintentos, max_turnos=settings.ivr_max_turnos
        )
        self.rasa = rasa
        self.registro = registro
        self.textos = motor.menu.textos
        self.voz = Voz(settings, self.textos)

    # ================================================================ entry points
    def entrada(self, form: dict[str, str]) -> VoiceResponse:
        self.registro.escribir(
            form.get("CallSid", ""), "inicio", desde=mascara_telefono(form.get("From")) or None
        )
        return self._mostrar(self.motor.inicio())

    async def menu(self, query: dict[str, str], form: dict[str, str]) -> VoiceResponse:
        estado = Estado(
            query.get("nodo") or self.motor.menu.raiz,
            entero(query.get("i")),
            entero(query.get("n")),
        )
        decision = self.motor.paso(estado, form.get("Digits", ""), form.get("SpeechResult", ""))
        return await self._resolver(decision, form.get("CallSid", ""))

    async def conversacion(self, query: dict[str, str], form: dict[str, str]) -> VoiceResponse:
        estado = EstadoConversacion.de_query(query, self.motor.menu.raiz)
        decision = self.conversacion_pura.paso(estado, Turno.de_formulario(form))
        return await self._conversar(decision, form.get("CallSid", ""))

    def fin_asesor(self, form: dict[str, str]) -> VoiceResponse:
        """After <Dial>/<Enqueue>: goodbye if the asesor took the call, apology otherwise."""
        call_sid = form.get("CallSid", "")
        resultado = form.get("DialCallStatus") or form.get("QueueResult") or ""
        if resultado in {"completed", "answered", "bridged"}:
            self.registro.escribir(call_sid, "fin_ivr", motivo="atendida_por_asesor")
            return self.voz.colgar(_voz(self.textos.adios))
        self.registro.escribir(
            call_sid, "fin_ivr", motivo="asesor_no_disponible", resultado=resultado
        )
        return self.voz.colgar(_voz(f"{self.textos.asesor_no_disponible} {self.textos.adios}"))

    def espera(self, form: dict[str, str]) -> VoiceResponse:
        """The queue's waitUrl: Spanish wait message, <Leave> past IVR_ASESOR_ESPERA_MAX."""
        return self.voz.espera(entero(form.get("QueueTime")))

    def estado_twilio(self, form: dict[str, str]) -> None:
        self.registro.escribir(
            form.get("CallSid", ""),
            "estado",
            estado=form.get("CallStatus"),
            duracion=entero(form.get("CallDuration")) if form.get("CallDuration") else None,
            desde=mascara_telefono(form.get("From")) or None,
        )

    # ================================================================ menu decisions
    async def _resolver(self, decision: Decision, call_sid: str) -> VoiceResponse:
        if isinstance(decision, Mostrar):
            return self._mostrar(decision)
        if isinstance(decision, Asesor | Despedir):
            return self._terminar(call_sid, decision)
        try:
            return await asyncio.wait_for(
                self._con_rasa(decision, call_sid), self.settings.ivr_rasa_timeout
            )
        except (ErrorRasa, TimeoutError) as exc:
            if isinstance(decision, Interpretar):
                desde, turno = decision.estado.nodo, decision.estado.turno
            else:
                desde, turno = decision.hoja.padre or self.motor.menu.raiz, decision.turno
            return self._disculpa(call_sid, EstadoConversacion(desde=desde, turno=turno), exc)

    async def _con_rasa(self, decision: Iniciar | Interpretar, call_sid: str) -> VoiceResponse:
        if isinstance(decision, Interpretar):
            # Rasa reads the caller's words with spelled codes written compactly
            # ("cancelar la cita CC3QZ8"), so its NLU can see the entities too.
            texto = normalizacion.texto_libre(decision.texto)
            leido = await self.rasa.interpretar(texto)
            siguiente = self.motor.tras_interpretar(
                decision.estado, texto, leido.intent, leido.confianza
            )
            if not isinstance(siguiente, Iniciar):
                return await self._resolver(siguiente, call_sid)
            decision = siguiente
        return await self._iniciar(decision, call_sid)

    async def _iniciar(self, decision: Iniciar, call_sid: str) -> VoiceResponse:
        hoja: Nodo = decision.hoja
        estado = EstadoConversacion(desde=hoja.padre or self.motor.menu.raiz, turno=decision.turno)
        if hoja.pregunta and not decision.texto:
            return self._preguntar(_voz(hoja.pregunta), estado, RespuestaRasa())
        metadata = {
            "canal": "telefono", "nodo": hoja.id, "entrada": "voz" if decision.texto else "dtmf"
        }
        if hoja.id in self.motor.menu.nodos and hoja.intent and not decision.texto:
            # A leaf of the tree, pressed: start exactly its intent.
            mensaje = f"/{hoja.intent}"
        else:
            # Said in a sentence (Rasa's NLU already read it as this leaf's intent)
            # or something only the bot knows (a FAQ): the caller's own words go,
            # so that everything else they said ("soy jubilada", "a 48 quincenas")
            # is heard too.
            mensaje = decision.texto or ""
        respuesta = await self.rasa.enviar(call_sid, mensaje, metadata)
        return self._responder(call_sid, respuesta, estado, contesto=False)

    def _mostrar(self, decision: Mostrar) -> VoiceResponse:
        nodo = self.motor.menu.nodo(decision.estado.nodo)
        if decision.ofrecer_asesor:
            texto = f"{self.textos.oferta_asesor} {self.textos.repetir_opciones}"
        else:
            texto = self.motor.menu.texto_menu(nodo)
        segmentos = _voz(decision.aviso, texto)
        accion = self.voz.url("/ivr/menu", **decision.estado.query())
        return self.voz.preguntar(
            segmentos, accion, pistas=self.motor.menu.pistas(nodo), num_digits=1
        )

    # ================================================================ conversation
    async def _conversar(self, decision: DecisionTurno, call_sid: str) -> VoiceResponse:
        if isinstance(decision, Regresar):
            await self._detener(call_sid)
            return self._mostrar(Mostrar(decision.estado))
        if isinstance(decision, Asesor | Despedir):
            return self._terminar(call_sid, decision)
        if isinstance(decision, Repetir):
            return await self._repetir(call_sid, decision)
        return await self._enviar(call_sid, decision)

    async def _enviar(self, call_sid: str, decision: Enviar) -> VoiceResponse:
        metadata = {"canal": "telefono", "entrada": decision.entrada}
        try:
            respuesta = await asyncio.wait_for(
                self.rasa.enviar(call_sid, decision.mensaje, metadata),
                self.settings.ivr_rasa_timeout,
            )
        except (ErrorRasa, TimeoutError) as exc:
            return self._disculpa(call_sid, decision.estado, exc)
        return self._responder(call_sid, respuesta, decision.estado, contesto=True)

    def _responder(
        self, call_sid: str, r: RespuestaRasa, antes: EstadoConversacion, *, contesto: bool
    ) -> VoiceResponse:
        decision = self.conversacion_pura.tras_respuesta(antes, r, contesto=contesto)
        dicho = _voz(*r.mensajes)
        if isinstance(decision, Asesor | Despedir):
            return self._terminar(call_sid, decision, previos=dicho)
        if isinstance(decision, SinRespuesta):
            return self._disculpa(call_sid, decision.estado, ErrorRasa("Rasa no dijo nada"))
        if decision.ofrecer_asesor:
            dicho += _voz(self.textos.oferta_asesor)
        return self._preguntar(dicho, decision.estado, r)

    async def _repetir(self, call_sid: str, decision: Repetir) -> VoiceResponse:
        try:
            anterior = await asyncio.wait_for(
                self.rasa.repetir(call_sid), self.settings.ivr_rasa_timeout
            )
        except (ErrorRasa, TimeoutError) as exc:
            return self._disculpa(call_sid, decision.estado, exc)
        anterior = anterior or RespuestaRasa()
        segmentos = _voz(decision.aviso, *anterior.mensajes)
        if decision.ofrecer_asesor:
            segmentos += _voz(self.textos.oferta_asesor)
        if not anterior.mensajes and not anterior.botones:
            segmentos += _voz(self.textos.algo_mas)
        return self._preguntar(segmentos, decision.estado, anterior)

    def _preguntar(
        self, segmentos: list[str], estado: EstadoConversacion, r: RespuestaRasa
    ) -> VoiceResponse:
        """The bot's words, then how to answer: its buttons as keys, or the slot's entry."""
        segmentos = list(segmentos)
        entrada = self.motor.menu.entrada(estado.slot)
        pistas: list[str] = []
        num_digits: int | None = 1
        gato = None
        al_vacio = False
        if r.botones:
            botones = r.botones[:MAX_BOTONES]
            segmentos += [
                self.textos.opcion.format(
                    titulo=locucion.limpiar(b["title"]), tecla=locucion.numero(n)
                )
                for n, b in enumerate(botones, start=1)
            ]
            pistas = [locucion.limpiar(b["title"]) for b in botones]
        elif entrada is not None and entrada.solo_voz:
            pistas = list(entrada.pistas)  # one key: 0, * or 9, acted on at once
            segmentos += _voz(entrada.indicacion)
        elif entrada is not None:
            num_digits = entrada.digitos
            gato = "#" if entrada.gato or not entrada.digitos else None
            if entrada.digitos and entrada.digitos > 1:
                # NIP / date: `*` ends the Gather at once (back); Twilio then posts
                # even with no digits, with FinishedOnKey=*. 0 stays a digit.
                gato, al_vacio = "*", True
            pistas = list(entrada.pistas)
            segmentos += _voz(entrada.indicacion)
        elif estado.slot:
            num_digits, gato = None, "#"
        else:
            segmentos += _voz(self.textos.ayuda_conversacion)
        accion = self.voz.url("/ivr/conversacion", **estado.query())
        return self.voz.preguntar(
            segmentos, accion, pistas=pistas + ["asesor", "regresar", "repetir"],
            num_digits=num_digits, finish_on_key=gato, accion_si_vacio=al_vacio,
        )

    async def _detener(self, call_sid: str) -> None:
        """Leaving a leaf with *: stop any open form (best effort, short wait)."""
        try:
            await asyncio.wait_for(
                self.rasa.enviar(call_sid, "/detener", {"canal": "telefono"}), 2.0
            )
        except (ErrorRasa, TimeoutError):
            logger.info("No se pudo detener el formulario de %s", call_sid)

    # ================================================================ endings
    def _disculpa(
        self, call_sid: str, estado: EstadoConversacion, exc: BaseException
    ) -> VoiceResponse:
        """Rasa (or whatever is behind it) failed: apologise and offer the asesor, never silence."""
        logger.warning("Falla al hablar con Rasa en %s: %s", call_sid, type(exc).__name__)
        self.registro.escribir(call_sid, "falla", motivo="error_rasa", detalle=type(exc).__name__)
        decision = self.conversacion_pura.tras_falla(estado)
        if not isinstance(decision, Disculpa):
            return self._terminar(call_sid, decision)
        textos = self.textos
        segmentos = _voz(f"{textos.disculpa} {textos.reintentar} {textos.oferta_asesor}")
        accion = self.voz.url("/ivr/conversacion", **decision.estado.query())
        return self.voz.preguntar(segmentos, accion, pistas=["asesor", "regresar"], num_digits=1)

    def _terminar(
        self, call_sid: str, decision: Asesor | Despedir, *, previos: list[str] | None = None
    ) -> VoiceResponse:
        segmentos = (previos or []) + _voz(*decision.mensajes)
        if isinstance(decision, Asesor):
            self.registro.escribir(call_sid, "fin_ivr", motivo="asesor", detalle=decision.motivo)
            return self.voz.transferir(segmentos)
        self.registro.escribir(call_sid, "fin_ivr", motivo=decision.motivo)
        return self.voz.colgar(segmentos)
