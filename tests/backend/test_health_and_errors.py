"""`/health` and the one JSON error shape: 400, 403, 404, 405, 422, 500 and 503."""

from __future__ import annotations

import io
import logging
import socket
from collections.abc import Iterator

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from backend.db import make_engine, make_sessionmaker
from backend.errors import ESTADO_HTTP, ErrorResponse, install_error_handlers
from backend.main import create_app
from backend.routers.health import HealthNoDisponible
from backend.services.errores import Conflicto, DemasiadosIntentos, ErrorDominio
from backend.settings import BackendSettings

CURP = "HEGG560427MVZRRL04"


def _error(r: object, status: int, codigo: str) -> ErrorResponse:
    """The body parsed as the one error shape, with a Spanish sentence and no traceback."""
    assert r.status_code == status, r.text  # type: ignore[attr-defined]
    cuerpo = ErrorResponse.model_validate(r.json())  # type: ignore[attr-defined]
    assert cuerpo.codigo == codigo
    assert cuerpo.detail.endswith(".") and "Traceback" not in r.text  # type: ignore[attr-defined]
    return cuerpo


# --- /health -------------------------------------------------------------------------

def test_health_reports_database(client: TestClient) -> None:
    r = client.get("/health")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "database": "ok"}


def _url_muerta(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A URL of the same kind as the suite's database that nothing answers."""
    if db_url.startswith("sqlite"):
        # A file inside a directory that does not exist: SQLite cannot open it.
        return f"sqlite:///{tmp_path_factory.mktemp('sin-bd') / 'no-existe' / 'capp.db'}"
    with socket.socket() as s:  # a port that was free a moment ago and has no listener
        s.bind(("127.0.0.1", 0))
        puerto = s.getsockname()[1]
    return f"postgresql+psycopg://postgres@127.0.0.1:{puerto}/capp?connect_timeout=2"


@pytest.fixture
def sin_base(
    settings: BackendSettings, db_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    """The app with its database down."""
    from sqlalchemy import create_engine

    url = _url_muerta(db_url, tmp_path_factory)
    # make_engine would create the SQLite folder; the point is that it is missing.
    engine = create_engine(url) if url.startswith("sqlite") else make_engine(url)
    app = create_app(settings)
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    with TestClient(app) as c:
        yield c
    engine.dispose()


def test_health_503_cuando_la_base_no_responde(sin_base: TestClient) -> None:
    r = sin_base.get("/health")
    assert r.status_code == 503, r.text
    cuerpo = HealthNoDisponible.model_validate(r.json())
    assert (cuerpo.status, cuerpo.database) == ("no_disponible", "no disponible")
    _error(r, 503, "servicio_no_disponible")  # also a regular error body
    assert "base de datos" in cuerpo.detail
    assert int(r.headers["Retry-After"]) > 0


def test_ruta_con_base_caida_da_503_no_500(sin_base: TestClient) -> None:
    r = sin_base.post("/api/v1/identidad/verificar", json={"curp": CURP, "nip": "1234"})
    cuerpo = _error(r, 503, "servicio_no_disponible")
    assert "no está disponible" in cuerpo.detail
    assert int(r.headers["Retry-After"]) > 0
    # Routes without a database keep answering.
    assert sin_base.get("/api/v1/productos").status_code == 200


# --- the error shape -----------------------------------------------------------------

def test_unknown_route_answers_spanish_error_shape(client: TestClient) -> None:
    cuerpo = _error(client.get("/api/v1/no-existe"), 404, "no_encontrado")
    assert cuerpo.detail == "No encontramos lo que busca."


def test_nul_byte_in_query_is_422_not_500(client: TestClient) -> None:
    cuerpo = _error(client.get("/api/v1/oficinas", params={"q": "a\x00b"}), 422, "datos_invalidos")
    assert "no válidos" in cuerpo.detail


def test_metodo_no_permitido_405_en_espanol_con_allow(client: TestClient) -> None:
    r = client.delete("/api/v1/simulaciones")
    cuerpo = _error(r, 405, "metodo_no_permitido")
    assert cuerpo.detail == "Operación no permitida."
    assert r.headers["Allow"] == "POST"
    r = client.post("/health")
    _error(r, 405, "metodo_no_permitido")
    assert "GET" in r.headers["Allow"]


def test_cuerpo_que_no_es_utf8_da_400_en_espanol(client: TestClient) -> None:
    r = client.post("/api/v1/simulaciones", content=b'{"producto": "\xff"}',
                    headers={"Content-Type": "application/json"})
    cuerpo = _error(r, 400, "solicitud_invalida")
    assert "JSON" in cuerpo.detail and "error parsing" not in r.text


def test_prohibido_403_en_espanol(client: TestClient, settings: BackendSettings) -> None:
    notificacion = {"referencia": "20000000126112700145", "monto": 100, "fecha_pago": "2026-01-02",
                    "banco": "BBVA", "folio_banco": "F-1"}
    settings.banco_webhook_secret = None  # a server without the secret refuses every notification
    cuerpo = _error(client.post("/api/v1/pagos/notificacion-bancaria", json=notificacion), 403,
                    "webhook_no_configurado")
    assert "no están habilitadas" in cuerpo.detail
    settings.banco_webhook_secret = "secreto-del-banco-" + "b" * 16
    _error(client.post("/api/v1/pagos/notificacion-bancaria", json=notificacion,
                       headers={"X-Webhook-Secret": "otro"}), 403, "prohibido")
    # A forged signed link.
    _error(client.get("/api/v1/archivos/no-es-una-firma"), 403, "enlace_invalido")


def _app_que_falla(
    settings: BackendSettings, engine: Engine, session_factory: sessionmaker[Session]
) -> FastAPI:
    """The real app plus a route that breaks with an unexpected exception carrying a CURP."""
    app = create_app(settings)
    app.state.engine = engine
    app.state.sessionmaker = session_factory
    falla = APIRouter()

    @falla.get("/prueba/falla")
    async def _falla() -> None:
        raise RuntimeError(f"fallo inesperado consultando {CURP} en /srv/capp/secreto.py")

    app.include_router(falla)
    return app


def test_error_inesperado_500_generico_sin_traceback(
    settings: BackendSettings, engine: Engine, session_factory: sessionmaker[Session]
) -> None:
    registro = io.StringIO()
    handler = logging.StreamHandler(registro)
    logging.getLogger().addHandler(handler)
    try:
        # The handler exists before the app is created, as uvicorn's do: create_app protects it.
        app = _app_que_falla(settings, engine, session_factory)
        with TestClient(app, raise_server_exceptions=False) as c:
            r = c.get("/prueba/falla")
    finally:
        logging.getLogger().removeHandler(handler)
    assert r.status_code == 500
    assert r.json() == {"detail": "Tuvimos un problema interno; intente de nuevo en unos minutos.",
                        "codigo": "error_interno"}
    for pista in ("Traceback", "RuntimeError", "secreto.py", CURP, "fallo inesperado"):
        assert pista not in r.text
    # The log has the traceback, with the CURP masked.
    salida = registro.getvalue()
    assert "Traceback" in salida and "RuntimeError" in salida
    assert "HEGG************04" in salida and CURP not in salida


# --- domain errors -> HTTP, in one place ---------------------------------------------------

def test_cada_error_de_dominio_tiene_su_estado_http() -> None:
    import backend.services.errores as errores

    clases = {c for c in vars(errores).values()
              if isinstance(c, type) and issubclass(c, ErrorDominio) and c is not ErrorDominio}
    assert clases == set(ESTADO_HTTP)
    assert len(set(ESTADO_HTTP.values())) == len(ESTADO_HTTP)


def test_error_de_dominio_da_su_estado_cuerpo_y_retry_after() -> None:
    class Especial(Conflicto):
        """A subclass answers as its nearest mapped class."""

    app = FastAPI()
    install_error_handlers(app)

    @app.get("/espera")
    async def espera() -> None:
        raise DemasiadosIntentos("Espere un momento.", "demasiados_intentos", reintentar_en=42)

    @app.get("/especial")
    async def especial() -> None:
        raise Especial("Ya cambió.", "cambio", campos=["x"], bloqueado_hasta=None)

    with TestClient(app) as c:
        r = c.get("/espera")
        assert r.headers["Retry-After"] == "42"
        assert _error(r, 429, "demasiados_intentos").detail == "Espere un momento."
        r = c.get("/especial")
        assert "Retry-After" not in r.headers
        assert r.json() == {"detail": "Ya cambió.", "codigo": "cambio", "campos": ["x"]}
        _error(r, 409, "cambio")


# --- what the OpenAPI declares -------------------------------------------------------------

def _respuestas(openapi: dict, ruta: str, metodo: str) -> dict[str, dict]:
    return openapi["paths"][ruta][metodo]["responses"]


def test_openapi_declara_los_errores_que_cada_ruta_puede_dar(client: TestClient) -> None:
    openapi = client.get("/openapi.json").json()
    declarados = {
        (ruta, metodo): set(_respuestas(openapi, ruta, metodo))
        for ruta, metodo in [
            ("/api/v1/simulaciones", "post"),
            ("/health", "get"),
            ("/api/v1/productos/{clave}", "get"),
            ("/api/v1/identidad/verificar", "post"),
            ("/api/v1/identidad/perfil", "get"),
            ("/api/v1/prestamos/saldo", "get"),
        ]
    }
    # No database, no token: no 401/503.
    assert declarados[("/api/v1/simulaciones", "post")] == {"200", "400", "413", "422", "500"}
    assert declarados[("/api/v1/productos/{clave}", "get")] == {"200", "404", "422", "500"}
    assert declarados[("/health", "get")] == {"200", "422", "500", "503"}
    assert declarados[("/api/v1/identidad/verificar", "post")] == {
        "200",
        "400",
        "401",
        "413",
        "422",
        "423",
        "429",
        "500",
        "503",
    }
    assert declarados[("/api/v1/identidad/perfil", "get")] == {"200", "401", "422", "500", "503"}
    assert {"401", "503"} <= declarados[("/api/v1/prestamos/saldo", "get")]
    assert {"403"} <= set(_respuestas(openapi, "/api/v1/pagos/notificacion-bancaria", "post"))
    # Every declared error answers with the one shape (schemathesis checks bodies against these).
    for ruta, metodos in openapi["paths"].items():
        for metodo, operacion in metodos.items():
            for codigo, respuesta in operacion["responses"].items():
                if codigo.startswith(("4", "5")):
                    esquema = respuesta["content"]["application/json"]["schema"]["$ref"]
                    assert esquema.rsplit("/", 1)[-1] in {"ErrorResponse", "HealthNoDisponible"}, (
                        ruta,
                        metodo,
                        codigo,
                    )
