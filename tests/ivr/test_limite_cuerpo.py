"""The IVR refuses bodies over IVR_MAX_CUERPO_BYTES with 413 before the Twilio
signature check reads the form; a signed form of ordinary size still works."""

from __future__ import annotations

from fastapi.testclient import TestClient

from ivr.main import crear_app
from ivr.settings import IVRSettings
from tests.asgi_trozos import VEINTE_MB, Cuerpo, con_pico_de_memoria, enviar
from tests.ivr.conftest import post_firmado, twiml

TROZO = 16 * 1024


def _cuerpo() -> Cuerpo:
    return Cuerpo(VEINTE_MB, TROZO, relleno=b"a")


def _llamar(app: object, cuerpo: Cuerpo, headers: list[tuple[bytes, bytes]]) -> int:
    formulario = [
        (b"content-type", b"application/x-www-form-urlencoded"),
        (b"x-twilio-signature", b"no-importa"),
    ]
    return enviar(app, cuerpo, "/ivr/voice", [*formulario, *headers])[0]


def test_20_mb_en_trozos_da_413_con_memoria_plana(ivr_settings: IVRSettings) -> None:
    app = crear_app(ivr_settings)
    cuerpo = _cuerpo()
    status, pico = con_pico_de_memoria(
        lambda: _llamar(app, cuerpo, [(b"transfer-encoding", b"chunked")])
    )
    assert status == 413
    assert cuerpo.entregados <= ivr_settings.ivr_max_cuerpo_bytes + TROZO
    assert pico < 4 * 1024 * 1024


def test_content_length_grande_da_413_sin_leer(ivr_settings: IVRSettings) -> None:
    cuerpo = _cuerpo()
    assert (
        _llamar(crear_app(ivr_settings), cuerpo, [(b"content-length", str(VEINTE_MB).encode())])
        == 413
    )
    assert cuerpo.entregados == 0


def test_formulario_firmado_normal_pasa(client: TestClient) -> None:
    r = post_firmado(client, "/ivr/voice", {"CallSid": "CA" + "1" * 32, "From": "+525512345678"})
    assert r.status_code == 200
    assert twiml(r).tag == "Response"


def test_limite_configurable(ivr_settings: IVRSettings) -> None:
    ivr_settings.ivr_max_cuerpo_bytes = 2048
    with TestClient(crear_app(ivr_settings)) as c:
        r = c.post("/ivr/voice", content=b"a=" + b"b" * 3000,
                   headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 413
