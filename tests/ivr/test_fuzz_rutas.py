"""Every Twilio route of the IVR under generated, correctly signed requests:
any query string an attacker could craft into an action URL, any keys, any
speech, any CallSid. The IVR never answers 5xx and, where Twilio expects
TwiML, always answers a document that keeps the call alive or ends it
(never an empty <Response/>, which is silence on the line)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from urllib.parse import urlencode

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.ivr.conftest import post_firmado

RUTAS = ["/ivr/voice", "/ivr/menu", "/ivr/conversacion", "/ivr/asesor/fin", "/ivr/asesor/espera",
         "/ivr/fallback", "/ivr/estado"]
VERBOS_QUE_SIGUEN = {
    "Gather",
    "Say",
    "Play",
    "Hangup",
    "Dial",
    "Redirect",
    "Enqueue",
    "Pause",
    "Leave",
}
TEXTO = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)
QUERY = st.dictionaries(
    st.sampled_from(["nodo", "i", "n", "b", "slot", "desde", "x", "motivo"]),
    st.one_of(
        TEXTO,
        st.integers(-(10**12), 10**12).map(str),
        st.sampled_from(["citas", "capp", "raiz", "-1", ""]),
    ),
    max_size=5,
)
FORMULARIO = st.fixed_dictionaries(
    {"CallSid": st.one_of(st.just("CA" + "f" * 32), TEXTO)},
    optional={
        "Digits": st.one_of(st.text(alphabet="0123456789*#", max_size=20), TEXTO),
        "SpeechResult": TEXTO,
        "Confidence": st.one_of(st.floats(allow_nan=True).map(str), TEXTO),
        "CallStatus": st.sampled_from(["completed", "busy", "failed", "in-progress", "¿?"]),
        "From": TEXTO,
        "DialCallStatus": TEXTO,
        "QueueTime": TEXTO,
    },
)


@settings(
    max_examples=120, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True
)
@given(ruta=st.sampled_from(RUTAS), consulta=QUERY, formulario=FORMULARIO)
def test_ninguna_peticion_firmada_tumba_al_ivr_ni_deja_la_linea_en_silencio(
    client, ruta, consulta, formulario
):
    path = ruta + ("?" + urlencode(consulta) if consulta else "")
    r = post_firmado(client, path, formulario)
    assert r.status_code < 500, (path, formulario, r.text[:300])
    if r.status_code == 200 and r.content:
        raiz = ET.fromstring(r.content)
        assert raiz.tag == "Response"
        assert {hijo.tag for hijo in raiz} & VERBOS_QUE_SIGUEN, (path, formulario, r.text[:300])
