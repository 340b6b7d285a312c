from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy.orm import Session

from backend.deps import reloj
from backend.services import enlaces
from backend.services.errores import Caducado, Prohibido
from backend.settings import BackendSettings
from tests.backend._citas_apoyo import AHORA, auth, crear_dh, crear_oficina, mx

T0 = datetime(2024, 1, 22, 16, 0, tzinfo=UTC)


def test_firmar_y_verificar(settings: BackendSettings) -> None:
    token, expira = enlaces.sign(
        settings, kind="fopi", id_="F123", ttl=timedelta(minutes=10), ahora=T0
    )
    assert expira == T0 + timedelta(minutes=10)
    v = enlaces.verify(settings, token, ahora=T0 + timedelta(minutes=9))
    assert (v.kind, v.id, v.expira_en) == ("fopi", "F123", expira)


def test_enlace_expirado_es_410(settings: BackendSettings) -> None:
    token, _ = enlaces.sign(settings, kind="fopi", id_="F123", ttl=timedelta(minutes=10), ahora=T0)
    with pytest.raises(Caducado) as exc:
        enlaces.verify(settings, token, ahora=T0 + timedelta(minutes=10))
    assert "expiró" in exc.value.detail


@pytest.mark.parametrize("alterar", [
    lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # signature changed
    lambda t: "basura",
    # payload changed
    lambda t: t.split(".")[0] + "." + t.split(".")[1][::-1] + "." + t.split(".")[2],
])
def test_enlace_alterado_es_403(settings: BackendSettings, alterar) -> None:  # type: ignore[no-untyped-def]
    token, _ = enlaces.sign(settings, kind="hoja_cita", id_="CC3QZ8", ahora=T0)
    with pytest.raises(Prohibido):
        enlaces.verify(settings, alterar(token), ahora=T0)


def test_otro_secreto_no_sirve(settings: BackendSettings) -> None:
    token, _ = enlaces.sign(settings, kind="hoja_cita", id_="CC3QZ8", ahora=T0)
    otro = settings.model_copy(update={"token_secret": "otro-secreto-" + "y" * 24})
    with pytest.raises(Prohibido):
        enlaces.verify(otro, token, ahora=T0)


def test_token_de_identidad_no_es_enlace(client: TestClient, session: Session,
                                         settings: BackendSettings) -> None:
    dh = crear_dh(session)
    token_identidad = auth(settings, dh)["Authorization"].split()[1]
    r = client.get(f"/api/v1/archivos/{token_identidad}")
    assert r.status_code == 403
    assert r.json()["codigo"] == "enlace_invalido"


def test_enlace_a_la_hoja_sin_credenciales(client: TestClient, session: Session,
                                           settings: BackendSettings) -> None:
    ahora = {"v": AHORA}
    client.app.dependency_overrides[reloj] = lambda: ahora["v"]  # type: ignore[attr-defined]
    dh = crear_dh(session)
    oficina = crear_oficina(session)
    clave = client.post(
        "/api/v1/citas",
        json={"oficina_id": oficina.id, "inicio": mx(2024, 1, 30, 13, 30).isoformat()},
        headers=auth(settings, dh),
    ).json()["clave"]

    r = client.post(f"/api/v1/citas/{clave}/enlace", headers=auth(settings, dh))
    assert r.status_code == 200
    url = r.json()["url"]
    assert url.startswith("http://testserver/api/v1/archivos/")
    assert datetime.fromisoformat(r.json()["expira_en"]) == AHORA + timedelta(hours=24)

    # No Authorization header: what Twilio does when it fetches media.
    pdf = client.get(urlsplit(url).path)
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert clave in PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()

    ahora["v"] = AHORA + timedelta(hours=24, seconds=1)
    vencido = client.get(urlsplit(url).path)
    assert vencido.status_code == 410
    assert "expiró" in vencido.json()["detail"]
    client.app.dependency_overrides.clear()  # type: ignore[attr-defined]

    assert client.post(f"/api/v1/citas/{clave}/enlace").status_code == 401


def test_tipo_de_archivo_desconocido_es_404(client: TestClient, settings: BackendSettings) -> None:
    token, _ = enlaces.sign(settings, kind="no_existe", id_="1")
    r = client.get(f"/api/v1/archivos/{token}")
    assert r.status_code == 404
    assert r.json()["codigo"] == "archivo_no_encontrado"
