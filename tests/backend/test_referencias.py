"""FOPI references: layout and ISO 7064 Mod 97-10 check digits."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.services import referencias

REF = referencias.generar_referencia(
    concepto="LIQUIDACION", prestamo_id=123, vigencia=date(2026, 11, 27), consecutivo=4
)


def test_layout_documentado() -> None:
    assert len(REF) == 20 and REF.isdigit()
    # C PPPPPPPP AAMMDD SSS VV
    assert REF[0] == "2"
    assert REF[1:9] == "00000123"
    assert REF[9:15] == "261127"
    assert REF[15:18] == "004"
    # ISO 7064 Mod 97-10, checked by hand rather than through stdnum:
    # the check digits are 98 - (body * 100 mod 97) and the whole number is ≡ 1 (mod 97).
    assert int(REF[18:]) == 98 - (int(REF[:18]) * 100) % 97
    assert int(REF) % 97 == 1


def test_desglosar_devuelve_los_campos() -> None:
    d = referencias.desglosar(REF)
    assert d == referencias.ReferenciaDesglosada(
        concepto="LIQUIDACION", prestamo_id=123, vigencia=date(2026, 11, 27), consecutivo=4
    )


def test_detecta_todo_error_de_un_digito() -> None:
    errores = 0
    for pos in range(len(REF)):
        for digito in "0123456789":
            if digito == REF[pos]:
                continue
            alterada = REF[:pos] + digito + REF[pos + 1 :]
            assert not referencias.es_valida(alterada), alterada
            with pytest.raises(referencias.ReferenciaInvalida):
                referencias.validar(alterada)
            errores += 1
    assert errores == 20 * 9


def test_detecta_transposiciones_adyacentes() -> None:
    probadas = 0
    for pos in range(len(REF) - 1):
        if REF[pos] == REF[pos + 1]:
            continue
        alterada = REF[:pos] + REF[pos + 1] + REF[pos] + REF[pos + 2 :]
        assert not referencias.es_valida(alterada), alterada
        probadas += 1
    assert probadas > 5


@pytest.mark.parametrize(
    ("texto", "mensaje"),
    [
        ("123", "20 dígitos"),
        ("2000000012326112700X", "20 dígitos"),
        ("", "20 dígitos"),
    ],
)
def test_formato_invalido_explica_en_espanol(texto: str, mensaje: str) -> None:
    with pytest.raises(referencias.ReferenciaInvalida, match=mensaje):
        referencias.validar(texto)


def test_concepto_desconocido_se_rechaza() -> None:
    cuerpo = "9" + REF[1:18]
    ref = cuerpo + f"{98 - (int(cuerpo) * 100) % 97:02d}"
    assert int(ref) % 97 == 1
    with pytest.raises(referencias.ReferenciaInvalida, match="no corresponde"):
        referencias.validar(ref)


def test_acepta_espacios_y_guiones_al_capturar() -> None:
    impresa = referencias.formatear(REF)
    assert impresa.split(" ") == [REF[i : i + 4] for i in range(0, 20, 4)]
    assert referencias.validar(impresa) == REF
    assert referencias.validar(REF[:10] + "-" + REF[10:]) == REF


@given(
    concepto=st.sampled_from(sorted(referencias.CONCEPTOS)),
    prestamo_id=st.integers(1, referencias.MAX_PRESTAMO_ID),
    vigencia=st.dates(date(2000, 1, 1), date(2099, 12, 31)),
    consecutivo=st.integers(1, referencias.MAX_CONSECUTIVO),
)
def test_ida_y_vuelta(concepto: str, prestamo_id: int, vigencia: date, consecutivo: int) -> None:
    ref = referencias.generar_referencia(
        concepto=concepto, prestamo_id=prestamo_id, vigencia=vigencia, consecutivo=consecutivo
    )
    assert len(ref) == 20 and int(ref) % 97 == 1
    assert referencias.desglosar(ref) == referencias.ReferenciaDesglosada(
        concepto, prestamo_id, vigencia, consecutivo
    )


def test_rangos_invalidos() -> None:
    with pytest.raises(ValueError):
        referencias.generar_referencia(
            concepto="PARCIAL", prestamo_id=0, vigencia=date(2026, 1, 1), consecutivo=1
        )
    with pytest.raises(ValueError):
        referencias.generar_referencia(
            concepto="PARCIAL", prestamo_id=1, vigencia=date(2026, 1, 1), consecutivo=1000
        )
    with pytest.raises(ValueError):
        referencias.generar_referencia(
            concepto="OTRO", prestamo_id=1, vigencia=date(2026, 1, 1), consecutivo=1
        )
