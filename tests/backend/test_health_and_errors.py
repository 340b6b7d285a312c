from __future__ import annotations

from fastapi.testclient import TestClient


def test_health_reports_database(client: TestClient) -> None:
    r = client.get("/health")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "database": "ok"}


def test_unknown_route_answers_spanish_error_shape(client: TestClient) -> None:
    r = client.get("/api/v1/no-existe")
    assert r.status_code == 404
    body = r.json()
    assert body["codigo"] == "no_encontrado"
    assert body["detail"] == "No encontramos lo que busca."


def test_nul_byte_in_query_is_422_not_500(client: TestClient) -> None:
    r = client.get("/api/v1/oficinas", params={"q": "a\x00b"})
    assert r.status_code == 422
    assert r.json()["codigo"] == "datos_invalidos"
    assert "no válidos" in r.json()["detail"]
