"""The one engine that walks the phone tree in `menu.yml`.

Pure: it takes the state carried in the action URL (node, attempt, turn) and
what the caller pressed or said, and returns a *decision*; `ivr/llamada.py`
turns decisions into TwiML (and talks to Rasa when a decision needs it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, Field, model_validator

from habla.opciones import ULTIMA, numero_de_opcion
from ivr.numeros import numeros_a_digitos
from ivr.palabras import sin_acentos
from ivr.textos import Textos

MENU_PATH = Path(__file__).with_name("menu.yml")
TECLAS_RESERVADAS = {"0", "*", "9"}


class Nodo(BaseModel):
    id: str = ""
    padre: str | None = None
    titulo: str = ""
    frases: list[str] = Field(default_factory=list)
    intro: str = ""
    opciones: dict[str, str] = Field(default_factory=dict)
    intent: str | None = None
    pregunta: str | None = None

    @property
    def es_hoja(self) -> bool:
        return not self.opciones


class Entrada(BaseModel):
    digitos: int | None = Field(default=None, ge=1, le=20)
    gato: bool = False
    # A spoken answer (clave, CURP): the keypad only carries 0 * 9, one key, at once.
    solo_voz: bool = False
    pistas: list[str] = Field(default_factory=list)
    indicacion: str = ""

    @model_validator(mode="after")
    def _coherente(self) -> Entrada:
        if self.solo_voz and (self.digitos or self.gato):
            raise ValueError("una entrada solo_voz no lleva digitos ni gato")
        return self


class Menu(BaseModel):
    raiz: str
    nodos: dict[str, Nodo]
    entradas: dict[str, Entrada] = Field(default_factory=dict)
    textos: Textos

    @model_validator(mode="after")
    def _coherente(self) -> Menu:
        for nid, nodo in self.nodos.items():
            nodo.id = nid
            if nodo.opciones and (nodo.intent or nodo.pregunta):
                raise ValueError(f"{nid}: un nodo es menú u hoja, no ambos")
            if not nodo.opciones and not (nodo.intent or nodo.pregunta):
                raise ValueError(f"{nid}: una hoja necesita intent o pregunta")
            for tecla, hijo in nodo.opciones.items():
                if tecla in TECLAS_RESERVADAS or not re.fullmatch(r"[1-8]", tecla):
                    raise ValueError(f"{nid}: la tecla {tecla!r} está reservada o no es válida")
                if hijo not in self.nodos:
                    raise ValueError(f"{nid}: opción {tecla} lleva a {hijo!r}, que no existe")
                if self.nodos[hijo].padre != nid:
                    raise ValueError(f"{hijo}: su padre debe ser {nid}")
            if nodo.padre is not None and nodo.padre not in self.nodos:
                raise ValueError(f"{nid}: padre {nodo.padre!r} no existe")
        if self.raiz not in self.nodos or self.nodos[self.raiz].padre is not None:
            raise ValueError("la raíz debe existir y no tener padre")
        return self

    # ------------------------------------------------------------- queries
    def nodo(self, nid: str | None) -> Nodo:
        return self.nodos.get(nid or "", self.nodos[self.raiz])

    def hoja_por_intent(self, intent: str | None) -> Nodo | None:
        for nodo in self.nodos.values():
            if intent and nodo.intent == intent:
                return nodo
        return None

    def entrada(self, slot: str | None) -> Entrada | None:
        return self.entradas.get(slot or "")

    def texto_menu(self, nodo: Nodo) -> str:
        """The spoken menu: intro, then 'Para X, marque N.' per option, then the help."""
        partes = [nodo.intro] if nodo.intro else []
        for tecla, hijo in sorted(nodo.opciones.items()):
            partes.append(self.textos.opcion.format(titulo=self.nodos[hijo].titulo, tecla=tecla))
        partes.append(self.textos.menu_asesor)
        if nodo.padre is not None:
            partes.append(self.textos.menu_regresar)
        partes.append(self.textos.menu_repetir)
        return " ".join(partes)

    def pistas(self, nodo: Nodo) -> list[str]:
        pistas: list[str] = []
        for hijo in nodo.opciones.values():
            pistas.extend(self.nodos[hijo].frases)
        pistas += ["asesor", "regresar", "repetir", "cancelar mi cita", "saldo"]
        return list(dict.fromkeys(pistas))


@lru_cache
def cargar_menu(path: str | None = None) -> Menu:
    datos = yaml.safe_load(Path(path or MENU_PATH).read_text(encoding="utf-8"))
    return Menu.model_validate(datos)


# ------------------------------------------------------------------ state

def entero(valor: str | None, defecto: int = 0) -> int:
    """A counter from the query string or Twilio's form; junk reads as `defecto`."""
    try:
        return max(int(valor or defecto), 0)
    except ValueError:
        return defecto


@dataclass(frozen=True)
class Estado:
    """Menu state carried in the action URL's query string."""

    nodo: str
    intento: int = 0
    turno: int = 0

    def query(self) -> dict[str, str]:
        return {"nodo": self.nodo, "i": str(self.intento), "n": str(self.turno)}


# ------------------------------------------------------------------ decisions

@dataclass(frozen=True)
class Mostrar:
    """Read a menu and gather. `aviso` is said first ("No le escuché.")."""

    estado: Estado
    aviso: str = ""
    ofrecer_asesor: bool = False  # last chance: only "0 for an asesor" is offered


@dataclass(frozen=True)
class Iniciar:
    """A leaf: hand the call to Rasa (intent) or ask the leaf's free question."""

    hoja: Nodo
    turno: int
    texto: str | None = None  # what the caller said, when the leaf was reached by speech


@dataclass(frozen=True)
class Interpretar:
    """Speech that is no menu word: ask Rasa's NLU what it means."""

    estado: Estado
    texto: str


@dataclass(frozen=True)
class Asesor:
    """Transfer to a human; `mensajes` are said first (none: the usual notice)."""

    motivo: str = "solicitado"
    turno: int = 0
    mensajes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Despedir:
    """Say `mensajes` and hang up."""

    motivo: str
    turno: int = 0
    mensajes: tuple[str, ...] = ()


Decision = Mostrar | Iniciar | Interpretar | Asesor | Despedir

_PALABRAS_ASESOR = re.compile(
    r"\b(asesor|asesora|operador|operadora|agente|ejecutivo|una persona)\b"
)
# "¿estoy hablando con una persona o es una grabación?" asks whether this is a
# bot (Rasa answers it); only an explicit request transfers.
_PREGUNTA_SI_ES_BOT = re.compile(
    r"\b(estoy hablando|hablo con|eres|es usted|grabacion|robot|maquina|contestadora)\b"
)
_PIDE_ASESOR = re.compile(
    r"\b(quiero|quisiera|necesito|ocupo|paseme|pasame|comuniqueme|comunicame|me pasa|"
    r"me comunica|hablar con)\b"
)
_PALABRAS_ATRAS = re.compile(r"\b(regresar|atras|anterior|volver|menu anterior)\b")
_PALABRAS_REPETIR = re.compile(r"\b(repetir|repita|repite|otra vez|no entendi)\b")
_PALABRAS_ADIOS = re.compile(r"^(adios|hasta luego|es todo|colgar|nada mas|gracias,? es todo)$")


def comando_hablado(texto: str) -> Literal["asesor", "atras", "repetir", "adios"] | None:
    limpio = sin_acentos(texto).strip(" .,¡!¿?")
    if _PALABRAS_ASESOR.search(limpio) and (
        not _PREGUNTA_SI_ES_BOT.search(limpio) or _PIDE_ASESOR.search(limpio)
    ):
        return "asesor"
    if _PALABRAS_REPETIR.search(limpio):
        return "repetir"
    if _PALABRAS_ATRAS.search(limpio) and len(limpio.split()) <= 4:
        return "atras"
    if _PALABRAS_ADIOS.match(limpio):
        return "adios"
    return None


@dataclass
class Motor:
    menu: Menu
    reintentos: int = 2
    max_turnos: int = 60
    _frases: dict[str, list[tuple[str, str]]] = field(default_factory=dict, repr=False)

    def inicio(self) -> Mostrar:
        return Mostrar(Estado(self.menu.raiz))

    def _fallo(self, estado: Estado, aviso: str) -> Decision:
        intento = estado.intento + 1
        if intento <= self.reintentos:
            return Mostrar(Estado(estado.nodo, intento, estado.turno), aviso)
        if intento == self.reintentos + 1:
            return Mostrar(Estado(estado.nodo, intento, estado.turno), aviso, ofrecer_asesor=True)
        return Despedir("sin_respuesta", estado.turno, (self.menu.textos.adios_silencio,))

    def _elegir(self, nodo: Nodo, tecla: str, turno: int) -> Decision:
        hijo = self.menu.nodos[nodo.opciones[tecla]]
        if hijo.es_hoja:
            return Iniciar(hijo, turno)
        return Mostrar(Estado(hijo.id, 0, turno))

    def paso(self, estado: Estado, digitos: str = "", voz: str = "") -> Decision:
        """One caller turn at a menu node."""
        nodo = self.menu.nodo(estado.nodo)
        estado = Estado(nodo.id, estado.intento, estado.turno + 1)
        if estado.turno > self.max_turnos:
            return Asesor("demasiados_turnos", estado.turno)
        digitos = (digitos or "").strip()
        voz = (voz or "").strip()
        if digitos:
            tecla = digitos[0]
            if tecla == "0":
                return Asesor("solicitado", estado.turno)
            if tecla == "*":
                return Mostrar(Estado(nodo.padre or nodo.id, 0, estado.turno))
            if tecla == "9":
                return Mostrar(Estado(nodo.id, 0, estado.turno))
            if tecla in nodo.opciones:
                return self._elegir(nodo, tecla, estado.turno)
            return self._fallo(estado, self.menu.textos.aviso_invalido)
        if voz:
            comando = comando_hablado(voz)
            if comando == "asesor":
                return Asesor("solicitado", estado.turno)
            if comando == "repetir":
                return Mostrar(Estado(nodo.id, 0, estado.turno))
            if comando == "atras":
                return Mostrar(Estado(nodo.padre or nodo.id, 0, estado.turno))
            if comando == "adios":
                return Despedir("caller_se_despidio", estado.turno, (self.menu.textos.adios,))
            dicha = self._tecla_dicha(nodo, voz)
            if dicha:
                return self._elegir(nodo, dicha, estado.turno)
            return Interpretar(estado, voz)
        return self._fallo(estado, self.menu.textos.aviso_silencio)

    def tras_interpretar(
        self, estado: Estado, texto: str, intent: str | None, confianza: float, umbral: float = 0.5
    ) -> Decision:
        """Rasa said what the caller meant: jump to that leaf, or treat as invalid."""
        if intent == "hablar_con_asesor" and confianza >= umbral:
            return Asesor("solicitado", estado.turno)
        if intent == "despedir" and confianza >= umbral:
            return Despedir("caller_se_despidio", estado.turno, (self.menu.textos.adios,))
        hoja = self.menu.hoja_por_intent(intent)
        if hoja is not None and confianza >= umbral:
            return Iniciar(hoja, estado.turno, texto=texto)
        if (
            intent
            and intent
            not in {
                "nlu_fallback",
                "sin_sentido",
                "fuera_de_alcance",
                "saludar",
                "afirmar",
                "negar",
            }
            and confianza >= umbral
        ):
            # something the bot answers by itself (a FAQ, "¿eres un robot?")
            return Iniciar(
                Nodo(id=f"rasa:{intent}", padre=estado.nodo, intent=intent),
                estado.turno,
                texto=texto,
            )
        return self._fallo(estado, self.menu.textos.no_entendi)

    def _tecla_dicha(self, nodo: Nodo, voz: str) -> str | None:
        """'cinco', 'opción uno', 'la segunda', 'la última', 'citas' -> the option's digit.
        Numbers and ordinals are read as the bot's buttons are (habla/opciones.py)."""
        numero = numero_de_opcion(voz)
        if numero == ULTIMA:
            numero = max((int(t) for t in nodo.opciones if t.isdigit()), default=None)
        if numero is not None and str(numero) in nodo.opciones:
            return str(numero)
        limpio = re.sub(r"[^\w\s]", " ", sin_acentos(numeros_a_digitos(voz)))
        limpio = re.sub(r"\s+", " ", limpio).strip()
        # A bare option name ("citas", "saldo, por favor") picks it here; anything
        # longer ("quiero cancelar mi cita") goes to Rasa, which may jump deeper.
        corto = re.sub(r"\b(quiero|por favor|la|el|las|los|opcion|de|ver|consultar)\b", " ", limpio)
        corto = re.sub(r"\s+", " ", corto).strip()
        for tecla, hijo in nodo.opciones.items():
            if any(corto == sin_acentos(f) for f in self.menu.nodos[hijo].frases):
                return tecla
        return None
