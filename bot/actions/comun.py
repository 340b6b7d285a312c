"""Helpers shared by the actions: reading normalised input, formatting values
for the responses and answering backend failures. No user-facing Spanish here:
every sentence is a response in domain.yml."""

from __future__ import annotations

import functools
import logging
import re
from abc import ABC, abstractmethod
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple
from zoneinfo import ZoneInfo

import dateparser
import yaml
from babel import Locale
from babel.dates import format_date
from babel.numbers import format_currency
from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict
from text_to_num import alpha2digit

from bot.actions.backend_client import BackendError, BackendNoDisponible
from bot.actions.boveda import token_de
from bot.actions.medicion import medir_accion
from bot.texto import mascara_curp, sin_acentos  # noqa: F401 - the actions import them from here

logger = logging.getLogger(__name__)

LOCALE = "es_MX"
CANAL_VOZ = "ivr"

# Slots that belong to each form: cleared together when a form is left.
SLOTS_DE_FORMA: Dict[str, List[str]] = {
    "identificacion_form": ["curp", "nip"],
    "simulacion_form": ["sueldo", "renovacion", "plazo", "simulacion", "pedir_anios"],
    "cita_form": ["oficina", "oficina_nombre", "fecha", "fecha_texto", "inicio_cita", "hora_cita",
                  "horarios_ofrecidos", "confirmar_cita"],
    "cancelacion_form": ["clave_cita", "clave_deletreada", "fecha_nacimiento", "confirmar_cancelacion"],
    "fopi_form": ["tipo_fopi", "monto"],
}

# ------------------------------------------------------------------ input
def texto_de(valor: Any) -> str:
    """A slot candidate as text (entities may arrive as lists)."""
    if isinstance(valor, list):
        valor = valor[0] if valor else ""
    return "" if valor is None else str(valor).strip()


def normalizar_codigo(valor: Any) -> str:
    """CURP / clave as typed or transcribed: uppercase, no spaces or dashes."""
    return re.sub(r"[\s\-\.]", "", texto_de(valor)).upper()


def solo_digitos(valor: Any) -> str:
    return re.sub(r"\D", "", texto_de(valor))


def numeros_en_cifras(texto: str) -> str:
    """Spoken numbers as digits ("veintisiete" -> "27", "dos" -> "2", "primero" -> "1")."""
    texto = re.sub(r"\bprimer[oa]?\b", "1", texto)
    texto = alpha2digit(texto, "es", threshold=0)
    # Ordinal marks text2num or the user leave behind: "1º", "1°", "1ro", "1o".
    return re.sub(r"\b(\d{1,2})(?:º|°|ro|er|o)(?=\s|$)", r"\1", texto)


def _cantidad(texto: str) -> Optional[Decimal]:
    """An amount of pesos written or said without centavos -> Decimal, or None."""
    texto = re.sub(r"\$|\bpesos?\b|\bmxn\b|\bm\.?n\.?\b", " ", texto)
    texto = re.sub(r"(?<=\d),(?=\d{3}\b)", "", texto)  # 15,500 -> 15500
    miles = re.search(r"(\d+(?:[.,]\d+)?)\s*mil\b(.*)", texto)
    if miles:
        # "15 mil", "15.5 mil", "20 mil quinientos": text2num reads words only,
        # so digits followed by "mil" would come out as "15 1000".
        try:
            base = Decimal(miles.group(1).replace(",", ".")) * 1000
        except InvalidOperation:
            return None
        resto = re.match(r"\s*(?:y\s+)?(\d+)\b", numeros_en_cifras(miles.group(2)))
        if resto and int(resto.group(1)) < 1000:
            base += int(resto.group(1))
        return base
    numero = re.search(r"\d+(?:\.\d{1,2})?", numeros_en_cifras(texto))
    if not numero:
        return None
    try:
        return Decimal(numero.group(0))
    except InvalidOperation:
        return None


def leer_monto(valor: Any) -> Optional[Decimal]:
    """'15500', '$15,500.00', '15 mil', 'quince mil pesos', 'once mil trescientos
    veinte pesos con siete centavos' -> Decimal with cents, or None."""
    texto = sin_acentos(texto_de(valor).lower()).strip()
    if not texto:
        return None
    centavos = Decimal(0)
    # "... con siete centavos" / "... pesos con ochenta": text2num alone would turn
    # "centavos" into "1/100" and drop the cents, so the two parts are read apart.
    partes = re.match(r"(.*?)\s*\b(?:con|y)\s+([a-z0-9 ]+?)\s*(?:centavos?|ctvs?\.?|cts\.?)?\s*$", texto)
    if partes and ("centavo" in texto or re.search(r"\bpesos?\s+con\b", texto)):
        cent = re.fullmatch(r"\s*(\d{1,2})\s*", numeros_en_cifras(partes.group(2)))
        if not cent:
            return None
        centavos = Decimal(int(cent.group(1))) / 100
        texto = partes.group(1)
        pesos = _cantidad(texto) if texto.strip() else Decimal(0)
    else:
        pesos = _cantidad(texto)
    if pesos is None:
        return None
    monto = (pesos + centavos).quantize(Decimal("0.01"))
    return monto if monto > 0 else None


def leer_entero(valor: Any) -> Optional[int]:
    """'36', 'treinta y seis quincenas', 'dos años' -> the first whole number, or None."""
    numero = re.search(r"\d+", numeros_en_cifras(sin_acentos(texto_de(valor).lower())))
    return int(numero.group(0)) if numero else None


def leer_plazo(valor: Any) -> Optional[int]:
    """A plazo in quincenas: '36', 'treinta y seis quincenas', 'dos años' (48), '18 meses' (36)."""
    texto = sin_acentos(texto_de(valor).lower())
    numero = leer_entero(texto)
    if numero is None:
        return None
    if re.search(r"\banos?\b", texto):
        return numero * 24
    if re.search(r"\bmes(es)?\b", texto):
        return numero * 2
    return numero


# ------------------------------------------------------------------- dates
ZONA = ZoneInfo("America/Mexico_City")
_RELATIVOS = {"hoy": 0, "manana": 1, "pasado manana": 2}
# Words around a date that dateparser does not skip ("el jueves", "para el
# próximo martes", "el día 15 por favor"); a weekday alone already means the next one.
_RELLENO = re.compile(
    r"\b(?:el|la|los|para|por favor|porfa|xfa|dia|este|esta|proximo|proxima|siguiente|que viene|"
    r"que entra|mero|de preferencia|si se puede|puede ser|mejor|quiero|quisiera|cita)\b"
)
_DIAS = ("lunes", "martes", "miercoles", "jueves", "viernes", "sabado", "domingo")
_DIA_DE_LA_SEMANA = re.compile(r"\b(?:" + "|".join(_DIAS) + r")\b")


def hoy_mx() -> date:
    """Today in Mexico City (citas and the 36 h rule are on that clock)."""
    return datetime.now(ZONA).date()


def leer_fecha(valor: Any, *, hacia: str = "futuro", hoy: Optional[date] = None) -> Optional[date]:
    """A date as typed, tapped or said -> date, or None.

    `hacia="futuro"` (citas): 'jueves', 'el próximo martes', 'martes 18',
    'primero de junio', '15/03', 'mañana'. `hacia="pasado"` (birth dates): the
    year is required and two-digit years are in the past ('27 de abril del 56').
    dateparser reads the dates; text2num turns spoken numbers into digits.
    """
    texto = sin_acentos(texto_de(valor).lower()).strip(" .¿?¡!,")
    if not texto:
        return None
    hoy = hoy or hoy_mx()
    pasado = hacia == "pasado"
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", texto):
        try:
            fecha = date.fromisoformat(texto)
        except ValueError:
            return None
        return None if pasado and fecha > hoy else fecha
    if re.fullmatch(r"\d{8}", texto):
        # Keypad: DDMMAAAA (the IVR asks for eight digits).
        try:
            return date(int(texto[4:]), int(texto[2:4]), int(texto[:2]))
        except ValueError:
            return None
    if not pasado and texto in _RELATIVOS:
        return hoy + timedelta(days=_RELATIVOS[texto])
    texto = numeros_en_cifras(texto)
    texto = re.sub(r"\s+", " ", _RELLENO.sub(" ", texto)).strip(" ,")
    if re.search(r"\d", texto):
        # "martes 18", "viernes 20 de junio": the day number is the precise part.
        sin_dia = _DIA_DE_LA_SEMANA.sub(" ", texto).strip(" ,")
        texto = sin_dia or texto
    ajustes: Dict[str, Any] = {
        "PREFER_DATES_FROM": "past" if pasado else "future",
        "RELATIVE_BASE": datetime.combine(hoy, datetime.min.time()).replace(hour=12),
        "DATE_ORDER": "DMY",
        "RETURN_AS_TIMEZONE_AWARE": False,
    }
    if pasado:
        ajustes["REQUIRE_PARTS"] = ["day", "month", "year"]
    elif not any(d in texto for d in _DIAS) and not re.search(r"\bsemanas?\b|\bmanana\b|\bhoy\b", texto):
        ajustes["REQUIRE_PARTS"] = ["day"]  # "junio" alone is not a day
    try:
        leida = dateparser.parse(texto, languages=["es"], settings=ajustes)
    except (ValueError, OverflowError):
        return None
    if leida is None:
        return None
    fecha = leida.date()
    if pasado and fecha > hoy:
        return None
    return fecha


# ----------------------------------------------------------------- output
def dinero(valor: Any) -> str:
    try:
        return format_currency(Decimal(str(valor)), "MXN", locale=LOCALE)
    except (InvalidOperation, TypeError, ValueError):
        return str(valor)


def fecha_texto(valor: Any) -> str:
    """An ISO date/datetime as '30/01/2024'."""
    if isinstance(valor, (date, datetime)):
        d = valor
    else:
        try:
            d = datetime.fromisoformat(str(valor)) if "T" in str(valor) else date.fromisoformat(str(valor))
        except ValueError:
            return str(valor)
    return d.strftime("%d/%m/%Y")


def fecha_larga(d: date) -> str:
    return format_date(d, "EEEE d 'de' MMMM 'de' y", locale=LOCALE)


def cantidad(n: Any, singular: str, plural: str) -> str:
    """3 -> '3 quincenas', 1 -> '1 quincena' (CLDR plural rule of es-MX, via babel).
    A value that is not a whole number is returned as it came, with the plural."""
    try:
        entero = int(str(n))
    except (TypeError, ValueError):
        return f"{n} {plural}".strip()
    forma = Locale.parse(LOCALE).plural_form(entero)
    return f"{entero} {singular if forma == 'one' else plural}"


def porcentaje(tasa: Any) -> str:
    """0.16 -> '16 %'."""
    try:
        valor = Decimal(str(tasa)) * 100
    except (InvalidOperation, TypeError):
        return str(tasa)
    return f"{valor.normalize():f} %"


def deletrear(codigo: str) -> str:
    """'CC3QZ8' -> 'C C 3 Q Z 8' so a voice reads it character by character."""
    return " ".join(codigo)


# ----------------------------------------------------------------- dialog
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


def respuestas_posibles(tracker: Tracker, slot: str, valor: Any, *, texto_primero: bool) -> List[Any]:
    """What to read a slot's answer from: the value Rasa extracted and, when the
    user was answering this very question, the whole message too. An entity can
    be a piece of the answer ("veintisiete de abril" of "veintisiete de abril del
    cincuenta y seis", "cincuenta" of "dos mil quinientos con cincuenta centavos");
    a whole message can carry words around a date ("el jueves en la tarde")."""
    texto = str((tracker.latest_message or {}).get("text") or "").strip()
    if tracker.get_slot("requested_slot") != slot or not texto or texto.startswith("/") or texto == texto_de(valor):
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
    it (see cambio_de_tramite.py). Abstract, so it is not registered."""

    forma: Optional[str] = None
    deja_la_forma: bool = False

    @abstractmethod
    def name(self) -> str:
        """Each action names itself (`action_...`)."""

    @abstractmethod
    async def ejecutar(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        """The action itself."""

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[EventType]:
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

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
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
        termina = any(e.get("event") == "slot" and e.get("name") == "requested_slot" and e.get("value") is None
                      for e in eventos)
        if termina:
            # rasa_sdk's add_slots skips it; Rasa's form sees the loop was ended.
            eventos.append(ActiveLoop(None))
        return eventos
