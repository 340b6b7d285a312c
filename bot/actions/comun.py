"""Helpers shared by the actions: reading normalised input, formatting values
for the responses and answering backend failures. No user-facing Spanish here:
every sentence is a response in domain.yml."""

from __future__ import annotations

import logging
import re
import unicodedata
from abc import abstractmethod
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Dict, List, Optional

from babel.dates import format_date, get_month_names
from babel.numbers import format_currency
from rasa_sdk import Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict
from text_to_num import alpha2digit

from actions.backend_client import BackendError, BackendNoDisponible

logger = logging.getLogger(__name__)

LOCALE = "es_MX"
CANAL_VOZ = "ivr"

# Slots that belong to each form: cleared together when a form is left.
SLOTS_DE_FORMA: Dict[str, List[str]] = {
    "identificacion_form": ["curp", "nip"],
    "simulacion_form": ["plazo", "simulacion", "pedir_anios"],
    "cita_form": ["oficina", "oficina_nombre", "fecha", "fecha_texto", "inicio_cita", "hora_cita",
                  "horarios_ofrecidos", "confirmar_cita"],
    "cancelacion_form": ["clave_cita", "fecha_nacimiento", "confirmar_cancelacion"],
    "fopi_form": ["tipo_fopi", "monto"],
}


# ----------------------------------------------------------------- privacy
def mascara_curp(curp: Optional[str]) -> str:
    """`HEGG560427MVZRRL04` -> `HEGG************04` (same rule as backend.privacy)."""
    if not curp:
        return ""
    curp = curp.strip().upper()
    if len(curp) <= 6:
        return "*" * len(curp)
    return curp[:4] + "*" * (len(curp) - 6) + curp[-2:]


# ------------------------------------------------------------------ input
def sin_acentos(texto: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", texto) if not unicodedata.combining(c))


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


def leer_monto(valor: Any) -> Optional[Decimal]:
    """'15500', '$15,500.00', '15 mil', 'quince mil pesos' -> Decimal, or None."""
    texto = sin_acentos(texto_de(valor).lower())
    if not texto:
        return None
    texto = texto.replace("$", " ").replace("pesos", " ").replace("mxn", " ")
    miles = re.search(r"(\d+(?:[.,]\d+)?)\s*mil\b", texto)
    texto = alpha2digit(texto, "es")
    if miles:
        # "15 mil" / "15.5 mil": text2num would turn it into "15 1000".
        try:
            return (Decimal(miles.group(1).replace(",", ".")) * 1000).quantize(Decimal("0.01"))
        except InvalidOperation:
            return None
    numero = re.search(r"\d[\d,]*(?:\.\d{1,2})?", texto)
    if not numero:
        return None
    try:
        monto = Decimal(numero.group(0).replace(",", ""))
    except InvalidOperation:
        return None
    if monto <= 0:
        return None
    return monto.quantize(Decimal("0.01"))


def leer_entero(valor: Any) -> Optional[int]:
    texto = alpha2digit(sin_acentos(texto_de(valor).lower()), "es")
    numero = re.search(r"\d+", texto)
    return int(numero.group(0)) if numero else None


def _meses() -> Dict[str, int]:
    nombres = get_month_names("wide", locale=LOCALE)
    return {sin_acentos(str(nombre)).lower(): numero for numero, nombre in nombres.items()}


def leer_fecha(valor: Any) -> Optional[date]:
    """'27041956', '27/04/1956', '1956-04-27', '27 de abril de 1956' -> date."""
    texto = sin_acentos(texto_de(valor).lower())
    if not texto:
        return None
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", texto):
            return date.fromisoformat(texto)
        m = re.fullmatch(r"(\d{1,2})[/\-\. ](\d{1,2})[/\-\. ](\d{4})", texto)
        if m:
            return date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
        if re.fullmatch(r"\d{8}", texto):
            return date(int(texto[4:]), int(texto[2:4]), int(texto[:2]))
        relativos = {"hoy": 0, "manana": 1, "pasado manana": 2}
        if texto.strip(" .") in relativos:
            return date.today() + timedelta(days=relativos[texto.strip(" .")])
        m = re.search(r"(\d{1,2})\s+(?:de\s+)?([a-z]+)(?:\s+(?:de|del)\s+|\s+)?(\d{4})?", alpha2digit(texto, "es"))
        if m and m.group(2) in _meses():
            if m.group(3):
                return date(int(m.group(3)), _meses()[m.group(2)], int(m.group(1)))
            # "15 de marzo" without a year: the next 15 de marzo.
            hoy = date.today()
            fecha = date(hoy.year, _meses()[m.group(2)], int(m.group(1)))
            return fecha if fecha >= hoy else date(hoy.year + 1, fecha.month, fecha.day)
    except ValueError:
        return None
    return None


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
    token = tracker.get_slot("token")
    if not token:
        dispatcher.utter_message(response="utter_identificacion_requerida")
        return None
    return token


class ValidacionFormulario(FormValidationAction):
    """FormValidationAction that does not validate slots an action just cleared.

    rasa_sdk validates every slot set since the user's last message, including
    the ones a preparing action reset to None; a cleared slot is not an answer,
    so validating it would tell the user their (non-existent) answer was wrong.
    Abstract (no `name`), so the action server does not register it.
    """

    @abstractmethod
    def name(self) -> str:
        """Each form's validator names itself (`validate_<form>`)."""

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        todos = tracker.slots_to_validate

        def con_valor() -> Dict[str, Any]:
            return {k: v for k, v in todos().items() if v is not None}

        tracker.slots_to_validate = con_valor  # type: ignore[method-assign]
        try:
            return await super().get_validation_events(dispatcher, tracker, domain)
        finally:
            del tracker.slots_to_validate
