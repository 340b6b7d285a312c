"""The TwiML the IVR answers, parsed with ElementTree (never compared as strings)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from urllib.parse import parse_qs, urlsplit

import pytest

from ivr.locucion import numero
from ivr.motor import cargar_menu
from ivr.registro import Registro
from ivr.simulator import Telefono
from tests.ivr.conftest import PUBLIC, post_firmado, post_twiml, texto_dicho

MENU = cargar_menu()


def termina_bien(raiz: ET.Element) -> bool:
    """Every document either waits for the caller (Gather + Redirect retry) or
    ends the call explicitly (Hangup, Dial, Enqueue)."""
    verbos = [v.tag for v in raiz]
    if verbos and verbos[-1] in {"Hangup", "Dial", "Enqueue"}:
        return True
    return len(verbos) >= 2 and verbos[-2] == "Gather" and verbos[-1] == "Redirect"


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def test_entrada_es_un_gather_dtmf_y_voz_en_es_mx(client, ivr_settings):
    raiz = post_twiml(client, "/ivr/voice", {"CallSid": "CA1", "From": "+525512345678"})
    gather, redirect = raiz[0], raiz[1]
    assert gather.tag == "Gather" and redirect.tag == "Redirect"
    assert gather.get("input") == "dtmf speech"
    assert gather.get("language") == "es-MX"
    assert gather.get("hints")
    assert gather.get("numDigits") == "1"
    assert gather.get("action").startswith(PUBLIC + "/ivr/menu?")
    assert query(gather.get("action"))["nodo"] == MENU.raiz
    assert redirect.text == gather.get("action")
    say = gather.find("Say")
    assert say.get("voice") == ivr_settings.ivr_voz and say.get("language") == "es-MX"
    assert "marque cinco" in texto_dicho(raiz)


def test_opcion_5_lleva_al_capp_con_sus_siete_opciones(telefono):
    llamada = telefono.llamar(["5", "colgar"])
    dicho = llamada.dicho_despues_de(0)
    for tecla, hijo in MENU.nodos["capp"].opciones.items():
        assert f"{MENU.nodos[hijo].titulo}, marque {numero(int(tecla))}" in dicho
    assert sorted(MENU.nodos["capp"].opciones) == ["1", "2", "3", "4", "5", "6", "7"]


def test_citas_ofrece_cancelar_bitacora_y_hoja(telefono):
    llamada = telefono.llamar(["5", "1", "colgar"])
    dicho = llamada.dicho_despues_de(1)
    assert "cancelar una cita, marque uno" in dicho
    assert "bitácora de citas, marque dos" in dicho
    assert "hoja de asignación de cita, marque tres" in dicho
    assert "asesor, marque cero" in dicho and "asterisco" in dicho and "marque nueve" in dicho


def test_hoja_5_1_1_inicia_cancelar_cita_en_rasa_y_pide_la_clave_por_voz(client, fake_rasa):
    raiz = post_twiml(client, "/ivr/menu?nodo=citas&i=0&n=2", {"CallSid": "CA2", "Digits": "1"})
    recibido = dict(fake_rasa.recibidos[-1])
    metadata = dict(recibido.pop("metadata"))
    assert recibido == {
        "path": "/webhooks/ivr/webhook",
        "sender": "CA2",
        "message": "/cancelar_cita",
    }
    assert metadata.pop("idempotencia").startswith("ivr-") and metadata.pop("vence") > 0  # per turn
    assert metadata == {"canal": "telefono", "nodo": "cancelar_cita", "entrada": "dtmf"}
    gather = raiz.find("Gather")
    accion = gather.get("action")
    assert urlsplit(accion).path == "/ivr/conversacion"
    assert query(accion)["slot"] == "clave_cita" and query(accion)["desde"] == "citas"
    assert "$OOV_CLASS_ALPHANUMERIC_SEQUENCE" in gather.get("hints")
    # a spoken clave: the keypad only carries 0 / * / 9, one key, acted on at once
    assert gather.get("numDigits") == "1" and gather.get("finishOnKey") is None
    assert "clave de su cita" in texto_dicho(raiz)
    assert termina_bien(raiz)


@pytest.mark.parametrize(("slot", "digitos"), [("nip", "4"), ("fecha_nacimiento", "8")])
def test_el_gather_sigue_lo_que_pide_el_formulario(client, fake_rasa, slot, digitos):
    fake_rasa.bot = lambda sender, texto: {
        "mensajes": ["Dígame el dato."],
        "requested_slot": slot,
        "active_loop": "f",
    }
    raiz = post_twiml(client, "/ivr/menu?nodo=capp&i=0&n=1", {"CallSid": "CA3", "Digits": "2"})
    gather = raiz.find("Gather")
    assert gather.get("numDigits") == digitos
    assert query(gather.get("action"))["slot"] == slot


def test_clave_hablada_y_fecha_por_teclado_llegan_normalizadas_a_rasa(telefono, fake_rasa):
    llamada = telefono.llamar(["5", "1", "1", "say:ce ce tres cu zeta ocho", "27041956", "colgar"])
    assert fake_rasa.mensajes() == ["/cancelar_cita", "CC3QZ8", "27041956"]
    dicho = llamada.dicho_despues_de(4)
    assert "treinta de enero de dos mil veinticuatro" in dicho  # the date is spoken in words
    assert "30/01/2024" not in dicho
    assert "Para Sí, marque uno" in dicho and "Para No, marque dos" in dicho


def test_fecha_dicha_llega_como_dd_mm_aaaa(telefono, fake_rasa):
    fake_rasa.bot = lambda s, t: {
        "mensajes": ["¿Fecha?"],
        "requested_slot": "fecha_nacimiento",
        "active_loop": "f",
    }
    telefono.llamar(
        ["5", "1", "1", "say:veintisiete de abril de mil novecientos cincuenta y seis", "colgar"]
    )
    assert fake_rasa.mensajes()[-1] == "27/04/1956"


def test_cero_transfiere_con_dial_al_numero_configurado(client, ivr_settings):
    raiz = post_twiml(client, "/ivr/menu?nodo=capp&i=0&n=1", {"CallSid": "CA4", "Digits": "0"})
    dial = raiz[-1]
    assert dial.tag == "Dial" and dial.text == ivr_settings.ivr_asesor_numero
    assert urlsplit(dial.get("action")).path == "/ivr/asesor/fin"
    assert "asesor" in texto_dicho(raiz)


def test_sin_numero_configurado_usa_enqueue_a_la_cola(client, ivr_settings):
    ivr_settings.ivr_asesor_numero = None
    ivr_settings.ivr_asesor_cola = "capp"
    raiz = post_twiml(
        client,
        "/ivr/menu?nodo=capp&i=0&n=1",
        {"CallSid": "CA5", "SpeechResult": "quiero hablar con un asesor"},
    )
    enqueue = raiz[-1]
    assert enqueue.tag == "Enqueue" and enqueue.text == "capp"
    assert urlsplit(enqueue.get("action")).path == "/ivr/asesor/fin"
    assert urlsplit(enqueue.get("waitUrl")).path == "/ivr/asesor/espera"


@pytest.mark.parametrize(
    ("campo", "valor", "cuelga_con_disculpa"),
    [
        ("DialCallStatus", "completed", False),
        ("DialCallStatus", "no-answer", True),
        ("QueueResult", "hangup", True),
    ],
)
def test_fin_de_la_transferencia_siempre_cuelga(client, campo, valor, cuelga_con_disculpa):
    raiz = post_twiml(client, "/ivr/asesor/fin", {"CallSid": "CA6", campo: valor})
    assert raiz[-1].tag == "Hangup"
    assert ("no fue posible" in texto_dicho(raiz)) is cuelga_con_disculpa


def test_asterisco_regresa_y_nueve_repite(client):
    atras = post_twiml(client, "/ivr/menu?nodo=citas&i=1&n=3", {"CallSid": "CA7", "Digits": "*"})
    assert query(atras.find("Gather").get("action")) == {"nodo": "capp", "i": "0", "n": "4"}
    repite = post_twiml(client, "/ivr/menu?nodo=citas&i=2&n=3", {"CallSid": "CA7", "Digits": "9"})
    assert query(repite.find("Gather").get("action")) == {"nodo": "citas", "i": "0", "n": "4"}


def test_asterisco_en_conversacion_detiene_el_formulario_y_vuelve_al_menu(client, fake_rasa):
    raiz = post_twiml(
        client,
        "/ivr/conversacion?desde=citas&slot=clave_cita&i=0&n=4",
        {"CallSid": "CA8", "Digits": "*"},
    )
    assert fake_rasa.mensajes() == ["/detener"]
    assert query(raiz.find("Gather").get("action"))["nodo"] == "citas"


def test_tecla_invalida_se_avisa_y_reintenta(client):
    raiz = post_twiml(client, "/ivr/menu?nodo=citas&i=0&n=3", {"CallSid": "CA9", "Digits": "8"})
    assert "no es válida" in texto_dicho(raiz)
    assert query(raiz.find("Gather").get("action"))["i"] == "1"


def test_silencio_dos_reintentos_luego_asesor_luego_despedida(telefono, tmp_path, ivr_settings):
    llamada = telefono.llamar(["5", "-", "-", "-", "-"])
    pedidos = [e for e in llamada.eventos if e.tipo == "dice"]
    textos = [e.texto for e in pedidos]
    assert sum("No escuché su respuesta" in t for t in textos) == 3
    assert "Si desea hablar con un asesor, marque cero" in textos[-2]
    assert "Hasta luego" in textos[-1]
    assert llamada.final == "hangup"
    filas = Registro(ivr_settings.ivr_registro_path).leer(llamada.call_sid)
    assert {"evento": "fin_ivr", "motivo": "sin_respuesta"}.items() <= filas[-2].items()
    assert filas[-1]["evento"] == "estado" and filas[-1]["estado"] == "completed"


def test_silencio_en_conversacion_tambien_termina(telefono):
    llamada = telefono.llamar(["5", "1", "1", "-", "-", "-", "-"])
    assert llamada.final == "hangup"
    assert llamada.dicho().count("clave de su cita") == 4  # asked, then repeated three times


def test_clave_invalida_repetida_ofrece_asesor_y_cuelga(telefono, fake_rasa):
    llamada = telefono.llamar(["5", "1", "1"] + ["say:equis equis equis equis equis equis"] * 4)
    assert fake_rasa.mensajes().count("XXXXXX") == 4
    assert "Si desea hablar con un asesor, marque cero" in llamada.dicho_despues_de(5)
    assert llamada.final == "hangup"


def test_decir_lo_que_quiere_salta_por_la_comprension_de_rasa(telefono, fake_rasa):
    fake_rasa.interpretaciones["quiero cancelar mi cita"] = ("cancelar_cita", 0.97)
    llamada = telefono.llamar(["say:quiero cancelar mi cita", "colgar"])
    assert fake_rasa.recibidos[0]["path"].endswith("/interpretar")
    assert fake_rasa.mensajes() == ["quiero cancelar mi cita"]  # the words, read as cancelar_cita
    assert "clave de su cita" in llamada.dicho_despues_de(0)


def test_una_pregunta_que_solo_el_bot_sabe_se_le_pasa_con_sus_palabras(telefono, fake_rasa):
    fake_rasa.interpretaciones["cuánto tardan en depositar"] = ("faq", 0.9)
    llamada = telefono.llamar(["5", "say:cuánto tardan en depositar", "colgar"])
    assert fake_rasa.mensajes() == ["cuánto tardan en depositar"]
    assert "Recibí: cuánto tardan en depositar" in llamada.dicho_despues_de(1)


def test_no_entendido_cuenta_como_intento(client, fake_rasa):
    raiz = post_twiml(
        client,
        "/ivr/menu?nodo=capp&i=0&n=1",
        {"CallSid": "CA10", "SpeechResult": "el clima de mañana"},
    )
    assert "no le entendí" in texto_dicho(raiz)
    assert query(raiz.find("Gather").get("action")) == {"nodo": "capp", "i": "1", "n": "2"}
    assert fake_rasa.mensajes() == []  # only interpreted, nothing sent to the conversation


def test_nombre_de_opcion_dicho_se_elige_localmente(telefono, fake_rasa):
    telefono.llamar(["5", "say:saldo", "colgar"])
    assert fake_rasa.mensajes() == ["/consultar_saldo"]
    assert not any(r["path"].endswith("/interpretar") for r in fake_rasa.recibidos)


def test_acciones_del_bot_transferir_y_colgar(client, fake_rasa):
    fake_rasa.bot = lambda s, t: {"mensajes": ["Con gusto le comunico."], "accion": "transferir"}
    raiz = post_twiml(
        client,
        "/ivr/conversacion?desde=capp&n=3",
        {"CallSid": "CA11", "SpeechResult": "un asesor humano por favor ya"},
    )
    assert raiz[-1].tag == "Dial"
    fake_rasa.bot = lambda s, t: {"mensajes": ["Gracias por llamar."], "accion": "colgar"}
    raiz = post_twiml(
        client,
        "/ivr/conversacion?desde=capp&n=3",
        {"CallSid": "CA11", "SpeechResult": "eso es todo gracias"},
    )
    assert raiz[-1].tag == "Hangup" and "Gracias por llamar" in texto_dicho(raiz)


def test_nada_de_urls_emoji_ni_markdown_en_voz(client, fake_rasa):
    fake_rasa.bot = lambda s, t: {
        "mensajes": [
            "**Listo** 😊 Consulte https://asisste.issste.gob.mx y [la guía](https://x.mx/g). "
            "Saldo: $11,320.07"
        ]
    }
    raiz = post_twiml(client, "/ivr/menu?nodo=capp&i=0&n=1", {"CallSid": "CA12", "Digits": "2"})
    dicho = texto_dicho(raiz)
    for prohibido in ["http", "**", "😊", "[", "](", "$", "11,320"]:
        assert prohibido not in dicho
    assert "once mil trescientos veinte pesos con siete centavos" in dicho


def test_pregunta_libre_pide_hablar_y_envia_el_texto(telefono, fake_rasa):
    llamada = telefono.llamar(["5", "6", "2", "say:en cuánto tiempo depositan", "colgar"])
    assert "Diga su pregunta" in llamada.dicho_despues_de(2)
    assert fake_rasa.mensajes() == ["en cuánto tiempo depositan"]


def test_fallback_estatico_transfiere(client):
    raiz = post_twiml(client, "/ivr/fallback", {"CallSid": "CA13", "ErrorCode": "11200"})
    assert raiz[-1].tag == "Dial" and "falla técnica" in texto_dicho(raiz)


def test_status_callback_registra_el_desenlace_sin_el_numero_completo(client, ivr_settings):
    r = post_firmado(
        client,
        "/ivr/estado",
        {
            "CallSid": "CA14",
            "CallStatus": "completed",
            "CallDuration": "42",
            "From": "+525512345678",
        },
    )
    assert r.status_code == 204
    fila = Registro(ivr_settings.ivr_registro_path).leer("CA14")[-1]
    assert fila["estado"] == "completed" and fila["duracion"] == 42
    assert fila["desde"].endswith("5678") and "55123" not in fila["desde"]


def test_todas_las_respuestas_de_una_llamada_terminan_bien(telefono):
    llamada = telefono.llamar(
        ["5", "1", "1", "say:ce ce tres cu zeta ocho", "27041956", "2", "*", "*", "0"]
    )
    assert llamada.final == "dial"
    for documento in llamada.respuestas:
        assert termina_bien(ET.fromstring(documento)), documento


@pytest.mark.parametrize(
    ("token", "codigo", "final"), [(None, 0, "dial"), ("otro-token", 1, "http_403")]
)
def test_simulador_desde_la_linea_de_comandos(client, monkeypatch, capsys, token, codigo, final):
    from ivr import simulator
    from tests.ivr.conftest import TOKEN

    def telefono_de_prueba(url, token, public, **kw):
        return Telefono(url, token, public, http=client, imprimir=kw["imprimir"])

    monkeypatch.setattr(simulator, "Telefono", telefono_de_prueba)
    args = [
        "--url",
        "http://testserver",
        "--public-base-url",
        PUBLIC,
        "--token",
        token or TOKEN,
        "--script",
        "5,0",
    ]
    assert simulator.main(args) == codigo
    salida = capsys.readouterr().out
    assert f"terminada: {final}" in salida
    if final == "dial":
        assert "IVR: Bienvenido a ISSSTETEL" in salida and "transferencia" in salida
