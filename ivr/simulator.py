"""A terminal phone: plays a call against the IVR the way Twilio would.

It signs every request with the auth token (X-Twilio-Signature over
PUBLIC_BASE_URL + path + query and the posted parameters), follows the
`action`/`Redirect` URLs, prints what would be said, and reads keys or typed
"speech". Scriptable for tests and demos:

    make call
    python -m ivr.simulator --script "5,1,1,say:ce ce tres cu zeta ocho,27041956"

Script items: digits ("5", "27041956", "4821#"), "say:<texto>" (speech),
"-" (silence), "colgar" (the caller hangs up). Interactive input uses the same
syntax; an empty line is silence.
"""

from __future__ import annotations

import argparse
import sys
import uuid
import xml.etree.ElementTree as ET
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx
from twilio.request_validator import RequestValidator

from ivr.textos import ISSSTETEL_E164


@dataclass
class Evento:
    tipo: str  # dice | pide | marca | habla | silencio | transfiere | cuelga | http | fin
    texto: str = ""
    detalle: dict[str, str] = field(default_factory=dict)


@dataclass
class Llamada:
    call_sid: str
    eventos: list[Evento] = field(default_factory=list)
    # "hangup", "dial", "enqueue", "caller_colgó", "sin_fin", "http_<code>", "max_pasos"
    final: str = ""
    respuestas: list[str] = field(default_factory=list)  # raw TwiML, for debugging

    def dicho(self) -> str:
        """Everything the caller heard, in order."""
        return "\n".join(e.texto for e in self.eventos if e.tipo == "dice")

    def dicho_despues_de(self, n_entrada: int) -> str:
        """What was said after the caller's n-th input (0-based)."""
        vistos, salida = -1, []
        for e in self.eventos:
            if e.tipo in {"marca", "habla", "silencio"}:
                vistos += 1
            elif e.tipo == "dice" and vistos >= n_entrada:
                salida.append(e.texto)
        return "\n".join(salida)


def _texto_say(say: ET.Element) -> str:
    partes = [say.text or ""]
    for hijo in say:
        if hijo.tag == "break":
            partes.append(", ")
        partes.append(hijo.text or "")
        partes.append(hijo.tail or "")
    return " ".join("".join(partes).split())


class Telefono:
    """Plays calls. `http` may be any httpx.Client (e.g. FastAPI's TestClient)."""

    def __init__(
        self,
        url: str,
        token: str,
        public_base_url: str | None = None,
        *,
        http: httpx.Client | None = None,
        desde: str = "+525512345678",
        hacia: str = ISSSTETEL_E164,
        asesor_contesta: bool = True,
        imprimir: Callable[[str], None] | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.public = (public_base_url or url).rstrip("/")
        self.validator = RequestValidator(token)
        self.http = http or httpx.Client(timeout=20.0)
        self.desde, self.hacia = desde, hacia
        self.asesor_contesta = asesor_contesta
        self.imprimir = imprimir

    # --------------------------------------------------------------- http
    def _post(
        self, url_publica: str, params: dict[str, str], llamada: Llamada
    ) -> ET.Element | None:
        partes = urlsplit(url_publica)
        if not partes.scheme:  # relative action URL: resolve against the public base
            url_publica = self.public + url_publica
            partes = urlsplit(url_publica)
        destino = self.url + partes.path + (f"?{partes.query}" if partes.query else "")
        firma = self.validator.compute_signature(url_publica, params)
        r = self.http.post(destino, data=params, headers={"X-Twilio-Signature": firma})
        if r.status_code >= 400:
            llamada.eventos.append(Evento("http", str(r.status_code), {"url": partes.path}))
            llamada.final = f"http_{r.status_code}"
            return None
        if not r.content:
            return None
        llamada.respuestas.append(r.text)
        return ET.fromstring(r.content)

    def _base(self, llamada: Llamada) -> dict[str, str]:
        return {
            "CallSid": llamada.call_sid,
            "AccountSid": "AC" + "0" * 32,
            "From": self.desde,
            "To": self.hacia,
            "CallStatus": "in-progress",
            "Direction": "inbound",
            "ApiVersion": "2010-04-01",
        }

    def _log(self, texto: str) -> None:
        if self.imprimir:
            self.imprimir(texto)

    # --------------------------------------------------------------- call
    def llamar(
        self,
        entradas: Iterable[str] | None = None,
        *,
        leer: Callable[[str], str] | None = None,
        max_pasos: int = 80,
        status_callback: bool = True,
    ) -> Llamada:
        """Play one call. Inputs come from `entradas`; when they run out, from
        `leer` (interactive) or silence... and the IVR must then end the call."""
        cola: deque[str] = deque(entradas or [])
        llamada = Llamada(call_sid="CA" + uuid.uuid4().hex)
        documento = self._post(self.public + "/ivr/voice", self._base(llamada), llamada)
        pasos = 0
        while documento is not None and pasos < max_pasos:
            pasos += 1
            documento = self._ejecutar(documento, llamada, cola, leer)
        if documento is not None and pasos >= max_pasos:
            llamada.final = "max_pasos"
        if not llamada.final:
            llamada.final = "sin_fin"
        if status_callback:
            params = self._base(llamada) | {
                "CallStatus": "completed"
                if llamada.final in {"hangup", "dial", "enqueue", "caller_colgó"}
                else "failed",
                "CallDuration": str(10 * pasos),
            }
            self._post(self.public + "/ivr/estado", params, Llamada(llamada.call_sid))
        return llamada

    def _ejecutar(
        self,
        documento: ET.Element,
        llamada: Llamada,
        cola: deque[str],
        leer: Callable[[str], str] | None,
    ) -> ET.Element | None:
        """Run one TwiML document; return the next document, or None when the call ends."""
        for verbo in documento:
            if verbo.tag == "Say":
                self._decir(_texto_say(verbo), llamada)
            elif verbo.tag == "Gather":
                for say in verbo.iter("Say"):
                    self._decir(_texto_say(say), llamada)
                entrada = self._siguiente(cola, leer, verbo)
                if entrada is None:  # caller hung up
                    llamada.final = "caller_colgó"
                    llamada.eventos.append(Evento("cuelga", "usuario"))
                    return None
                params = self._base(llamada)
                if entrada.startswith("say:"):
                    texto = entrada[4:].strip()
                    llamada.eventos.append(Evento("habla", texto))
                    self._log(f"  usted dice: {texto}")
                    params |= {"SpeechResult": texto, "Confidence": "0.92"}
                elif entrada in {"", "-"}:
                    llamada.eventos.append(Evento("silencio"))
                    self._log("  (silencio)")
                    if verbo.get("actionOnEmptyResult") != "true":
                        continue  # Twilio moves on to the verb after the Gather
                    params |= {"Digits": "", "FinishedOnKey": ""}
                else:
                    digitos = entrada
                    num = verbo.get("numDigits")
                    fin = verbo.get("finishOnKey", "#")
                    tecla_final = ""
                    if fin and fin in digitos and (not num or digitos.index(fin) < int(num)):
                        # the finishOnKey ends the Gather at once; what follows is not heard
                        digitos, tecla_final = digitos[: digitos.index(fin)], fin
                    elif num and len(digitos) > int(num):
                        cola.appendleft(digitos[int(num):])
                        digitos = digitos[: int(num)]
                    llamada.eventos.append(Evento("marca", digitos + tecla_final))
                    self._log(f"  usted marca: {digitos + tecla_final}")
                    if not digitos and verbo.get("actionOnEmptyResult") != "true":
                        continue  # only the finishOnKey: Twilio treats it as no input
                    params |= {"Digits": digitos, "FinishedOnKey": tecla_final}
                return self._post(verbo.get("action", ""), params, llamada)
            elif verbo.tag == "Redirect":
                return self._post((verbo.text or "").strip(), self._base(llamada), llamada)
            elif verbo.tag in {"Dial", "Enqueue"}:
                destino = (verbo.text or "").strip()
                llamada.eventos.append(Evento("transfiere", destino, {"verbo": verbo.tag}))
                self._log(f"  [transferencia a {destino} con <{verbo.tag}>]")
                llamada.final = verbo.tag.lower()
                resultado = "completed" if self.asesor_contesta else "no-answer"
                clave = "DialCallStatus" if verbo.tag == "Dial" else "QueueResult"
                if verbo.tag == "Enqueue":
                    resultado = self._en_cola(verbo, llamada)
                accion = verbo.get("action")
                if not accion:
                    return None
                siguiente = self._post(accion, self._base(llamada) | {clave: resultado}, llamada)
                if siguiente is not None:
                    self._ejecutar(siguiente, llamada, cola, leer)
                llamada.final = verbo.tag.lower()
                return None
            elif verbo.tag == "Hangup":
                llamada.eventos.append(Evento("cuelga", "ivr"))
                self._log("  [el IVR cuelga]")
                llamada.final = "hangup"
                return None
        # Twilio hangs up silently at the end of a document: the IVR must never do that
        llamada.final = "sin_fin"
        return None

    def _en_cola(self, enqueue: ET.Element, llamada: Llamada) -> str:
        """Wait in the queue as Twilio would: play the waitUrl's TwiML (again
        and again, with the time spent in QueueTime) until an asesor takes the
        call ("bridged") or the wait TwiML says <Leave> ("leave")."""
        espera = enqueue.get("waitUrl")
        if not espera:
            return "bridged" if self.asesor_contesta else "hangup"
        segundos = 0
        for _ in range(200):  # IVR_ASESOR_ESPERA_MAX <= 3600 s, 20 s a round: it must let go before
            params = self._base(llamada) | {"QueueTime": str(segundos), "QueueSid": "QU" + "0" * 32}
            documento = self._post(espera, params, llamada)
            if documento is None:
                return "error"
            for verbo in documento:
                if verbo.tag == "Say":
                    self._decir(_texto_say(verbo), llamada)
                elif verbo.tag == "Pause":
                    segundos += int(verbo.get("length") or 1)
                elif verbo.tag == "Leave":
                    return "leave"
                elif verbo.tag == "Hangup":
                    return "hangup"
            if self.asesor_contesta:
                return "bridged"
        return "system-error"

    def _decir(self, texto: str, llamada: Llamada) -> None:
        if texto:
            llamada.eventos.append(Evento("dice", texto))
            self._log(f"IVR: {texto}")

    def _siguiente(
        self, cola: deque[str], leer: Callable[[str], str] | None, gather: ET.Element
    ) -> str | None:
        if cola:
            valor = cola.popleft().strip()
        elif leer is not None:
            try:
                valor = leer("usted> ").strip()
            except EOFError:
                return None
        else:
            valor = "-"
        if valor.lower() in {"colgar", "q", "quit"}:
            return None
        if valor.lower().startswith("di:"):
            valor = "say:" + valor[3:]
        return valor


def _script(texto: str) -> list[str]:
    return [p.strip() for p in texto.split(",")] if texto else []


def main(argv: list[str] | None = None) -> int:
    from ivr.settings import get_settings

    s = get_settings()
    p = argparse.ArgumentParser(
        description="Teléfono de terminal para probar el IVR como lo haría Twilio."
    )
    p.add_argument("--url", default="http://localhost:8001", help="dónde escucha el IVR")
    p.add_argument(
        "--public-base-url", default=s.public_base_url, help="URL pública con la que se firma"
    )
    p.add_argument("--token", default=s.twilio_auth_token, help="TWILIO_AUTH_TOKEN")
    p.add_argument(
        "--script",
        default="",
        help='entradas separadas por comas: "5,1,1,say:ce ce tres cu zeta ocho,27041956"',
    )
    p.add_argument("--desde", default="+525512345678", help="número que llama")
    p.add_argument("--asesor-no-contesta", action="store_true")
    args = p.parse_args(argv)
    if not args.token:
        print("Falta TWILIO_AUTH_TOKEN (en .env o --token).", file=sys.stderr)
        return 2
    print("Llamando a ISSSTETEL... marque teclas (5, 27041956, 4821#), 'di: texto' para hablar,")
    print("Enter para quedarse callado, 'colgar' para terminar.\n")
    tel = Telefono(
        args.url, args.token, args.public_base_url, desde=args.desde,
        asesor_contesta=not args.asesor_no_contesta, imprimir=print,
    )
    interactivo = not args.script and sys.stdin.isatty()
    try:
        llamada = tel.llamar(_script(args.script), leer=input if interactivo else None)
    except httpx.HTTPError as exc:
        print(f"No pude conectar con el IVR en {args.url}: {exc}", file=sys.stderr)
        return 1
    print(f"\nLlamada {llamada.call_sid} terminada: {llamada.final}")
    return 0 if llamada.final in {"hangup", "dial", "enqueue", "caller_colgó"} else 1


if __name__ == "__main__":
    raise SystemExit(main())
