"""Spoken input normaliser: hypothesis properties plus the issue's own examples."""

from __future__ import annotations

import string
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from num2words import num2words
from stdnum.mx import curp as std_curp

from ivr import claves, fechas, locucion, normalizacion, numeros
from ivr.claves import NOMBRES_COMPUESTOS, NOMBRES_LETRAS
from ivr.palabras import sin_acentos

# Every way a caller may name a character, built from the tables *inverted*
# plus independent "X de <palabra>" examples the tables do not contain.
FORMAS: dict[str, list[str]] = {c: [] for c in string.ascii_uppercase}
for nombre, letra in NOMBRES_LETRAS.items():
    if letra in FORMAS:
        FORMAS[letra].append(nombre)
for (a, b), letra in NOMBRES_COMPUESTOS.items():
    FORMAS[letra].append(f"{a} {b}")
PALABRAS = {
    "B": "burro",
    "V": "vaca",
    "C": "casa",
    "S": "sapo",
    "Z": "zapato",
    "M": "mamá",
    "N": "Nicolás",
    "D": "dedo",
    "P": "perro",
    "G": "gato",
    "T": "Tomás",
}
for letra, palabra in PALABRAS.items():
    FORMAS[letra].append(f"{FORMAS[letra][0]} de {palabra}")
DIGITOS = ["cero", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve"]
ALFANUM = string.ascii_uppercase + string.digits


@st.composite
def dicho(draw, texto: str) -> str:
    partes = []
    for c in texto:
        if c.isdigit():
            partes.append(DIGITOS[int(c)])
        else:
            partes.append(draw(st.sampled_from(FORMAS[c])))
    separador = draw(st.sampled_from([" ", ", ", " . "]))
    return separador.join(partes)


@settings(deadline=None)  # shared 2-core CI box: no per-example deadline
@given(st.text(ALFANUM, min_size=6, max_size=6).flatmap(lambda c: st.tuples(st.just(c), dicho(c))))
def test_clave_deletreada_vuelve_a_la_clave(par):
    clave, hablado = par
    assert claves.clave_cita(hablado) == clave


@settings(deadline=None)  # shared 2-core CI box: no per-example deadline
@given(st.text(ALFANUM, min_size=6, max_size=6))
def test_clave_como_la_lee_el_ivr_se_entiende_igual(clave):
    assert claves.clave_cita(" ".join(locucion.deletrear(clave))) == clave


@st.composite
def curps(draw) -> str:
    letras = st.text(string.ascii_uppercase, min_size=1, max_size=1)
    nacimiento = draw(st.dates(date(1930, 1, 1), date(2009, 12, 31)))
    cuerpo = (
        "".join(draw(letras) for _ in range(4))
        + nacimiento.strftime("%y%m%d")
        + draw(st.sampled_from("HM"))
        + draw(st.sampled_from(["DF", "VZ", "MC", "JC", "NL", "PL"]))
        + "".join(draw(letras) for _ in range(3))
        + ("0" if nacimiento.year < 2000 else draw(letras))
    )
    return cuerpo + std_curp.calc_check_digit(cuerpo)


@st.composite
def curp_en_voz(draw) -> tuple[str, str]:
    curp = draw(curps())
    partes, i = [], 0
    while i < len(curp):
        c = curp[i]
        # two digits may be said as one number ("cincuenta y seis"), unless it starts with 0
        if (
            c.isdigit()
            and i + 1 < len(curp)
            and curp[i + 1].isdigit()
            and c != "0"
            and draw(st.booleans())
        ):
            partes.append(num2words(int(curp[i : i + 2]), lang="es"))
            i += 2
            continue
        partes.append(DIGITOS[int(c)] if c.isdigit() else draw(st.sampled_from(FORMAS[c])))
        i += 1
    return curp, " ".join(partes)


@settings(max_examples=150, deadline=None)
@given(curp_en_voz())
def test_curp_dicha_vuelve_con_digito_verificador(par):
    curp, hablado = par
    assert claves.curp(hablado) == curp


@settings(deadline=None)  # shared 2-core CI box: no per-example deadline
@given(curps(), st.integers(1, 9))
def test_curp_con_digito_verificador_equivocado_se_rechaza(curp, delta):
    mala = curp[:-1] + str((int(curp[-1]) + delta) % 10)
    hablado = " ".join(DIGITOS[int(c)] if c.isdigit() else FORMAS[c][0] for c in mala)
    assert claves.curp(hablado) is None


@settings(deadline=None)  # shared 2-core CI box: no per-example deadline
@given(st.integers(0, 9999))
def test_nip_digito_por_digito_o_en_pares(nip):
    texto = f"{nip:04d}"
    assert claves.nip(" ".join(DIGITOS[int(c)] for c in texto)) == texto
    if texto[0] != "0" and texto[2] != "0":
        pares = f"{num2words(int(texto[:2]), lang='es')} {num2words(int(texto[2:]), lang='es')}"
        assert claves.nip(pares) == texto


@settings(deadline=None)  # shared 2-core CI box: no per-example deadline
@given(st.integers(1, 9_999_999))
def test_montos_en_palabras(n):
    assert numeros.monto(num2words(n, lang="es")) == Decimal(n)
    assert numeros.monto(f"{num2words(n, lang='es')} pesos") == Decimal(n)


@settings(deadline=None)  # shared 2-core CI box: no per-example deadline
@given(st.decimals(min_value=Decimal("1.00"), max_value=Decimal("999999.99"), places=2))
def test_montos_como_los_dice_el_ivr_vuelven_igual(valor):
    assert numeros.monto(locucion.dinero(valor)) == valor


@settings(deadline=None)  # shared 2-core CI box: no per-example deadline
@given(st.dates(date(1920, 1, 1), date(2030, 12, 31)))
def test_fechas_dichas_como_las_dice_el_ivr(d):
    assert fechas.fecha(locucion.fecha(d)) == d
    assert fechas.fecha(d.strftime("%d%m%Y")) == d
    assert normalizacion.para_slot("fecha_nacimiento", locucion.fecha(d)) == d.strftime("%d/%m/%Y")


def test_ejemplos_del_issue():
    assert claves.clave_cita("ce ce tres cu zeta ocho") == "CC3QZ8"
    assert claves.caracteres("be de burro, ve de vaca") == "BV"
    assert fechas.fecha("veintisiete de abril de mil novecientos cincuenta y seis") == date(
        1956, 4, 27
    )
    assert numeros.monto("quince mil quinientos") == Decimal("15500")
    assert numeros.monto("once mil trescientos veinte pesos con siete centavos") == Decimal(
        "11320.07"
    )
    assert (
        claves.curp(
            "hache e ge ge cincuenta y seis cero cuatro veintisiete eme ve de vaca zeta erre erre "
            "ele cero cuatro"
        )
        == "HEGG560427MVZRRL04"
    )


def test_lo_que_el_reconocedor_ya_escribio_en_caracteres():
    assert claves.clave_cita("Mi clave es CC3QZ8.") == "CC3QZ8"
    assert claves.clave_cita("Se se 3 Q Z 8") == "CC3QZ8"
    assert claves.curp("HEGG 560427 MVZRRL04") == "HEGG560427MVZRRL04"


def test_lo_invalido_no_se_inventa():
    assert claves.clave_cita("ce ce tres") is None
    assert fechas.fecha("treinta y uno de febrero de dos mil") is None
    assert fechas.fecha("no me acuerdo") is None
    assert claves.nip("cuatro ocho") is None
    assert numeros.monto("no sé") is None


def test_para_slot_elige_el_normalizador():
    assert normalizacion.para_slot("clave_cita", "ce ce tres cu zeta ocho") == "CC3QZ8"
    assert normalizacion.para_slot("nip", "cuarenta y ocho veintiuno") == "4821"
    assert normalizacion.para_slot("fecha_nacimiento", "27041956", teclado=True) == "27041956"
    assert normalizacion.para_slot("monto", "quince mil quinientos") == "15500"
    assert (
        normalizacion.para_slot("sueldo", "once mil trescientos veinte pesos con siete centavos")
        == "11320.07"
    )
    assert (
        normalizacion.para_slot("plazo", "quiero veinticuatro quincenas") == "quiero 24 quincenas"
    )
    assert normalizacion.para_slot("anios_cotizacion", "ocho años") == "8 años"
    # free speech keeps its words; an utterance that is only a number becomes digits
    assert (
        normalizacion.para_slot(None, "quiero veinticuatro quincenas")
        == "quiero veinticuatro quincenas"
    )
    assert normalizacion.para_slot(None, "la opción dos") == "2"


# ------------------------------------------------------------------ free speech stays words
#
# Words that are no letter name, no number and no filler of the spelling tables,
# so a sentence made of them is plainly speech. Built independently of the tables
# and checked against them below, so a table change cannot silently empty it.
PALABRAS_LIBRES = [
    "no", "me", "acuerdo", "quiero", "hablar", "asesor", "espere", "momento", "cuánto",
    "tardan", "depositar", "gracias", "tengo", "duda", "sobre", "préstamo", "perdón", "otra",
    "vez", "porque", "olvidé", "papel", "buscar", "ahorita", "señorita", "oiga", "disculpe",
    "ayuda", "necesito", "saber", "cómo", "pago", "persona", "tiempo", "depositan", "sabe",
]
# Words that *are* in the tables and often appear in real sentences.
PALABRAS_AMBIGUAS = [
    "un",
    "una",
    "uno",
    "de",
    "la",
    "mi",
    "clave",
    "cita",
    "a",
    "e",
    "o",
    "y",
    "con",
    "es",
    "te",
    "se",
]
SLOTS = [
    None,
    "clave_cita",
    "curp",
    "nip",
    "fecha_nacimiento",
    "monto",
    "sueldo",
    "plazo",
    "anios_cotizacion",
    "oficina",
    "confirmar_cancelacion",
]


def test_las_palabras_libres_no_estan_en_las_tablas():
    tablas = (
        set(NOMBRES_LETRAS) | set(numeros.DIGITOS) | claves.RELLENO | numeros.NUMEROS_PALABRA
        | {a for a, _ in NOMBRES_COMPUESTOS}
    )
    assert not {sin_acentos(p) for p in PALABRAS_LIBRES} & tablas
    assert {sin_acentos(p) for p in PALABRAS_AMBIGUAS} <= tablas


frases_libres = st.lists(st.sampled_from(PALABRAS_LIBRES), min_size=1, max_size=8).map(" ".join)
# A sentence with at least one plain word, possibly mixed with words the tables know
# (but fewer than a clave's six characters, so no value can hide in it).
frases_mixtas = st.tuples(
    st.lists(st.sampled_from(PALABRAS_LIBRES), min_size=1, max_size=5),
    st.lists(st.sampled_from(PALABRAS_AMBIGUAS), min_size=0, max_size=3),
    st.randoms(use_true_random=False),
).map(lambda t: " ".join(t[2].sample(t[0] + t[1], len(t[0]) + len(t[1]))))


@settings(deadline=None)
@given(frases_libres, st.sampled_from(SLOTS))
def test_el_habla_libre_llega_al_bot_tal_cual(frase, slot):
    assert normalizacion.para_slot(slot, frase) == frase
    assert normalizacion.texto_libre(frase) == frase


@settings(deadline=None)
@given(frases_mixtas, st.sampled_from(["clave_cita", "curp", "nip", None, "oficina"]))
def test_una_frase_con_palabras_no_se_convierte_en_clave_curp_ni_nip(frase, slot):
    """'no me acuerdo de la clave', 'espere un momento': the caller's words, not 'D' or '1'."""
    assert normalizacion.para_slot(slot, frase) == frase


@settings(deadline=None)
@given(
    st.text(ALFANUM, min_size=6, max_size=6).flatmap(lambda c: st.tuples(st.just(c), dicho(c))),
    frases_libres,
    frases_libres,
)
def test_una_clave_dicha_dentro_de_una_frase_se_reconoce(par, antes, despues):
    clave, hablado = par
    frase = f"{antes} la cita {hablado} {despues}"
    assert normalizacion.para_slot("clave_cita", frase) == clave
    # in free speech the words stay, the clave is written compactly and found as an entity
    assert normalizacion.texto_libre(frase) == f"{antes} la cita {clave} {despues}"


@settings(deadline=None)
@given(frases_libres, st.text(ALFANUM, min_size=6, max_size=6).flatmap(dicho))
def test_sin_cita_ni_clave_delante_una_clave_no_se_adivina_en_habla_libre(antes, hablado):
    assert claves.compactar(f"{antes} {hablado}") == f"{antes} {hablado}"


@settings(deadline=None)
@given(st.text(ALFANUM, min_size=1, max_size=12).flatmap(lambda c: st.tuples(st.just(c), dicho(c))))
def test_un_deletreo_incompleto_llega_deletreado_para_que_el_bot_diga_que_falta(par):
    """Only spelling, but not six characters: the bot's validator gets the characters."""
    valor, hablado = par
    if len(valor) != 6:
        assert normalizacion.para_slot("clave_cita", hablado) == valor


@settings(deadline=None)
@given(st.integers(0, 99_999), st.sampled_from(["", "mi nip es ", "es el "]))
def test_nip_solo_con_cuatro_digitos(n, prefijo):
    texto = f"{n:0{len(str(n))}d}"
    dicho_nip = prefijo + " ".join(DIGITOS[int(c)] for c in texto)
    esperado = texto if len(texto) == 4 else None
    assert claves.nip(dicho_nip) == esperado
    # a wrong number of digits still reaches the bot as digits, so it can say "cuatro dígitos"
    assert normalizacion.para_slot("nip", dicho_nip) == texto


@pytest.mark.parametrize(
    ("slot", "dicho"),
    [
        ("clave_cita", "no me acuerdo de la clave"),
        ("clave_cita", "espere un momento"),
        ("nip", "espere un momento"),
        ("curp", "quiero hablar con un asesor"),
        ("monto", "quiero hablar con una persona"),
        ("plazo", "espere un momento"),
        ("fecha_nacimiento", "no me acuerdo"),
        (None, "quiero hablar con una persona"),
    ],
)
def test_ejemplos_de_habla_libre_en_cada_pregunta(slot, dicho):
    assert normalizacion.para_slot(slot, dicho) == dicho
    assert (
        normalizacion.para_slot("clave_cita", "cuánto tardan en depositar")
        == "cuánto tardan en depositar"
    )


def test_la_clave_tras_clave_de_mi_cita_no_empieza_con_de():
    assert claves.clave_cita("la clave de mi cita es ce ce tres cu zeta ocho") == "CC3QZ8"
    assert claves.clave_cita("cita de ce ce tres cu zeta ocho") == "CC3QZ8"
    assert claves.clave_cita("no es CC3QZ8, es K7M2Q9") == "K7M2Q9"  # the correction wins


def test_codigos_compactos_en_una_frase():
    curp_dicha = (
        "hache e ge ge cincuenta y seis cero cuatro veintisiete eme ve de vaca zeta erre erre ele "
        "cero cuatro"
    )
    assert (
        normalizacion.texto_libre(f"quiero mi saldo mi curp es {curp_dicha}")
        == "quiero mi saldo mi curp es HEGG560427MVZRRL04"
    )
    assert (
        normalizacion.texto_libre("quiero cancelar la cita ce ce tres cu zeta ocho")
        == "quiero cancelar la cita CC3QZ8"
    )
    assert normalizacion.texto_libre("quiero cancelar mi cita") == "quiero cancelar mi cita"


def test_montos_que_no_son_montos():
    assert numeros.monto("quiero hablar con una persona") is None
    assert numeros.monto("espere un momento") is None
    assert numeros.monto("un peso") == Decimal("1")
    assert numeros.monto("gano como quince mil al mes") == Decimal("15000")
