"""Privacy of identity data in logs: CURPs masked in any case and anywhere in the
line (message, arguments, tracebacks, uvicorn's access log), NIPs and balances never
written, on every handler the app finds when it starts."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
from uvicorn.logging import AccessFormatter

from backend.main import create_app
from backend.privacy import (
    FiltroPrivacidad,
    FormateadorPrivado,
    enmascarar_texto,
    instalar_privacidad,
    mascara_curp,
)
from backend.settings import BackendSettings

CURP = "HEGG560427MVZRRL04"
MASCARA = "HEGG************04"
OTRA = "BEML920313HMCLNS09"
NIP = "4821"


@pytest.fixture
def salida() -> Iterator[tuple[logging.Logger, io.StringIO, list[logging.LogRecord]]]:
    """A logger with one protected handler writing to a buffer; also keeps the records."""
    texto = io.StringIO()
    registros: list[logging.LogRecord] = []

    class Guardar(logging.StreamHandler):  # type: ignore[type-arg]
        def emit(self, record: logging.LogRecord) -> None:
            registros.append(record)
            super().emit(record)

    handler = Guardar(texto)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    instalar_privacidad([handler])
    logger = logging.getLogger("tests.privacidad")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, texto, registros
    logger.removeHandler(handler)
    logger.propagate = True


def test_mascara_curp() -> None:
    assert mascara_curp(CURP) == MASCARA
    assert mascara_curp(" hegg560427mvzrrl04 ") == MASCARA
    assert mascara_curp("") == ""


def test_texto_libre_en_cualquier_caso() -> None:
    assert (
        enmascarar_texto(f"busco {CURP.lower()} y {OTRA}")
        == f"busco {MASCARA} y BEML************09"
    )
    assert enmascarar_texto("curp=HeGg560427mVzRrL04&x=1") == f"curp={MASCARA}&x=1"
    # Not a CURP: left alone.
    assert enmascarar_texto("folio CAPP-00418832, año 2025, quedan 2 intentos") == (
        "folio CAPP-00418832, año 2025, quedan 2 intentos"
    )


@pytest.mark.parametrize(
    "texto",
    [
        f"nip={NIP}",
        f'{{"curp": "x", "nip": "{NIP}"}}',
        f"{{'nip': {NIP}}}",
        f"NIP {NIP}",
        f"Nip: {NIP}",
        f"curp=X&nip={NIP}&canal=ivr",
    ],
)
def test_un_nip_nunca_queda_en_el_texto(texto: str) -> None:
    enmascarado = enmascarar_texto(texto)
    assert NIP not in enmascarado and "****" in enmascarado


def test_saldos_enmascarados() -> None:
    texto = enmascarar_texto('saldo_deudor_total=12345.67 {"saldo": 1,234.50} saldo $980')
    for cifra in ("12345.67", "1,234.50", "980"):
        assert cifra not in texto
    assert texto.count("***") == 3


def test_curp_en_la_excepcion_y_en_los_argumentos(
    salida: tuple[logging.Logger, io.StringIO, list[logging.LogRecord]],
) -> None:
    logger, texto, registros = salida
    try:
        raise LookupError(f"no existe {CURP.lower()} en el padrón")
    except LookupError:
        logger.exception("falló la consulta de %s", OTRA)
    linea = texto.getvalue()
    assert "Traceback" in linea and "LookupError" in linea
    assert MASCARA in linea and "BEML************09" in linea
    assert "560427" not in linea and "920313" not in linea
    # The record itself is masked too (what any other handler or tool would read).
    (registro,) = registros
    assert "920313" not in registro.getMessage() and "560427" not in (registro.exc_text or "")


def test_datos_que_aparecen_al_unir_mensaje_y_argumentos(
    salida: tuple[logging.Logger, io.StringIO, list[logging.LogRecord]],
) -> None:
    logger, texto, registros = salida
    logger.info("nip %s", NIP)
    logger.info("cuerpo %s", {"curp": CURP, "nip": NIP})
    logger.info("saldo=%s", 15000.25)
    linea = texto.getvalue()
    assert NIP not in linea and CURP not in linea and "15000.25" not in linea
    assert all(NIP not in r.getMessage() and CURP not in r.getMessage() for r in registros)


def test_numeros_sin_datos_personales_se_formatean_igual(
    salida: tuple[logging.Logger, io.StringIO, list[logging.LogRecord]],
) -> None:
    logger, texto, _ = salida
    logger.info("pasada: %d enviados en %.1f s", 12, 3.25)
    assert texto.getvalue().strip().endswith("pasada: 12 enviados en 3.2 s")


@pytest.fixture
def acceso() -> Iterator[tuple[logging.Handler, io.StringIO]]:
    """uvicorn's access logger with uvicorn's own formatter, as `uvicorn backend.main:app`
    sets it."""
    texto = io.StringIO()
    handler = logging.StreamHandler(texto)
    handler.setFormatter(
        AccessFormatter(
            '%(levelprefix)s %(client_addr)s - "%(request_line)s" %(status_code)s', use_colors=False
        )
    )
    logger = logging.getLogger("uvicorn.access")
    antes = (logger.handlers[:], logger.level, logger.propagate)
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO)
    logger.propagate = False
    yield handler, texto
    logger.handlers[:], nivel, logger.propagate = antes
    logger.setLevel(nivel)


def test_create_app_protege_el_log_de_acceso(
    acceso: tuple[logging.Handler, io.StringIO], settings: BackendSettings
) -> None:
    create_app(settings)
    handler, log_de_acceso = acceso
    assert isinstance(handler.formatter, FormateadorPrivado)
    assert any(isinstance(f, FiltroPrivacidad) for f in handler.filters)
    # The same call uvicorn's protocol makes for every request.
    logging.getLogger("uvicorn.access").info(
        '%s - "%s %s HTTP/%s" %d', "127.0.0.1:50123", "GET",
        f"/api/v1/citas?curp={CURP.lower()}&nip={NIP}", "1.1", 200,
    )
    linea = log_de_acceso.getvalue()
    assert f'"GET /api/v1/citas?curp={MASCARA}&nip=**** HTTP/1.1" 200' in linea, linea
    assert "560427" not in linea.lower() and NIP not in linea


def test_create_app_protege_raiz_y_el_respaldo(settings: BackendSettings) -> None:
    raiz = logging.StreamHandler(io.StringIO())
    logging.getLogger().addHandler(raiz)
    try:
        create_app(settings)
        assert isinstance(raiz.formatter, FormateadorPrivado)
        assert logging.lastResort is not None and isinstance(
            logging.lastResort.formatter, FormateadorPrivado
        )
        create_app(settings)  # idempotent: one filter, one wrapper
        assert sum(isinstance(f, FiltroPrivacidad) for f in raiz.filters) == 1
        assert not isinstance(raiz.formatter.interno, FormateadorPrivado)  # type: ignore[union-attr]
    finally:
        logging.getLogger().removeHandler(raiz)
