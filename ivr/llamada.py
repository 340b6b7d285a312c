"""A call, turn by turn: engine decisions and Rasa replies -> TwiML.

Two kinds of action URL keep all state in the query string (no server session):
  /ivr/menu?nodo=capp&i=0&n=3            a menu of menu.yml
  /ivr/conversacion?desde=citas&slot=nip&i=0&n=7&b=0
                                         a leaf handed to Rasa (slot it asks for,
                                         attempt, turn, number of buttons offered)
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from twilio.twiml.voice_response import VoiceResponse

from ivr import locucion, normalizacion
from ivr.motor import (
    AVISO_INVALIDO,
    AVISO_SILENCIO,
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

ADIOS = "Gracias por llamar a ISSSTETEL. Hasta luego."
ADIOS_SILENCIO = "No recibimos respuesta. Puede volver a llamar cuando guste. Gracias por llamar a ISSSTETEL. Hasta luego."
DISCULPA = "Una disculpa, en este momento no podemos atender su solicitud."
OFERTA_ASESOR = "Si desea hablar con un asesor, marque 0."
AYUDA_CONVERSACION = (
    "Si necesita algo más, dígalo ahora. Para volver al menú anterior, marque asterisco; "
    "para hablar con un asesor, marque 0."
)


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
        self.voz = Voz(settings)

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
        if digitos == "0" or comando == "asesor":
            return self._asesor(call_sid, "solicitado")
        if digitos == "*" or comando == "atras":
            await self._detener(call_sid)
            return self._mostrar(Mostrar(Estado(estado.desde, 0, estado.turno)))
        if comando == "adios":
            return self._despedir(call_sid, "caller_se_despidio", ADIOS)
        if digitos == "9" or comando == "repetir":
            return await self._repetir(call_sid, estado, aviso="")
        if not digitos and not voz:
            return await self._fallo_conversacion(call_sid, estado, AVISO_SILENCIO)
        if digitos and not estado.slot and not estado.botones:
            # free conversation: keys other than 0 * 9 mean nothing here
            return await self._fallo_conversacion(call_sid, estado, AVISO_INVALIDO)
        if digitos:
            mensaje = normalizacion.para_slot(estado.slot, digitos, teclado=True) if estado.slot and not estado.botones else digitos
        else:
            mensaje = normalizacion.para_slot(estado.slot, voz) if estado.slot else normalizacion.numeros_a_digitos(voz)
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
            return self.voz.colgar(locucion.para_voz(ADIOS))
        self.registro.escribir(call_sid, "fin_ivr", motivo="asesor_no_disponible", resultado=resultado)
        return self.voz.colgar(
            locucion.para_voz(
                "Por el momento no fue posible comunicarle con un asesor. Puede volver a llamar "
                "de lunes a viernes, de 8:30 a 15:30 hrs. " + ADIOS
            )
        )

    def respaldo(self, form: dict[str, str]) -> VoiceResponse:
        """Twilio's fallback URL: static, depends on nothing but the settings."""
        self.registro.escribir(form.get("CallSid", ""), "fin_ivr", motivo="respaldo", error=form.get("ErrorCode"))
        return self.voz.transferir(
            ["Una disculpa, tenemos una falla técnica en este momento.", "Le comunico con un asesor. Por favor, espere en la línea."]
        )

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
            texto = ADIOS_SILENCIO if decision.motivo == "sin_respuesta" else ADIOS
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
            intent, confianza = await self.rasa.interpretar(decision.texto)
            siguiente = self.motor.tras_interpretar(decision.estado, decision.texto, intent, confianza)
            if not isinstance(siguiente, Iniciar):
                return await self._resolver(siguiente, {"CallSid": call_sid})
            decision = siguiente
        return await self._iniciar(decision, call_sid)

    async def _iniciar(self, decision: Iniciar, call_sid: str) -> VoiceResponse:
        hoja: Nodo = decision.hoja
        desde = hoja.padre or self.motor.menu.raiz
        if hoja.pregunta and not decision.texto:
            estado = EstadoConversacion(desde=desde, turno=decision.turno)
            return self._preguntar_conversacion(locucion.para_voz(hoja.pregunta), estado, RespuestaRasa())
        if hoja.id in self.motor.menu.nodos:
            # a leaf of the tree, pressed or named: start exactly its intent
            mensaje = f"/{hoja.intent}" if hoja.intent else normalizacion.numeros_a_digitos(decision.texto or "")
        else:
            # something only the bot knows (a FAQ): it needs the caller's words
            mensaje = normalizacion.numeros_a_digitos(decision.texto or "")
        respuesta = await self.rasa.enviar(call_sid, mensaje, {"canal": "telefono", "nodo": hoja.id})
        return self._responder(call_sid, respuesta, EstadoConversacion(desde=desde, turno=decision.turno), contestó=False)

    def _mostrar(self, decision: Mostrar) -> VoiceResponse:
        nodo = self.motor.menu.nodo(decision.estado.nodo)
        segmentos = locucion.para_voz(decision.aviso) if decision.aviso else []
        if decision.ofrecer_asesor:
            segmentos += locucion.para_voz(
                OFERTA_ASESOR + " Para escuchar de nuevo las opciones, marque 9."
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
            return self._asesor(call_sid, "solicitado_al_bot", segmentos + locucion.para_voz("Le comunico con un asesor. Por favor, espere en la línea."))
        if r.accion == "colgar":
            return self._despedir(call_sid, "bot_se_despidio", "" if segmentos else ADIOS, previos=segmentos)
        if not segmentos and not r.botones:
            return self._disculpa(call_sid, antes, ErrorRasa("Rasa no dijo nada"))
        slot = r.requested_slot if r.active_loop or r.requested_slot else None
        intento = 0
        if contestó and slot and slot == antes.slot:
            intento = antes.intento + 1  # the bot asks the same thing again: a failed attempt
        estado = EstadoConversacion(antes.desde, slot, intento, antes.turno, len(r.botones[:8]))
        if intento > self.settings.ivr_reintentos + 1:
            return self._despedir(call_sid, "sin_respuesta_valida", ADIOS, previos=segmentos + locucion.para_voz("No fue posible continuar por este medio."))
        if intento == self.settings.ivr_reintentos + 1:
            segmentos += locucion.para_voz(OFERTA_ASESOR)
        return self._preguntar_conversacion(segmentos, estado, r)

    def _preguntar_conversacion(
        self, segmentos: list[str], estado: EstadoConversacion, r: RespuestaRasa
    ) -> VoiceResponse:
        entrada = self.motor.menu.entrada(estado.slot)
        pistas: list[str] = []
        num_digits: int | None = 1
        gato = None
        segmentos = list(segmentos)
        if r.botones:
            botones = r.botones[:8]
            segmentos += [
                f"Para {locucion.limpiar(b['title'])}, marque {locucion.numero(n)}."
                for n, b in enumerate(botones, start=1)
            ]
            pistas = [locucion.limpiar(b["title"]) for b in botones]
        elif entrada is not None:
            num_digits = entrada.digitos
            gato = "#" if entrada.gato or not entrada.digitos else None
            pistas = list(entrada.pistas)
            if entrada.indicacion:
                segmentos += locucion.para_voz(entrada.indicacion)
        elif estado.slot:
            num_digits, gato = None, "#"
        else:
            segmentos += locucion.para_voz(AYUDA_CONVERSACION)
        accion = self.voz.url("/ivr/conversacion", **estado.query())
        return self.voz.preguntar(
            segmentos, accion, pistas=pistas + ["asesor", "regresar", "repetir"], num_digits=num_digits, finish_on_key=gato
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
            segmentos += locucion.para_voz(OFERTA_ASESOR)
        if not anterior.mensajes and not anterior.botones:
            segmentos += locucion.para_voz("¿En qué más puedo ayudarle?")
        return self._preguntar_conversacion(segmentos, estado, anterior)

    async def _fallo_conversacion(self, call_sid: str, estado: EstadoConversacion, aviso: str) -> VoiceResponse:
        intento = estado.intento + 1
        if intento > self.settings.ivr_reintentos + 1:
            return self._despedir(call_sid, "sin_respuesta", ADIOS_SILENCIO)
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
        """Rasa (or whatever is behind it) failed: apologise and offer the asesor, never silence."""
        logger.warning("Falla al hablar con Rasa en %s: %s", call_sid, type(exc).__name__)
        self.registro.escribir(call_sid, "falla", motivo="error_rasa", detalle=type(exc).__name__)
        siguiente = EstadoConversacion(
            estado.desde, None, self.settings.ivr_reintentos + 1, estado.turno, 0
        )
        segmentos = locucion.para_voz(
            DISCULPA + " " + OFERTA_ASESOR + " Para volver al menú anterior, marque asterisco."
        )
        return self.voz.preguntar(
            segmentos, self.voz.url("/ivr/conversacion", **siguiente.query()), pistas=["asesor", "regresar"], num_digits=1
        )

    def _asesor(self, call_sid: str, motivo: str, segmentos: list[str] | None = None) -> VoiceResponse:
        self.registro.escribir(call_sid, "fin_ivr", motivo="asesor", detalle=motivo)
        return self.voz.transferir(segmentos or [])

    def _despedir(self, call_sid: str, motivo: str, texto: str, *, previos: list[str] | None = None) -> VoiceResponse:
        self.registro.escribir(call_sid, "fin_ivr", motivo=motivo)
        return self.voz.colgar((previos or []) + locucion.para_voz(texto))
