"""What every action shares: the channel of the turn, its idempotency key,
clearing a form's slots, answering backend failures, and the base classes
`AccionSegura` and `ValidacionFormulario`. Reading input is in lectura.py,
formatting values in formato.py. No user-facing Spanish here: every sentence
is a response in domain.yml."""

from __future__ import annotations

import functools
import logging
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, Callable, Collection, Dict, List, Optional, Tuple

import yaml
from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from bot.actions import backend_client as bc
from bot.actions.backend_client import BackendError, BackendNoDisponible
from bot.actions.boveda import token_de
from bot.actions.formato import cantidad
from bot.actions.lectura import texto_de
from bot.actions.medicion import medir_accion

logger = logging.getLogger(__name__)

CANAL_VOZ = "ivr"

# Slots that belong to each form: cleared together when a form is left.
SLOTS_DE_FORMA: Dict[str, List[str]] = {
    "identificacion_form": ["curp", "nip"],
    "simulacion_form": ["sueldo", "renovacion", "plazo", "simulacion", "pedir_anios"],
    "cita_form": [
        "oficina",
        "oficina_nombre",
        "fecha",
        "fecha_texto",
        "inicio_cita",
        "hora_cita",
        "horarios_ofrecidos",
        "confirmar_cita",
    ],
    "cancelacion_form": [
        "clave_cita",
        "clave_deletreada",
        "fecha_nacimiento",
        "confirmar_cancelacion",
    ],
    "fopi_form": ["tipo_fopi", "monto"],
}


def canal(tracker: Tracker) -> str:
    return tracker.get_latest_input_channel() or ""


def es_voz(tracker: Tracker) -> bool:
    return canal(tracker) == CANAL_VOZ


def turno_de(tracker: Tracker) -> Tuple[Optional[str], Optional[float]]:
    """(idempotency key, deadline) of this turn, as the channel set them in the
    message's metadata: the IVR gives each turn a key and the moment it stops
    waiting; WhatsApp keys it by Twilio's MessageSid. The backend books or
    cancels at most once per key and never after the deadline."""
    metadata = (tracker.latest_message or {}).get("metadata") or {}
    if not metadata:
        for evento in reversed(tracker.events or []):
            if evento.get("event") == "user":
                metadata = evento.get("metadata") or {}
                break
    clave = metadata.get("idempotencia")
    try:
        vence = float(metadata["vence"]) if metadata.get("vence") is not None else None
    except (TypeError, ValueError):
        vence = None
    return (str(clave)[:128] if clave else None), vence


def origen(tracker: Tracker) -> str:
    """The backend's `origen` for this conversation."""
    return {"ivr": "telefono", "whatsapp": "whatsapp"}.get(canal(tracker), "web")


def limpiar(*slots: str) -> List[EventType]:
    return [SlotSet(s, None) for s in slots]


def salir_de_forma(nombre: Optional[str]) -> List[EventType]:
    """Deactivate a form and clear its slots (used by detener, asesor, errors)."""
    eventos: List[EventType] = [ActiveLoop(None), SlotSet("requested_slot", None)]
    if nombre:
        eventos += limpiar(*SLOTS_DE_FORMA.get(nombre, []))
    return eventos


def responder_error(dispatcher: CollectingDispatcher, error: Exception) -> List[EventType]:
    """The answer to a failed backend call that the action does not handle itself."""
    if isinstance(error, BackendNoDisponible):
        dispatcher.utter_message(response="utter_servicio_no_disponible")
        return []
    if isinstance(error, BackendError):
        if error.status == 401:
            # The token expired or is no longer valid: forget it, ask again next time.
            dispatcher.utter_message(response="utter_sesion_expirada")
            return [SlotSet("token", None), SlotSet("identificado", False), SlotSet("nombre", None)]
        if error.detail:
            dispatcher.utter_message(response="utter_aviso_backend", detalle=error.detail)
        else:
            dispatcher.utter_message(response="utter_servicio_no_disponible")
        return []
    raise error


def token_o_aviso(dispatcher: CollectingDispatcher, tracker: Tracker) -> Optional[str]:
    """The identity token, or None after telling the user identification is needed."""
    token = token_de(tracker)
    if not token:
        dispatcher.utter_message(response="utter_identificacion_requerida")
        return None
    return token


def respuestas_posibles(
    tracker: Tracker, slot: str, valor: Any, *, texto_primero: bool
) -> List[Any]:
    """What to read a slot's answer from: the value Rasa extracted and, when the
    user was answering this very question, the whole message too. An entity can
    be a piece of the answer ("veintisiete de abril" of "veintisiete de abril del
    cincuenta y seis", "cincuenta" of "dos mil quinientos con cincuenta centavos");
    a whole message can carry words around a date ("el jueves en la tarde")."""
    texto = str((tracker.latest_message or {}).get("text") or "").strip()
    if (
        tracker.get_slot("requested_slot") != slot
        or not texto
        or texto.startswith("/")
        or texto == texto_de(valor)
    ):
        return [valor]
    return [texto, valor] if texto_primero else [valor, texto]


def leer_primero(leer: Callable[[Any], Any], candidatos: List[Any]) -> Any:
    """The first candidate `leer` understands, or None."""
    for candidato in candidatos:
        leido = leer(candidato)
        if leido is not None:
            return leido
    return None


def slots_de_este_turno(tracker: Tracker) -> Dict[str, Any]:
    """Slots set since the latest user message (by its entities or by actions since)."""
    valores: Dict[str, Any] = {}
    for evento in reversed(tracker.events):
        if evento.get("event") == "user":
            break
        if evento.get("event") == "slot" and evento.get("name") not in valores:
            valores[evento["name"]] = evento.get("value")
    return valores


def _donde(error: BaseException) -> str:
    """`file.py:line` of the innermost frame: enough to find a bug, no values."""
    tb = error.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return f"{tb.tb_frame.f_code.co_filename.rsplit('/', 1)[-1]}:{tb.tb_lineno}" if tb else "?"


def registrar_falla(accion: str, error: BaseException) -> None:
    # Only the type and the place: messages of unexpected errors may carry a CURP or a clave.
    logger.error("%s falló inesperadamente: %s en %s", accion, type(error).__name__, _donde(error))


class AccionSegura(Action, ABC):
    """An action that always answers: an unexpected failure (a bug, a backend
    reply of an unexpected shape) becomes the apology and clean slots, never
    silence. Subclasses implement `ejecutar`; `forma` names the form whose
    slots must not stay half-set. An action that serves a request of its own
    (`deja_la_forma`) leaves a form the user was filling when they asked for
    it (see cambio_de_tramite.py). Each concrete action names itself in `nombre`
    (`action_...`). Abstract, so it is not registered."""

    nombre: str
    forma: Optional[str] = None
    deja_la_forma: bool = False

    def name(self) -> str:
        return self.nombre

    @abstractmethod
    async def ejecutar(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        """The action itself."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        abandonada = tracker.active_loop_name if self.deja_la_forma else None
        if abandonada == self.forma:
            abandonada = None  # the same request again while filling its form: it goes on
        salida: List[EventType] = []
        if abandonada:
            # What the new request itself said stays (it may prefill the next form).
            dicho_ahora = slots_de_este_turno(tracker)
            salida = [ActiveLoop(None), SlotSet("requested_slot", None)] + limpiar(
                *(s for s in SLOTS_DE_FORMA.get(abandonada, []) if s not in dicho_ahora))
        async with medir_accion(self.name()):
            try:
                return salida + await self.ejecutar(dispatcher, tracker, domain)
            except Exception as error:  # noqa: BLE001 - the user must always get an answer
                registrar_falla(self.name(), error)
                dispatcher.utter_message(response="utter_servicio_no_disponible")
                return salida + limpiar(*SLOTS_DE_FORMA.get(self.forma or "", []))


class AccionDeConsulta(AccionSegura, ABC):
    """An action that shows one read of the identified person's data: without
    a token it asks for identification; a backend failure gets its answer
    (`sin_resultado` first, for the failures that are themselves an answer);
    otherwise `mostrar` shows what `consultar` read. Every answer ends with
    the events of `al_final` (e.g. clearing a form's slots). Abstract."""

    deja_la_forma = True

    @abstractmethod
    async def consultar(self, api: bc.BackendClient, tracker: Tracker) -> Any:
        """The backend read."""

    @abstractmethod
    def mostrar(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, datos: Any
    ) -> List[EventType]:
        """The answer to what `consultar` returned."""

    def sin_resultado(self, dispatcher: CollectingDispatcher, error: BackendError) -> bool:
        """True when this failure was answered here (e.g. "no loan")."""
        return False

    def al_final(self) -> List[EventType]:
        """Events every answer of this action ends with, whatever happened."""
        return []

    async def ejecutar(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        token = token_o_aviso(dispatcher, tracker)
        if not token:
            return self.al_final()
        try:
            async with bc.cliente(token) as api:
                datos = await self.consultar(api, tracker)
        except BackendError as error:
            if self.sin_resultado(dispatcher, error):
                return self.al_final()
            return responder_error(dispatcher, error) + self.al_final()
        except BackendNoDisponible as error:
            return responder_error(dispatcher, error) + self.al_final()
        return self.mostrar(dispatcher, tracker, datos) + self.al_final()


def sin_prestamo(dispatcher: CollectingDispatcher, error: BackendError) -> bool:
    """A 404 of a loan read means no loan: say so kindly (the response offers a simulation)."""
    if error.status == 404:
        dispatcher.utter_message(response="utter_sin_prestamo", detalle=error.detail)
        return True
    return False


def mostrar_lista(
    dispatcher: CollectingDispatcher,
    filas: List[Dict[str, Any]],
    *,
    vacia: str,
    encabezado: str,
    unidad: Tuple[str, str],
    maximo: int,
    renglon: str,
    campos: Callable[[Dict[str, Any]], Dict[str, Any]],
) -> bool:
    """A listing: the `vacia` response without rows; otherwise `encabezado` with how
    many (`unidad`: singular, plural) and a `renglon` response with `campos(fila)`
    for each of the first `maximo` rows. True when there were rows."""
    if not filas:
        dispatcher.utter_message(response=vacia)
        return False
    dispatcher.utter_message(response=encabezado, cantidad=cantidad(len(filas), *unidad))
    for fila in filas[:maximo]:
        dispatcher.utter_message(response=renglon, **campos(fila))
    return True


DOMINIO = Path(__file__).resolve().parents[2] / "domain.yml"


@functools.lru_cache(maxsize=1)
def dominio_local() -> Dict[str, Any]:
    """domain.yml (repository root), read once per process. With `enable_selective_domain`
    (endpoints.yml; off for now) Rasa stops sending its ~65 KB domain with every
    action call; the form validators, the only actions that read it, then use
    this copy (the action server and the model come from the same checkout)."""
    with DOMINIO.open(encoding="utf-8") as f:
        return yaml.safe_load(f) or {}


class ValidacionFormulario(FormValidationAction):
    """FormValidationAction with three house rules:

    * slots an action just cleared are not validated: rasa_sdk validates every
      slot set since the user's last message, including the ones a preparing
      action reset to None; a cleared slot is not an answer;
    * a validator that ends the form (returns `requested_slot: None`) really
      ends it: rasa_sdk would otherwise append the next slot to ask for when
      `required_slots` is overridden, and the form would go on after saying
      the service is down;
    * an unexpected failure apologises and leaves the form with clean slots;
    * without a domain in the request (selective domain) domain.yml is used.

    Abstract (no `name`), so the action server does not register it.
    """

    @abstractmethod
    def name(self) -> str:
        """Each form's validator names itself (`validate_<form>`)."""

    def slots_omitidos(self, tracker: Tracker, domain_slots: List[str]) -> Collection[str]:
        """The form's slots not to ask in this conversation's state (none by default)."""
        return ()

    async def required_slots(
        self,
        domain_slots: List[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> List[str]:
        omitidos = self.slots_omitidos(tracker, domain_slots)
        return [s for s in domain_slots if s not in omitidos]

    def terminar(self, dispatcher: CollectingDispatcher, respuesta: str) -> Dict[str, Any]:
        """Say `respuesta` and end the form with every slot of it empty."""
        dispatcher.utter_message(response=respuesta)
        return {**{s: None for s in SLOTS_DE_FORMA[self.form_name()]}, "requested_slot": None}

    def confirmacion(
        self, slot: str, value: Any, dispatcher: CollectingDispatcher, desistida: str
    ) -> Dict[str, Any]:
        """The form's last question ("¿la confirmo?"): a yes confirms; anything else
        ends the form, saying so with `desistida`."""
        if value is True:
            return {slot: True}
        return self.terminar(dispatcher, desistida)

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        async with medir_accion(self.name()):
            if not domain.get("forms"):
                domain = dominio_local()  # Rasa sent none (selective domain)
            try:
                return await super().run(dispatcher, tracker, domain)
            except Exception as error:  # noqa: BLE001 - the user must always get an answer
                registrar_falla(self.name(), error)
                dispatcher.utter_message(response="utter_servicio_no_disponible")
                return salir_de_forma(self.form_name())

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        todos = tracker.slots_to_validate

        def con_valor() -> Dict[str, Any]:
            return {k: v for k, v in todos().items() if v is not None}

        tracker.slots_to_validate = con_valor  # type: ignore[method-assign]
        try:
            eventos = await super().get_validation_events(dispatcher, tracker, domain)
        finally:
            del tracker.slots_to_validate
        termina = any(
            e.get("event") == "slot"
            and e.get("name") == "requested_slot"
            and e.get("value") is None
            for e in eventos
        )
        if termina:
            # rasa_sdk's add_slots skips it; Rasa's form sees the loop was ended.
            eventos.append(ActiveLoop(None))
        return eventos
