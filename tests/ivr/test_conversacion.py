"""What reaches Rasa from a caller's turn, and how keys act on the form's Gathers.

Free speech keeps its words (numbers are converted only where a number is
expected), a leaf named in a sentence carries the caller's entities, and on
4/8-digit Gathers `*` acts at once while `0` stays a digit.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from ivr import normalizacion
from tests.ivr.conftest import post_twiml, query, texto_dicho

CONVERSACION = "/ivr/conversacion?desde=capp&i=0&n=3"


def _slot(slot: str, intento: int = 0) -> str:
    return f"/ivr/conversacion?desde=capp&slot={slot}&i={intento}&n=3"


# ------------------------------------------------------------------ free speech stays words

@pytest.mark.parametrize(
    ("ruta", "dicho"),
    [
        (CONVERSACION, "espere un momento por favor"),
        (CONVERSACION, "quiero veinticuatro quincenas"),
        (_slot("clave_cita"), "no me acuerdo de la clave"),
        (_slot("clave_cita"), "cuánto tardan en depositar"),
        (_slot("curp"), "no la tengo a la mano"),
        (_slot("nip"), "espere un momento"),
        (_slot("fecha_nacimiento"), "no me acuerdo"),
        (_slot("monto"), "no sé todavía"),
        (_slot("oficina"), "la de Tlalpan por favor"),
    ],
)
def test_el_habla_libre_llega_a_rasa_con_sus_palabras(client, fake_rasa, ruta, dicho):
    post_twiml(client, ruta, {"CallSid": "CA1", "SpeechResult": dicho})
    assert fake_rasa.mensajes() == [dicho]


@pytest.mark.parametrize(
    ("ruta", "dicho", "esperado"),
    [
        (_slot("clave_cita"), "ce ce tres cu zeta ocho", "CC3QZ8"),
        (_slot("clave_cita"), "mi clave es ka cu doble u equis zeta be de burro", "KQWXZB"),
        # spelling, too short: the bot says what is wrong
        (_slot("clave_cita"), "ce ce tres", "CC3"),
        (_slot("nip"), "cuarenta y ocho veintiuno", "4821"),
        (
            _slot("fecha_nacimiento"),
            "veintisiete de abril de mil novecientos cincuenta y seis",
            "27/04/1956",
        ),
        (_slot("plazo"), "veinticuatro quincenas", "24 quincenas"),
        (_slot("sueldo"), "quince mil quinientos pesos", "15500"),
        (CONVERSACION, "la opción dos", "2"),  # a bare number: a button or an option
    ],
)
def test_un_valor_plausible_llega_normalizado(client, fake_rasa, ruta, dicho, esperado):
    post_twiml(client, ruta, {"CallSid": "CA1", "SpeechResult": dicho})
    assert fake_rasa.mensajes() == [esperado]


# ------------------------------------------------------------------ a leaf named in a sentence

def test_una_hoja_dicha_en_una_frase_manda_las_palabras_del_llamante(client, fake_rasa):
    """Named in a sentence, a leaf sends the caller's words (codes compacted),
    not its bare intent: Rasa's NLU reads them as that intent again and keeps
    everything else they said (the clave, "soy jubilada", "a 48 quincenas")."""
    normalizado = "quiero cancelar la cita CC3QZ8"
    fake_rasa.interpretaciones[normalizado] = ("cancelar_cita", 0.95)
    raiz = post_twiml(
        client,
        "/ivr/menu?nodo=capp&i=0&n=1",
        {"CallSid": "CA2", "SpeechResult": "quiero cancelar la cita ce ce tres cu zeta ocho"},
    )
    interpretar, webhook = fake_rasa.recibidos
    assert interpretar["path"].endswith("/interpretar") and interpretar["message"] == normalizado
    assert webhook["path"].endswith("/webhook") and webhook["metadata"]["entrada"] == "voz"
    assert webhook["message"] == normalizado
    assert query(raiz.find("Gather").get("action"))["desde"] == "citas"


def test_una_peticion_con_sus_valores_llega_entera(client, fake_rasa):
    dicho = "cuanto me prestan si gano catorce mil a cuarenta y ocho quincenas soy jubilada"
    normalizado = normalizacion.texto_libre(dicho)
    fake_rasa.interpretaciones[normalizado] = ("simular_prestamo", 0.9)
    post_twiml(client, "/ivr/menu?nodo=capp&i=0&n=1", {"CallSid": "CA3", "SpeechResult": dicho})
    assert fake_rasa.mensajes() == [normalizado]
    assert "jubilada" in normalizado


def test_una_hoja_marcada_manda_solo_el_intent(client, fake_rasa):
    post_twiml(client, "/ivr/menu?nodo=capp&i=0&n=1", {"CallSid": "CA4", "Digits": "3"})
    assert fake_rasa.mensajes() == ["/simular_prestamo"]


def test_una_pregunta_del_bot_recibe_las_palabras_con_la_clave_compacta(client, fake_rasa):
    normalizado = "cuándo es mi cita CC3QZ8"
    fake_rasa.interpretaciones[normalizado] = ("faq", 0.9)
    post_twiml(
        client,
        "/ivr/menu?nodo=capp&i=0&n=1",
        {"CallSid": "CA5", "SpeechResult": "cuándo es mi cita ce ce tres cu zeta ocho"},
    )
    assert fake_rasa.mensajes() == [normalizado]


# ------------------------------------------------------------------ keys on the form's Gathers

@pytest.fixture
def pide(fake_rasa):
    """The bot asks for `slot` on every turn."""

    def _pide(slot: str) -> None:
        fake_rasa.bot = lambda s, t: {
            "mensajes": ["Dígame el dato."],
            "requested_slot": slot,
            "active_loop": "f",
        }

    return _pide


@pytest.mark.parametrize(("slot", "digitos"), [("nip", "4"), ("fecha_nacimiento", "8")])
def test_gather_de_4_u_8_digitos_termina_con_asterisco_y_avisa_aunque_no_haya_digitos(
    client, pide, slot, digitos
):
    pide(slot)
    raiz = post_twiml(client, "/ivr/menu?nodo=capp&i=0&n=1", {"CallSid": "CA6", "Digits": "2"})
    gather = raiz.find("Gather")
    assert gather.get("numDigits") == digitos
    assert gather.get("finishOnKey") == "*"
    assert gather.get("actionOnEmptyResult") == "true"
    assert raiz[-1].tag == "Redirect" and raiz[-1].text == gather.get("action")


@pytest.mark.parametrize("digitos", ["", "48"])
def test_asterisco_en_el_nip_regresa_al_momento(client, fake_rasa, digitos):
    """Twilio posts at once with FinishedOnKey=* (and any digits before it)."""
    raiz = post_twiml(
        client, _slot("nip"), {"CallSid": "CA7", "Digits": digitos, "FinishedOnKey": "*"}
    )
    assert fake_rasa.mensajes() == ["/detener"]  # the form is left, nothing is taken as a NIP
    accion = raiz.find("Gather").get("action")
    assert urlsplit(accion).path == "/ivr/menu" and query(accion)["nodo"] == "capp"


def test_sin_teclas_ni_asterisco_es_silencio_y_reintenta(client, fake_rasa):
    fake_rasa.ultimas["CA8"] = {
        "mensajes": ["Marque su NIP."],
        "requested_slot": "nip",
        "active_loop": "f",
    }
    raiz = post_twiml(client, _slot("nip"), {"CallSid": "CA8", "Digits": "", "FinishedOnKey": ""})
    assert "No escuché su respuesta" in texto_dicho(raiz)
    assert query(raiz.find("Gather").get("action"))["i"] == "1"
    assert fake_rasa.mensajes() == []


def test_cero_es_un_digito_del_nip_y_solo_es_asesor(client, fake_rasa, ivr_settings):
    post_twiml(client, _slot("nip"), {"CallSid": "CA9", "Digits": "0482", "FinishedOnKey": ""})
    assert fake_rasa.mensajes() == ["0482"]
    raiz = post_twiml(client, _slot("nip"), {"CallSid": "CA9", "Digits": "0", "FinishedOnKey": ""})
    assert raiz[-1].tag == "Dial" and raiz[-1].text == ivr_settings.ivr_asesor_numero


@pytest.mark.parametrize("slot", ["clave_cita", "curp"])
def test_en_la_clave_y_la_curp_las_teclas_0_asterisco_y_9_actuan_al_momento(
    client, fake_rasa, pide, slot
):
    pide(slot)
    raiz = post_twiml(
        client, "/ivr/conversacion?desde=citas&i=0&n=2", {"CallSid": "CA10", "SpeechResult": "uno"}
    )
    gather = raiz.find("Gather")
    assert gather.get("numDigits") == "1" and gather.get("finishOnKey") is None
    accion = gather.get("action")
    assert query(accion)["slot"] == slot
    ruta = urlsplit(accion).path + "?" + urlsplit(accion).query
    assert post_twiml(client, ruta, {"CallSid": "CA10", "Digits": "0"})[-1].tag == "Dial"
    atras = post_twiml(client, ruta, {"CallSid": "CA10", "Digits": "*"})
    assert query(atras.find("Gather").get("action"))["nodo"] == "citas"
    enviados = len(fake_rasa.mensajes())
    otra = post_twiml(client, ruta, {"CallSid": "CA10", "Digits": "5"})
    assert "dígala en voz alta" in texto_dicho(otra)
    assert query(otra.find("Gather").get("action"))["i"] == "1"  # a failed attempt
    assert fake_rasa.mensajes()[enviados:] == []  # a key is not a spelled character


def test_asterisco_en_un_gather_con_gato_regresa(client, fake_rasa):
    raiz = post_twiml(client, _slot("monto"), {"CallSid": "CA11", "Digits": "*"})
    assert query(raiz.find("Gather").get("action"))["nodo"] == "capp"
    assert fake_rasa.mensajes() == ["/detener"]


# ------------------------------------------------------------------ not understood counts

def test_lo_que_el_bot_no_entiende_cuenta_como_intento_aunque_no_pida_dato(telefono, fake_rasa):
    """A caller who only says what nobody understands, in free conversation,
    gets the asesor offer and a goodbye, not an endless 'no le entendí'."""
    def bot(sender, texto):
        if texto.startswith("/"):
            return {"mensajes": ["¿En qué le ayudo?"]}
        return {"mensajes": ["Disculpe, no le entendí."], "intent": "nlu_fallback"}

    fake_rasa.bot = bot
    llamada = telefono.llamar(["5", "6", "2"] + ["say:patito de hule azul"] * 6)
    assert llamada.final == "hangup"
    assert fake_rasa.mensajes().count("patito de hule azul") == 4
    assert "Si desea hablar con un asesor, marque cero" in llamada.dicho()


def test_no_entendido_que_llena_un_dato_no_cuenta_como_intento(client, fake_rasa):
    """Inside a form the NLU may call a spelled clave 'nlu_fallback' while the
    form takes it: the bot moved on, so that is no failed attempt."""
    fake_rasa.bot = lambda s, t: {
        "mensajes": ["¿Su fecha de nacimiento?"],
        "requested_slot": "fecha_nacimiento",
        "active_loop": "f",
        "intent": "nlu_fallback",
    }
    raiz = post_twiml(
        client,
        _slot("clave_cita",
        intento=2), {"CallSid": "CA12", "SpeechResult": "ce ce tres cu zeta ocho"},
    )
    assert query(raiz.find("Gather").get("action"))["i"] == "0"


def test_llamada_completa_asterisco_en_el_nip_vuelve_al_menu_del_capp(telefono, fake_rasa, pide):
    pide("nip")
    llamada = telefono.llamar(["5", "2", "*", "colgar"])
    assert fake_rasa.mensajes() == ["/consultar_saldo", "/detener"]
    assert "Centro de Atención de Préstamos Personales" in llamada.dicho_despues_de(2)
    llamada = telefono.llamar(["5", "2", "0482", "colgar"])
    assert fake_rasa.mensajes()[-1] == "0482"
