"""A call, turn by turn: engine decisions and Rasa replies -> TwiML.

Two kinds of action URL keep all state in the query string (no server session):
  /ivr/menu?nodo=capp&i=0&n=3            a menu of menu.yml
  /ivr/conversacion?desde=citas&slot=nip&i=0&n=7&b=0
                                         a leaf handed to Rasa (slot it asks for,
                                         attempt, turn, number of buttons offered)
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, replace
from typing import Any

from twilio.twiml.voice_response import VoiceResponse

from ivr import claves, locucion, normalizacion
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
    comando_hablado,
)
from ivr.rasa import ClienteRasa, ErrorRasa, RespuestaRasa
from ivr.registro import Registro, mascara_telefono
from ivr.settings import IVRSettings
from ivr.twiml import Voz

logger = logging.getLogger(__name__)

# Entities of the bot's domain (DESIGN.md) the ivr may forward with an intent.
ENTIDADES_DEL_BOT = {"curp", "clave_cita", "monto", "plazo", "fecha", "oficina"}
# The bot did not understand: like the same question asked again, a failed attempt.
INTENTS_SIN_AVANCE = {"nlu_fallback", "fuera_de_alcance"}


@dataclass(frozen=True)
class EstadoConversacion:
    desde: str
    slot: str | None = None
    intento: int = 0
    turno: int = 0
    botones: int = 0

    def query(self) -> dict[str, Any]:
        return {"desde": self.desde, "slot": self.slot, "i": self.intento, "n": self.turno, "b": self.botones}


def _entero(valor: str | None, defecto: int = 0) -> int:
    try:
        return max(int(valor or defecto), 0)
    except ValueError:
        return defecto


class Llamada:
    def __init__(
        self, *, settings: IVRSettings, motor: Motor, rasa: ClienteRasa, registro: Registro
    ) -> None:
        self.settings = settings
        self.motor = motor
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
            query.get("nodo") or self.motor.menu.raiz, _entero(query.get("i")), _entero(query.get("n"))
        )
        decision = self.motor.paso(estado, form.get("Digits", ""), form.get("SpeechResult", ""))
        return await self._resolver(decision, form)

    async def conversacion(self, query: dict[str, str], form: dict[str, str]) -> VoiceResponse:
        estado = EstadoConversacion(
            desde=query.get("desde") or self.motor.menu.raiz,
            slot=query.get("slot") or None,
            intento=_entero(query.get("i")),
            turno=_entero(query.get("n")) + 1,
            botones=_entero(query.get("b")),
        )
        call_sid = form.get("CallSid", "")
        digitos = form.get("Digits", "").strip()
        voz = form.get("SpeechResult", "").strip()
        if estado.turno > self.settings.ivr_max_turnos:
            return self._asesor(call_sid, "demasiados_turnos")
        comando = comando_hablado(voz) if voz and not digitos else None
        # On 4/8-digit Gathers `*` is the finishOnKey: Twilio posts at once with
        # FinishedOnKey=* (and whatever digits came before it): back, always.
        atras = form.get("FinishedOnKey") == "*" or digitos.startswith("*")
        if atras or comando == "atras":
            await self._detener(call_sid)
            return self._mostrar(Mostrar(Estado(estado.desde, 0, estado.turno)))
        if digitos == "0" or comando == "asesor":
            # On a NIP / date Gather 0 is also a digit: a lone 0 reaches us only
            # after the Gather's pause, and is then the asesor (no NIP is "0").
            return self._asesor(call_sid, "solicitado")
        if comando == "adios":
            return self._despedir(call_sid, "caller_se_despidio", self.textos.adios)
        if digitos == "9" or comando == "repetir":
            return await self._repetir(call_sid, estado, aviso="")
        if not digitos and not voz:
            return await self._fallo_conversacion(call_sid, estado, self.textos.aviso_silencio)
        entrada = self.motor.menu.entrada(estado.slot)
        if digitos and not estado.botones and (not estado.slot or (entrada is not None and entrada.solo_voz)):
            # free conversation or a spoken answer: keys other than 0 * 9 mean nothing here
            aviso = self.textos.aviso_solo_voz if estado.slot else self.textos.aviso_invalido
            return await self._fallo_conversacion(call_sid, estado, aviso)
        if digitos:
            mensaje = normalizacion.para_slot(estado.slot, digitos, teclado=True) if estado.slot and not estado.botones else digitos
        else:
            # the caller's words; only a plausible value (or a bare number) is rewritten
            mensaje = normalizacion.para_slot(estado.slot, voz)
        metadata = {"canal": "telefono", "entrada": "dtmf" if digitos else "voz"}
        try:
            respuesta = await asyncio.wait_for(
                self.rasa.enviar(call_sid, mensaje, metadata), self.settings.ivr_rasa_timeout
            )
        except (ErrorRasa, TimeoutError) as exc:
            return self._disculpa(call_sid, estado, exc)
        return self._responder(call_sid, respuesta, estado, contestó=True)

    def fin_asesor(self, form: dict[str, str]) -> VoiceResponse:
        """After <Dial>/<Enqueue>: goodbye if the asesor took the call, apology otherwise."""
        call_sid = form.get("CallSid", "")
        resultado = form.get("DialCallStatus") or form.get("QueueResult") or ""
        if resultado in {"completed", "answered", "bridged"}:
            self.registro.escribir(call_sid, "fin_ivr", motivo="atendida_por_asesor")
            return self.voz.colgar(locucion.para_voz(self.textos.adios))
        self.registro.escribir(call_sid, "fin_ivr", motivo="asesor_no_disponible", resultado=resultado)
        return self.voz.colgar(
            locucion.para_voz(self.textos.asesor_no_disponible + " " + self.textos.adios)
        )

    def espera(self, form: dict[str, str]) -> VoiceResponse:
        """The queue's waitUrl: Spanish wait message, <Leave> past IVR_ASESOR_ESPERA_MAX."""
        return self.voz.espera(_entero(form.get("QueueTime")))

    def estado_twilio(self, form: dict[str, str]) -> None:
        self.registro.escribir(
            form.get("CallSid", ""),
            "estado",
            estado=form.get("CallStatus"),
            duracion=_entero(form.get("CallDuration")) if form.get("CallDuration") else None,
            desde=mascara_telefono(form.get("From")) or None,
        )

    # ================================================================ menu decisions
    async def _resolver(self, decision: Decision, form: dict[str, str]) -> VoiceResponse:
        call_sid = form.get("CallSid", "")
        if isinstance(decision, Mostrar):
            return self._mostrar(decision)
        if isinstance(decision, Asesor):
            return self._asesor(call_sid, decision.motivo)
        if isinstance(decision, Despedir):
            texto = self.textos.adios_silencio if decision.motivo == "sin_respuesta" else self.textos.adios
            return self._despedir(call_sid, decision.motivo, texto)
        try:
            return await asyncio.wait_for(
                self._con_rasa(decision, call_sid), self.settings.ivr_rasa_timeout
            )
        except (ErrorRasa, TimeoutError) as exc:
            desde = decision.estado.nodo if isinstance(decision, Interpretar) else (decision.hoja.padre or self.motor.menu.raiz)
            turno = decision.estado.turno if isinstance(decision, Interpretar) else decision.turno
            return self._disculpa(call_sid, EstadoConversacion(desde=desde, turno=turno), exc)

    async def _con_rasa(self, decision: Iniciar | Interpretar, call_sid: str) -> VoiceResponse:
        if isinstance(decision, Interpretar):
            # Rasa reads the caller's words with spelled codes written compactly
            # ("cancelar la cita CC3QZ8"), so its NLU can see the entities too.
            texto = normalizacion.texto_libre(decision.texto)
            leido = await self.rasa.interpretar(texto)
            siguiente = self.motor.tras_interpretar(decision.estado, texto, leido.intent, leido.confianza)
            if not isinstance(siguiente, Iniciar):
                return await self._resolver(siguiente, {"CallSid": call_sid})
            # ours (validated clave / CURP) win over the NLU's for the same entity
            entidades = {k: v for k, v in leido.entidades.items() if k in ENTIDADES_DEL_BOT}
            entidades |= claves.entidades(decision.texto)
            decision = replace(siguiente, entidades=tuple(sorted(entidades.items())))
        return await self._iniciar(decision, call_sid)

    async def _iniciar(self, decision: Iniciar, call_sid: str) -> VoiceResponse:
        hoja: Nodo = decision.hoja
        desde = hoja.padre or self.motor.menu.raiz
        if hoja.pregunta and not decision.texto:
            estado = EstadoConversacion(desde=desde, turno=decision.turno)
            return self._preguntar_conversacion(locucion.para_voz(hoja.pregunta), estado, RespuestaRasa())
        metadata = {"canal": "telefono", "nodo": hoja.id, "entrada": "voz" if decision.texto else "dtmf"}
        if hoja.id in self.motor.menu.nodos and hoja.intent:
            # A leaf of the tree, pressed or named: start exactly its intent. When
            # it was named in a sentence, what the caller already said goes along
            # as the intent's entities: /cancelar_cita{"clave_cita": "CC3QZ8"}.
            mensaje = f"/{hoja.intent}"
            if decision.entidades:
                mensaje += json.dumps(dict(decision.entidades), ensure_ascii=False)
        else:
            # something only the bot knows (a FAQ): it needs the caller's words
            mensaje = normalizacion.texto_libre(decision.texto or "")
        respuesta = await self.rasa.enviar(call_sid, mensaje, metadata)
        return self._responder(call_sid, respuesta, EstadoConversacion(desde=desde, turno=decision.turno), contestó=False)

    def _mostrar(self, decision: Mostrar) -> VoiceResponse:
        nodo = self.motor.menu.nodo(decision.estado.nodo)
        segmentos = locucion.para_voz(decision.aviso) if decision.aviso else []
        if decision.ofrecer_asesor:
            segmentos += locucion.para_voz(
                self.textos.oferta_asesor + " " + self.textos.repetir_opciones
            )
        else:
            segmentos += locucion.para_voz(self.motor.menu.texto_menu(nodo))
        accion = self.voz.url("/ivr/menu", **decision.estado.query())
        return self.voz.preguntar(segmentos, accion, pistas=self.motor.menu.pistas(nodo), num_digits=1)

    # ================================================================ conversation
    def _responder(
        self, call_sid: str, r: RespuestaRasa, antes: EstadoConversacion, *, contestó: bool
    ) -> VoiceResponse:
        segmentos: list[str] = []
        for mensaje in r.mensajes:
            segmentos += locucion.para_voz(mensaje)
        if r.accion == "transferir":
            return self._asesor(call_sid, "solicitado_al_bot", segmentos + locucion.para_voz(self.textos.traslado))
        if r.accion == "colgar":
            return self._despedir(call_sid, "bot_se_despidio", "" if segmentos else self.textos.adios, previos=segmentos)
        if not segmentos and not r.botones:
            return self._disculpa(call_sid, antes, ErrorRasa("Rasa no dijo nada"))
        slot = r.requested_slot if r.active_loop or r.requested_slot else None
        intento = 0
        sin_entender = not slot and not antes.slot and r.intent in INTENTS_SIN_AVANCE
        if contestó and ((slot and slot == antes.slot) or sin_entender):
            # The bot asks the same thing again, or (outside a form, where a
            # "not understood" answer can still fill a slot) did not understand:
            # a failed attempt. So a caller who only says what nobody understands
            # reaches the asesor offer and the goodbye, however the bot words it.
            intento = antes.intento + 1
        estado = EstadoConversacion(antes.desde, slot, intento, antes.turno, len(r.botones[:8]))
        if intento > self.settings.ivr_reintentos + 1:
            return self._despedir(call_sid, "sin_respuesta_valida", self.textos.adios, previos=segmentos + locucion.para_voz(self.textos.sin_continuar))
        if intento == self.settings.ivr_reintentos + 1:
            segmentos += locucion.para_voz(self.textos.oferta_asesor)
        return self._preguntar_conversacion(segmentos, estado, r)

    def _preguntar_conversacion(
        self, segmentos: list[str], estado: EstadoConversacion, r: RespuestaRasa
    ) -> VoiceResponse:
        entrada = self.motor.menu.entrada(estado.slot)
        pistas: list[str] = []
        num_digits: int | None = 1
        gato = None
        al_vacio = False
        segmentos = list(segmentos)
        if r.botones:
            botones = r.botones[:8]
            segmentos += [
                self.textos.opcion.format(titulo=locucion.limpiar(b["title"]), tecla=locucion.numero(n))
                for n, b in enumerate(botones, start=1)
            ]
            pistas = [locucion.limpiar(b["title"]) for b in botones]
        elif entrada is not None and entrada.solo_voz:
            pistas = list(entrada.pistas)  # one key: 0, * or 9, acted on at once
            if entrada.indicacion:
                segmentos += locucion.para_voz(entrada.indicacion)
        elif entrada is not None:
            num_digits = entrada.digitos
            gato = "#" if entrada.gato or not entrada.digitos else None
            if entrada.digitos and entrada.digitos > 1:
                # NIP / date: `*` ends the Gather at once (back); Twilio then posts
                # even with no digits, with FinishedOnKey=*. 0 stays a digit.
                gato, al_vacio = "*", True
            pistas = list(entrada.pistas)
            if entrada.indicacion:
                segmentos += locucion.para_voz(entrada.indicacion)
        elif estado.slot:
            num_digits, gato = None, "#"
        else:
            segmentos += locucion.para_voz(self.textos.ayuda_conversacion)
        accion = self.voz.url("/ivr/conversacion", **estado.query())
        return self.voz.preguntar(
            segmentos, accion, pistas=pistas + ["asesor", "regresar", "repetir"], num_digits=num_digits,
            finish_on_key=gato, accion_si_vacio=al_vacio,
        )

    async def _repetir(self, call_sid: str, estado: EstadoConversacion, *, aviso: str) -> VoiceResponse:
        try:
            anterior = await asyncio.wait_for(self.rasa.repetir(call_sid), self.settings.ivr_rasa_timeout)
        except (ErrorRasa, TimeoutError) as exc:
            return self._disculpa(call_sid, estado, exc)
        anterior = anterior or RespuestaRasa()
        segmentos = locucion.para_voz(aviso) if aviso else []
        for mensaje in anterior.mensajes:
            segmentos += locucion.para_voz(mensaje)
        if estado.intento == self.settings.ivr_reintentos + 1:
            segmentos += locucion.para_voz(self.textos.oferta_asesor)
        if not anterior.mensajes and not anterior.botones:
            segmentos += locucion.para_voz(self.textos.algo_mas)
        return self._preguntar_conversacion(segmentos, estado, anterior)

    async def _fallo_conversacion(self, call_sid: str, estado: EstadoConversacion, aviso: str) -> VoiceResponse:
        intento = estado.intento + 1
        if intento > self.settings.ivr_reintentos + 1:
            return self._despedir(call_sid, "sin_respuesta", self.textos.adios_silencio)
        siguiente = EstadoConversacion(estado.desde, estado.slot, intento, estado.turno, estado.botones)
        return await self._repetir(call_sid, siguiente, aviso=aviso)

    async def _detener(self, call_sid: str) -> None:
        """Leaving a leaf with *: stop any open form (best effort, short wait)."""
        try:
            await asyncio.wait_for(self.rasa.enviar(call_sid, "/detener", {"canal": "telefono"}), 2.0)
        except (ErrorRasa, TimeoutError):
            logger.info("No se pudo detener el formulario de %s", call_sid)

    # ================================================================ endings
    def _disculpa(self, call_sid: str, estado: EstadoConversacion, exc: BaseException) -> VoiceResponse:
        """Rasa (or whatever is behind it) failed: apologise and offer the asesor, never silence.

        The apology is the last chance (attempt = reintentos + 1): silence then
        ends the call, and a second failure in a row goes to the asesor, so a
        caller is never kept apologised-to while the assistant is down."""
        logger.warning("Falla al hablar con Rasa en %s: %s", call_sid, type(exc).__name__)
        self.registro.escribir(call_sid, "falla", motivo="error_rasa", detalle=type(exc).__name__)
        if estado.intento > self.settings.ivr_reintentos:
            return self._asesor(call_sid, "falla_repetida", locucion.para_voz(
                self.textos.disculpa + " " + self.textos.traslado))
        # The slot stays: if the bot, back again, asks the same thing, that is one
        # more failed attempt, not a fresh start.
        siguiente = EstadoConversacion(
            estado.desde, estado.slot, self.settings.ivr_reintentos + 1, estado.turno, 0
        )
        segmentos = locucion.para_voz(" ".join([self.textos.disculpa, self.textos.reintentar, self.textos.oferta_asesor]))
        return self.voz.preguntar(
            segmentos, self.voz.url("/ivr/conversacion", **siguiente.query()), pistas=["asesor", "regresar"], num_digits=1
        )

    def _asesor(self, call_sid: str, motivo: str, segmentos: list[str] | None = None) -> VoiceResponse:
        self.registro.escribir(call_sid, "fin_ivr", motivo="asesor", detalle=motivo)
        return self.voz.transferir(segmentos or [])

    def _despedir(self, call_sid: str, motivo: str, texto: str, *, previos: list[str] | None = None) -> VoiceResponse:
        self.registro.escribir(call_sid, "fin_ivr", motivo=motivo)
        return self.voz.colgar((previos or []) + locucion.para_voz(texto))
