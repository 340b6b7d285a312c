"""Plays a scripted conversation (tests/e2e/conversaciones/*.yml) against the
running stack over one channel, the way a person would, and says what failed.

Channels:
  rest      Rasa's REST channel (the web chat's words; a button is clicked by
            sending its payload, as the web widget does);
  whatsapp  Rasa's WhatsApp webhook, signed as Twilio signs it
            (tools/whatsapp.py TelefonoWhatsApp), replies parsed from TwiML;
  telefono  the ivr service through the terminal phone (ivr/simulator.py):
            the call starts at the menu option of the topic (`telefono.menu`)
            or says the first line at the main menu; lines are SpeechResult,
            digit-only lines (a NIP, a date) are keyed; TwiML parsed with
            ElementTree by the simulator.

A conversation file holds a list of conversations:

  - id: saldo-saludo-y-peticion
    tema: saldo                    # topic, for the bench's breakdown
    registro: web                  # web | whatsapp | telefono
    canales: [rest, whatsapp, telefono]   # default [rest]
    persona: P1                    # {curp} {nip} {nacimiento} {curp_dicha} ...
    calculos:                      # figures the bot must say, from the backend
      saldo: {saldo: P1}
      sim: {simular: {sueldo_base_mensual: 12690.80, plazo_quincenas: 36}}
    telefono: {menu: ["5", "2"]}   # on the phone these keys replace line 1
                                   # (dice_primera: true -> line 1 is said after them)
    restablecer: true              # the conversation changes data: reseed after
    nunca: ["no me quedó claro"]   # never heard in the whole conversation
    turnos:
      - di: "buenos días, quisiera saber lo que aún debo"
        telefono: "buenos dias este quisiera saber cuanto debo"   # phone variant
        espera: [CURP]             # every item heard (an item that is a list: any of them)
        espera_telefono: [...]     # replaces `espera` on that channel (its own wording)
        no_espera: ["¿Qué trámite desea realizar?"]
        ya_dicho: [sueldo]         # from here on the bot must not ask this again
        no_pregunta: [plazo]       # this reply must not ask this
      - elige: "Primer préstamo"   # click a button / type its number / say its title
                                   # ("@primera": the first option offered)
      - responde:                  # answer whatever is asked, in whatever order
          sueldo: "gano doce mil"
          plazo: "36 quincenas"
        hasta: ["{$sim.monto_maximo}"]   # ...until this is heard (bounded)
        hasta_pregunta: plazo      # ...or until the bot asks this (left unanswered)
        espera: [...]              # checked on everything heard in the block

Placeholders: {curp} {nip} {nacimiento} {curp_dicha} of the persona;
{calc.path.to.value} a computed value, {$calc.path} formatted as money
($12,690.80). On the phone every expected fragment is turned into what the
caller hears (ivr/locucion.py: amounts and numbers in words).

Comparison is case-, accent- and punctuation-insensitive.
"""

from __future__ import annotations

import contextlib
import queue
import re
import threading
import time
import unicodedata
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import yaml

CARPETA = Path(__file__).resolve().parent
REST = "/webhooks/rest/webhook"
CANALES = ("rest", "whatsapp", "telefono")

PERSONAS: dict[str, dict[str, str]] = {
    "P1": {
        "curp": "HEGG560427MVZRRL04",
        "nip": "4821",
        "nacimiento": "27/04/1956",
        "curp_dicha": "hache e ge ge cincuenta y seis cero cuatro veintisiete eme ve de vaca "
        "zeta erre erre ele cero cuatro",
        "nacimiento_dicho": "veintisiete de abril de mil novecientos cincuenta y seis",
    },
    "P2": {
        "curp": "BEML920313HMCLNS09",
        "nip": "7315",
        "nacimiento": "13/03/1992",
        "curp_dicha": "be de burro e eme ele noventa y dos cero tres trece hache eme ce ele ene "
                      "ese cero nueve",
        "nacimiento_dicho": "trece de marzo de mil novecientos noventa y dos",
    },
    "P3": {
        "curp": "PEGL890909MJCRMS08",
        "nip": "5502",
        "nacimiento": "09/09/1989",
        "curp_dicha": "pe e ge ele ochenta y nueve cero nueve cero nueve eme jota ce erre eme ese "
                      "cero ocho",
        "nacimiento_dicho": "nueve de septiembre de mil novecientos ochenta y nueve",
    },
}

# What the bot is asking, read from its last question (accent-free, lowercase).
# Order matters: the first pattern that matches names the question.
PREGUNTAS: list[tuple[str, str]] = [
    ("confirmar", r"\bconfirma\b"),
    ("curp", r"\bcurp\b"),
    ("nip", r"\bnip\b"),
    ("anios", r"anos de cotizacion|anos cotizados"),
    ("renovacion", r"renovacion|primer (credito|prestamo)"),
    ("tipo", r"pensionad|jubilad|asegurad"),
    ("sueldo", r"sueldo|salario|cuanto gana"),
    ("plazo", r"quincenas|plazo"),
    ("nacimiento", r"nacimiento"),
    ("clave", r"clave"),
    ("monto", r"que cantidad|cuanto desea pagar|monto"),
    ("tipo_fopi", r"pago parcial|liquidacion|que pago"),
    ("horario", r"horario|hora "),
    ("fecha", r"que dia|fecha"),
    ("oficina", r"oficina|ciudad"),
]

# Heard in no conversation: the bot lost its way or broke.
NUNCA_GLOBAL = ["no supe cómo continuar", "Traceback", "Internal Server Error"]


# ------------------------------------------------------------------ text
def normal(texto: str) -> str:
    """Lowercase, no accents, no ¿¡?!:;"«»() , single spaces: what "heard" means."""
    t = unicodedata.normalize("NFKD", texto or "")
    t = "".join(c for c in t if not unicodedata.combining(c)).lower()
    t = re.sub(r"[¿¡?!;:\"'«»()\[\]*_]", " ", t)
    t = re.sub(r"(?<!\d)[.,](?!\d)", " ", t)  # sentence punctuation, not 12,690.80
    return " ".join(t.split())


_PIDE = re.compile(
    r"\b(digame|digamelo|indiqueme|me indica|me dice|escriba|escribame|marque|elija|diga)\b"
)


def pregunta_de(texto: str) -> str | None:
    """Which value the reply asks for: the last sentence that asks (a question,
    or "dígame / escriba / marque ...") and names one of PREGUNTAS, or None."""
    crudo = unicodedata.normalize("NFKD", texto or "")
    crudo = "".join(c for c in crudo if not unicodedata.combining(c)).lower()
    oraciones = [o.strip() for o in re.split(r"(?<=[.!?])\s+|\n+", crudo) if o.strip()]
    for oracion in reversed(oraciones):
        if not ("?" in oracion or "¿" in oracion or _PIDE.search(oracion)):
            continue
        for clave, patron in PREGUNTAS:
            if re.search(patron, oracion):
                return clave
    return None


def pesos(valor: Any) -> str:
    return f"${float(valor):,.2f}"


# ------------------------------------------------------------------ data
@dataclass
class Conversacion:
    id: str
    tema: str
    registro: str
    turnos: list[dict[str, Any]]
    canales: list[str] = field(default_factory=lambda: ["rest"])
    persona: str | None = None
    calculos: dict[str, Any] = field(default_factory=dict)
    telefono: dict[str, Any] = field(default_factory=dict)
    restablecer: bool = False
    nunca: list[str] = field(default_factory=list)
    nota: str = ""
    archivo: str = ""


def cargar(carpeta: Path = CARPETA) -> list[Conversacion]:
    todas: list[Conversacion] = []
    for archivo in sorted(carpeta.glob("*.yml")):
        for datos in yaml.safe_load(archivo.read_text(encoding="utf-8")) or []:
            todas.append(Conversacion(**datos, archivo=archivo.name))
    ids = [c.id for c in todas]
    repetidos = {i for i in ids if ids.count(i) > 1}
    if repetidos:
        raise ValueError(f"ids repetidos: {sorted(repetidos)}")
    for c in todas:
        if not set(c.canales) <= set(CANALES):
            raise ValueError(f"{c.id}: canal desconocido en {c.canales}")
    return todas


# ------------------------------------------------------------------ replies
@dataclass
class Respuesta:
    texto: str
    # (title, what to send to pick it)
    opciones: list[tuple[str, str]] = field(default_factory=list)
    termino: bool = False  # the channel ended the conversation (hang-up, transfer)


class Fallo(AssertionError):
    pass


class CanalRest:
    nombre = "rest"

    def __init__(self, stack: Any) -> None:
        self.stack = stack
        self.sender = f"conv-{uuid.uuid4().hex[:12]}"

    def inicio(self, conv: Conversacion) -> Respuesta | None:
        return None

    def enviar(self, texto: str, linea: dict[str, Any]) -> Respuesta:
        r = httpx.post(
            f"{self.stack.rasa_url}{REST}",
            json={"sender": self.sender, "message": texto},
            headers={"Authorization": f"Bearer {self.stack.rasa_token}"},
            timeout=90,
        )
        if r.status_code != 200:
            return Respuesta(f"[HTTP {r.status_code}] {r.text[:300]}")
        mensajes = r.json()
        partes, opciones, termino = [], [], False
        for m in mensajes:
            if m.get("text"):
                partes.append(m["text"])
            for b in m.get("buttons") or []:
                opciones.append((b.get("title", ""), b.get("payload", "")))
            if (m.get("custom") or {}).get("accion") in {"colgar", "transferir"}:
                termino = termino or (m["custom"]["accion"] == "colgar")
        if opciones:
            partes.append(" | ".join(t for t, _ in opciones))
        return Respuesta("\n".join(partes), opciones, termino)

    def cerrar(self) -> None:
        pass


class CanalWhatsApp:
    nombre = "whatsapp"

    def __init__(self, stack: Any) -> None:
        from tools.whatsapp import TelefonoWhatsApp

        numero = f"+52155{uuid.uuid4().int % 10**8:08d}"
        self.tel = TelefonoWhatsApp(rasa_url=stack.rasa_url, public_base_url=stack.public_base_url,
                                    auth_token=stack.twilio_auth_token, numero=numero, timeout=90)

    def inicio(self, conv: Conversacion) -> Respuesta | None:
        return None

    def enviar(self, texto: str, linea: dict[str, Any]) -> Respuesta:
        from tools.whatsapp import ErrorSimulador

        try:
            mensajes = self.tel.decir(texto)
        except ErrorSimulador as exc:
            return Respuesta(f"[error del canal] {exc}")
        cuerpo = "\n".join(m.cuerpo for m in mensajes)
        opciones = []
        for renglon in cuerpo.splitlines():
            m = re.fullmatch(r"\s*(\d+)\. (.+)", renglon)
            if m:
                opciones.append((m.group(2).strip(), m.group(1)))
        return Respuesta(cuerpo, opciones)

    def cerrar(self) -> None:
        self.tel.cliente.close()


class CanalTelefono:
    """The simulator drives the call and asks for input at every <Gather>; a
    thread runs it so that this side can speak turn by turn."""

    nombre = "telefono"

    def __init__(self, stack: Any) -> None:
        from ivr.simulator import Telefono

        canal = self
        self._entradas: queue.Queue[str | None] = queue.Queue()
        self._salidas: queue.Queue[tuple[str, str]] = queue.Queue()
        self._vistos = 0
        self.terminada = False

        class Guiado(Telefono):
            def _ejecutar(self, documento, llamada, cola, leer):  # type: ignore[no-untyped-def]
                canal._llamada = llamada
                return super()._ejecutar(documento, llamada, cola, leer)

            def _siguiente(self, cola, leer, gather):  # type: ignore[no-untyped-def]
                canal._salidas.put(("turno", canal._nuevo()))
                valor = canal._entradas.get(timeout=600)
                return None if valor is None else valor

        self._llamada: Any = None
        self.tel = Guiado(
            stack.ivr_url,
            stack.twilio_auth_token,
            stack.public_base_url,
            http=httpx.Client(timeout=90),
            desde=f"+5255{uuid.uuid4().int % 10**8:08d}",
        )
        self._hilo = threading.Thread(target=self._llamar, daemon=True)

    def _nuevo(self) -> str:
        eventos = self._llamada.eventos if self._llamada else []
        nuevos = eventos[self._vistos:]
        self._vistos = len(eventos)
        partes = []
        for e in nuevos:
            if e.tipo == "dice":
                partes.append(e.texto)
            elif e.tipo == "transfiere":
                partes.append("[transferencia a un asesor]")
            elif e.tipo == "cuelga" and e.texto == "ivr":
                partes.append("[el IVR cuelga]")
        return "\n".join(partes)

    def _llamar(self) -> None:
        try:
            llamada = self.tel.llamar(max_pasos=200)
            self._llamada = llamada
            self._salidas.put(("fin", self._nuevo() + f"\n[fin de la llamada: {llamada.final}]"))
        except Exception as exc:  # reported as what the caller "heard"
            self._salidas.put(("fin", f"[error del teléfono] {type(exc).__name__}: {exc}"))

    def _esperar(self) -> Respuesta:
        tipo, texto = self._salidas.get(timeout=600)
        if tipo == "fin":
            self.terminada = True
        return Respuesta(texto, termino=tipo == "fin")

    def inicio(self, conv: Conversacion) -> Respuesta | None:
        self._hilo.start()
        respuesta = self._esperar()  # the welcome menu
        for tecla in conv.telefono.get("menu", []):
            if self.terminada:
                break
            self._entradas.put(str(tecla))
            respuesta = self._esperar()
        return respuesta

    def enviar(self, texto: str, linea: dict[str, Any]) -> Respuesta:
        if self.terminada:
            return Respuesta("[la llamada ya terminó]", termino=True)
        if texto.startswith("tecla:"):
            entrada = texto[6:].strip()
        elif re.fullmatch(r"[\d#*]+", texto.strip()):
            entrada = texto.strip()  # a NIP or a date is keyed
        else:
            entrada = "say:" + texto
        self._entradas.put(entrada)
        return self._esperar()

    def cerrar(self) -> None:
        if not self.terminada and self._hilo.is_alive():
            self._entradas.put(None)  # hang up
            with contextlib.suppress(queue.Empty):
                self._esperar()
        self._hilo.join(timeout=30)
        self.tel.http.close()


def canal(nombre: str, stack: Any) -> Any:
    return {"rest": CanalRest, "whatsapp": CanalWhatsApp, "telefono": CanalTelefono}[nombre](stack)


# ------------------------------------------------------------------ figures
def _token(stack: Any, persona: str) -> str:
    p = PERSONAS[persona]
    r = httpx.post(f"{stack.backend_url}/api/v1/identidad/verificar",
                   json={"curp": p["curp"], "nip": p["nip"]}, timeout=20)
    r.raise_for_status()
    return r.json()["token"]


def _get(stack: Any, ruta: str, persona: str) -> Any:
    r = httpx.get(
        f"{stack.backend_url}{ruta}",
        headers={"Authorization": f"Bearer {_token(stack, persona)}"},
        timeout=20,
    )
    r.raise_for_status()
    return r.json()


def _simular(stack: Any, cuerpo: dict[str, Any]) -> dict[str, Any]:
    r = httpx.post(f"{stack.backend_url}/api/v1/simulaciones",
                   json={"producto": "credito_complementario"} | cuerpo, timeout=20)
    if r.status_code not in (200, 422):
        r.raise_for_status()
    return r.json() | {"status": r.status_code}


def _dia_con_lugar(stack: Any, oficina_clave: str) -> dict[str, Any]:
    """The office and its first day with free slots at least 5 days ahead,
    as a person would say it ("el 15 de abril")."""
    from ivr.locucion import MESES

    oficinas = httpx.get(f"{stack.backend_url}/api/v1/oficinas", timeout=20).json()
    oficina = next(o for o in oficinas if o["clave"] == oficina_clave)
    hoy = datetime.now(UTC).date()
    r = httpx.get(
        f"{stack.backend_url}/api/v1/oficinas/{oficina['id']}/disponibilidad",
        params={
            "desde": (hoy + timedelta(days=5)).isoformat(),
            "hasta": (hoy + timedelta(days=25)).isoformat(),
            "limite": 50,
        },
        timeout=20,
    )
    r.raise_for_status()
    inicio = datetime.fromisoformat(r.json()["horarios"][0]["inicio"])
    dia: date = inicio.astimezone(__import__("zoneinfo").ZoneInfo("America/Mexico_City")).date()
    return {
        "oficina": oficina,
        "dia": dia.isoformat(),
        "dia_dicho": f"el {dia.day} de {MESES[dia.month - 1]}",
        "dia_numeros": dia.strftime("%d/%m/%Y"),
    }


# Calculations that are one personal GET: the endpoint each reads.
_CONSULTAS = {
    "saldo": "/api/v1/prestamos/saldo",
    "prestamos": "/api/v1/prestamos",
    "vigente": "/api/v1/prestamos/vigente",
    "perfil": "/api/v1/identidad/perfil",
    "regularizacion": "/api/v1/regularizacion",
    "citas": "/api/v1/citas",
}


def calcular(stack: Any, calculos: dict[str, Any]) -> dict[str, Any]:
    valores: dict[str, Any] = {}
    for nombre, spec in calculos.items():
        ((tipo, arg),) = spec.items()
        if tipo == "simular":
            valores[nombre] = _simular(stack, dict(arg))
        elif tipo == "simular_perfil":
            arg = dict(arg)
            perfil = _get(stack, "/api/v1/identidad/perfil", arg.pop("persona"))
            valores[nombre] = _simular(stack, {
                "sueldo_base_mensual": perfil["sueldo_base_mensual"], "tipo": perfil["tipo"],
                "anios_cotizacion": perfil["anios_cotizacion"], "sexo": perfil["sexo"], **arg})
        elif tipo in _CONSULTAS:
            valores[nombre] = _get(stack, _CONSULTAS[tipo], arg)
        elif tipo == "dia_con_lugar":
            valores[nombre] = _dia_con_lugar(stack, arg)
        else:
            raise ValueError(f"cálculo desconocido: {tipo}")
    return valores


def _ruta(valores: dict[str, Any], ruta: str) -> Any:
    actual: Any = valores
    for parte in ruta.split("."):
        actual = actual[int(parte)] if isinstance(actual, list) else actual[parte]
    return actual


def rellenar(texto: str, persona: dict[str, str], valores: dict[str, Any]) -> str:
    def uno(m: re.Match[str]) -> str:
        dinero, ruta = m.group(1) == "$", m.group(2)
        if ruta in persona:
            return persona[ruta]
        valor = _ruta(valores, ruta)
        return pesos(valor) if dinero else str(valor)

    return re.sub(r"\{(\$?)([A-Za-z_][\w.]*)\}", uno, texto)


# ------------------------------------------------------------------ playing
@dataclass
class Resultado:
    conversacion: str
    canal: str
    ok: bool
    transcripcion: list[tuple[str, str]]
    fallo: str = ""
    turnos: int = 0
    segundos: float = 0.0

    def informe(self) -> str:
        lineas = [f"[{self.canal}] {self.conversacion}: {'OK' if self.ok else 'FALLA'}"]
        for quien, texto in self.transcripcion:
            marca = "persona>" if quien == "persona" else "bot    >"
            renglones = (texto or "(nada)").splitlines() or [""]
            lineas.append(f"  {marca} {renglones[0]}")
            lineas.extend(f"           {r}" for r in renglones[1:])
        if self.fallo:
            lineas.append(f"  FALLA: {self.fallo}")
        return "\n".join(lineas)


class Jugada:
    def __init__(self, stack: Any, conv: Conversacion, nombre_canal: str) -> None:
        self.stack, self.conv, self.nombre_canal = stack, conv, nombre_canal
        self.persona = PERSONAS.get(conv.persona or "", {})
        self.transcripcion: list[tuple[str, str]] = []
        self.ya_dicho: set[str] = set()
        self.turnos = 0
        self.valores: dict[str, Any] = {}

    # expected fragment -> what this channel's person sees or hears
    def _esperado(self, fragmento: str) -> str:
        texto = rellenar(fragmento, self.persona, self.valores)
        if self.nombre_canal == "telefono":
            from ivr import locucion

            texto = locucion.texto_plano(locucion.para_voz(texto))
        return normal(texto)

    def _oido(self, esperado: Any, texto: str) -> bool:
        oido = normal(texto)
        if isinstance(esperado, list):
            return any(self._oido(e, texto) for e in esperado)
        return self._esperado(str(esperado)) in oido

    def _revisar(self, turno: dict[str, Any], texto: str, donde: str) -> None:
        # A channel may word a fact its own way (the phone reads no folios): espera_<canal>.
        for e in turno.get(f"espera_{self.nombre_canal}", turno.get("espera", [])):
            if not self._oido(e, texto):
                raise Fallo(f"{donde}: no se oyó «{e}»")
        for e in turno.get("no_espera", []):
            if self._oido(e, texto):
                raise Fallo(f"{donde}: se oyó «{e}», que no debía")
        for patron in turno.get("espera_patron", []):
            if not re.search(patron, texto):
                raise Fallo(f"{donde}: nada coincide con /{patron}/")

    def _revisar_siempre(self, texto: str, donde: str) -> None:
        for e in NUNCA_GLOBAL + self.conv.nunca:
            if self._oido(e, texto):
                raise Fallo(f"{donde}: se oyó «{e}», que no debe oírse en esta conversación")
        if self.persona:
            crudo = texto.replace(" ", "")
            if (
                self.persona["nip"] in re.findall(r"\d+", crudo)
                or self.persona["curp"] in crudo.upper()
            ):
                raise Fallo(f"{donde}: el bot repitió el NIP o la CURP de la persona")
        pregunta = pregunta_de(texto)
        if pregunta and pregunta in self.ya_dicho:
            raise Fallo(f"{donde}: volvió a preguntar «{pregunta}», que la persona ya había dicho")

    def _decir(self, ch: Any, texto: str, linea: dict[str, Any]) -> Respuesta:
        self.transcripcion.append(("persona", texto))
        r = ch.enviar(texto, linea)
        self.transcripcion.append(("bot", r.texto))
        self.turnos += 1
        return r

    def _linea(self, turno: dict[str, Any], ultima: Respuesta | None) -> str:
        if "elige" in turno:
            titulo = rellenar(turno["elige"], self.persona, self.valores)
            if self.nombre_canal == "telefono":
                return turno.get("telefono", titulo)
            opciones = ultima.opciones if ultima else []
            if titulo == "@primera" and opciones:
                return opciones[0][1]
            for t, enviar in opciones:
                if normal(t) == normal(titulo):
                    return enviar
            raise Fallo(
                f"no se ofreció la opción «{titulo}» (opciones: {[t for t, _ in opciones]})"
            )
        if self.nombre_canal == "telefono" and "telefono" in turno:
            texto = turno["telefono"]
        elif self.nombre_canal == "whatsapp" and "whatsapp" in turno:
            texto = turno["whatsapp"]
        else:
            texto = turno["di"]
        return rellenar(str(texto), self.persona, self.valores)

    def jugar(self) -> Resultado:
        inicio = time.monotonic()
        ch = None
        try:
            self.valores = calcular(self.stack, self.conv.calculos)
            ch = canal(self.nombre_canal, self.stack)
            ultima = ch.inicio(self.conv)
            turnos = list(self.conv.turnos)
            if ultima is not None:
                self.transcripcion.append(("bot", ultima.texto))
                if self.conv.telefono.get("menu") and not self.conv.telefono.get("dice_primera"):
                    # the menu keys took the place of the first line (the request)
                    primera = turnos.pop(0)
                    self._revisar(
                        {k: v for k, v in primera.items() if k != "espera_patron"},
                        ultima.texto,
                        "tras el menú",
                    )
                    self.ya_dicho |= set(primera.get("ya_dicho", []))
            for n, turno in enumerate(turnos, 1):
                if self.nombre_canal == "telefono" and turno.get("no_en_telefono"):
                    continue
                if "responde" in turno:
                    ultima = self._responder(ch, turno, ultima, n)
                    continue
                if ultima is not None and ultima.termino:
                    raise Fallo(f"turno {n}: la conversación terminó antes de tiempo")
                linea = self._linea(turno, ultima)
                ultima = self._decir(ch, linea, turno)
                self.ya_dicho |= set(turno.get("ya_dicho", []))
                donde = f"turno {n} («{linea}»)"
                self._revisar_siempre(ultima.texto, donde)
                self._revisar(turno, ultima.texto, donde)
                pregunta = pregunta_de(ultima.texto)
                if pregunta and pregunta in turno.get("no_pregunta", []):
                    raise Fallo(f"{donde}: preguntó «{pregunta}»")
                if turno.get("fin") and self.nombre_canal == "telefono" and not ultima.termino:
                    raise Fallo(f"{donde}: la llamada no terminó")
            ok, fallo = True, ""
        except Fallo as exc:
            ok, fallo = False, str(exc)
        except (httpx.HTTPError, queue.Empty, KeyError, ValueError) as exc:
            ok, fallo = False, f"error del guion o del stack: {type(exc).__name__}: {exc}"
        finally:
            if ch is not None:
                ch.cerrar()
        return Resultado(
            self.conv.id,
            self.nombre_canal,
            ok,
            self.transcripcion,
            fallo,
            self.turnos,
            time.monotonic() - inicio,
        )

    def _responder(
        self, ch: Any, turno: dict[str, Any], ultima: Respuesta | None, n: int
    ) -> Respuesta:
        """Answer what the bot asks (keys of `responde`) until `hasta` is heard."""
        respuestas: dict[str, Any] = turno["responde"]
        hasta = turno.get("hasta", [])
        maximo = turno.get("max", len(respuestas) + 2)
        oido: list[str] = []
        preguntado: list[str] = []

        hasta_pregunta = turno.get("hasta_pregunta")

        def llegamos(texto: str) -> bool:
            if hasta_pregunta and pregunta_de(texto) == hasta_pregunta:
                return True
            return bool(hasta) and all(self._oido(h, texto) for h in hasta)

        if ultima is not None and llegamos(ultima.texto):
            oido.append(ultima.texto)
        else:
            for _ in range(maximo):
                pregunta = pregunta_de(ultima.texto if ultima else "")
                if pregunta is None or pregunta not in respuestas:
                    ultimo = " ".join((ultima.texto if ultima else "").split())[-160:]
                    raise Fallo(
                        f"turno {n}: no se oyó {hasta or hasta_pregunta} y el bot, en vez de "
                        f"preguntar "
                        f"algo de {sorted(respuestas)}, preguntó: {pregunta or 'nada reconocible'} "
                        f"(«…{ultimo}»)"
                    )
                if pregunta in preguntado:
                    raise Fallo(f"turno {n}: volvió a preguntar «{pregunta}» tras la respuesta")
                preguntado.append(pregunta)
                r = respuestas[pregunta]
                texto = r.get(self.nombre_canal, r.get("di")) if isinstance(r, dict) else r
                linea = rellenar(str(texto), self.persona, self.valores)
                ultima = self._decir(ch, linea, turno)
                self.ya_dicho.add(pregunta)
                self._revisar_siempre(ultima.texto, f"turno {n} («{linea}»)")
                oido.append(ultima.texto)
                if llegamos(ultima.texto):
                    break
            else:
                raise Fallo(f"turno {n}: tras {maximo} respuestas no se oyó {hasta}")
        self.ya_dicho |= set(turno.get("ya_dicho", []))
        self._revisar(turno, "\n".join(oido), f"turno {n} (respuestas)")
        assert ultima is not None
        return ultima


def jugar(stack: Any, conv: Conversacion, nombre_canal: str) -> Resultado:
    resultado = Jugada(stack, conv, nombre_canal).jugar()
    if conv.restablecer:
        stack.reset_db()
    return resultado


def casos(conversaciones: list[Conversacion]) -> list[tuple[Conversacion, str]]:
    return [(c, ch) for c in conversaciones for ch in c.canales]


__all__ = [
    "CANALES",
    "Conversacion",
    "Resultado",
    "cargar",
    "casos",
    "jugar",
    "normal",
    "pregunta_de",
]
