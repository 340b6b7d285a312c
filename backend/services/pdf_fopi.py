"""The printable FOPI: a one-page PDF (fpdf2) with the reference as an
Interleaved 2 of 5 barcode (what bank tellers scan) and as a QR code (segno)."""

from __future__ import annotations

import io
from datetime import datetime
from decimal import Decimal

import segno
from babel.dates import format_date
from fpdf import FPDF
from num2words import num2words
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.contacto import CORREO, LINEA_CAPP
from backend.models import Derechohabiente, Fopi, Prestamo
from backend.privacy import mascara_curp
from backend.services import referencias
from backend.services.enlaces import Archivo, registrar_archivo
from backend.services.errores import NoEncontrado
from backend.services.fopi import BANCOS_AUTORIZADOS, DESCRIPCION_CONCEPTO
from backend.services.pdf_comun import LOCALE, parrafo, pesos
from backend.services.regularizacion import QuincenaPorRegularizar


def importe_con_letra(valor: Decimal) -> str:
    """Mexican cheque style: `ONCE MIL TRESCIENTOS VEINTE PESOS 07/100 M.N.`"""
    enteros = int(valor)
    centavos = int((valor - enteros) * 100)
    palabras = num2words(enteros, lang="es").upper()
    unidad = "PESO" if enteros == 1 else "PESOS"
    return f"{palabras} {unidad} {centavos:02d}/100 M.N."


def fecha_larga(valor: object) -> str:
    return format_date(valor, "long", locale=LOCALE)  # type: ignore[arg-type]


def generar_pdf(*, fopi: Fopi, prestamo: Prestamo, derechohabiente: Derechohabiente) -> bytes:
    pdf = FPDF(format="Letter")
    pdf.set_title(f"FOPI {fopi.referencia}")
    pdf.set_author("ISSSTE - Centro de Atención de Préstamos Personales")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    ancho = pdf.epw

    pdf.set_font("Helvetica", "B", 15)
    pdf.cell(ancho, 8, "ISSSTE - Préstamos Personales", new_x="LMARGIN", new_y="NEXT", align="C")
    pdf.set_font("Helvetica", "", 12)
    pdf.cell(
        ancho, 7, "Formato de Pago de Individuales (FOPI)", new_x="LMARGIN", new_y="NEXT", align="C"
    )
    pdf.ln(4)

    def renglon(etiqueta: str, valor: str, *, negritas: bool = False) -> None:
        pdf.set_font("Helvetica", "B", 10)
        pdf.cell(55, 7, etiqueta)
        pdf.set_font("Helvetica", "B" if negritas else "", 11 if negritas else 10)
        parrafo(pdf, valor, alto=7, ancho=ancho - 55)

    renglon("Derechohabiente:", derechohabiente.nombre_completo)
    renglon("CURP:", mascara_curp(derechohabiente.curp))
    renglon("Folio del préstamo:", prestamo.folio)
    renglon("Concepto:", DESCRIPCION_CONCEPTO[fopi.concepto])
    renglon("Referencia:", referencias.formatear(fopi.referencia), negritas=True)
    renglon("Importe a pagar:", pesos(Decimal(fopi.monto)), negritas=True)
    renglon("Importe con letra:", importe_con_letra(Decimal(fopi.monto)))
    renglon("Fecha de emisión:", fecha_larga(fopi.fecha_emision))
    renglon("Fecha límite de pago:", fecha_larga(fopi.vigencia), negritas=True)

    if fopi.concepto == "REGULARIZACION" and fopi.quincenas:
        pdf.ln(3)
        pdf.set_font("Helvetica", "B", 10)
        pdf.cell(ancho, 7, "Quincenas que regulariza", new_x="LMARGIN", new_y="NEXT")
        with pdf.table(
            col_widths=(20, 45, 40, 25), text_align=("CENTER", "LEFT", "RIGHT", "RIGHT")
        ) as tabla:
            encabezado = tabla.row()
            for titulo in ("Quincena", "Fecha", "Descuento", "Días de atraso"):
                encabezado.cell(titulo)
            pdf.set_font("Helvetica", "", 9)
            for dato in fopi.quincenas:
                q = QuincenaPorRegularizar.de_json(dato)
                fila = tabla.row()
                fila.cell(str(q.numero))
                fila.cell(q.fecha.strftime("%d/%m/%Y"))
                fila.cell(pesos(q.descuento))
                fila.cell(str(q.dias_atraso))
        pdf.set_font("Helvetica", "", 9)
        parrafo(
            pdf,
            "Regularizar su crédito evita intereses moratorios: el importe son solo los "
            "descuentos que su dependencia no aplicó.",
            alto=5,
            ancho=ancho,
        )

    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(ancho, 7, "Pague en ventanilla o banca en línea de:", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    parrafo(
        pdf,
        ", ".join(BANCOS_AUTORIZADOS) + " (lista de referencia; confírmela con el CAPP).",
        alto=6,
        ancho=ancho,
    )
    parrafo(
        pdf,
        "Pague el importe exacto a más tardar en la fecha límite; después de esa fecha el banco "
        "no aceptará esta referencia y deberá generar un formato nuevo.",
        alto=6,
        ancho=ancho,
    )

    pdf.ln(4)
    y = pdf.get_y()
    pdf.set_fill_color(0, 0, 0)
    # Interleaved 2 of 5: 20 digits -> 10 symbol pairs; w is the wide-bar width in mm.
    pdf.interleaved2of5(fopi.referencia, x=pdf.l_margin, y=y, w=0.9, h=15)
    pdf.set_xy(pdf.l_margin, y + 16)
    pdf.set_font("Courier", "", 10)
    pdf.cell(110, 5, fopi.referencia)

    qr = io.BytesIO()
    segno.make(fopi.referencia, error="m").save(qr, kind="png", scale=6, border=2)
    qr.seek(0)
    pdf.image(qr, x=pdf.l_margin + ancho - 35, y=y - 2, w=35, h=35)

    pdf.set_xy(pdf.l_margin, y + 38)
    pdf.set_font("Helvetica", "", 8)
    parrafo(
        pdf,
        f"Centro de Atención de Préstamos Personales (CAPP): {LINEA_CAPP}; {CORREO}. "
        "Este formato es personal; no lo comparta.",
        alto=4,
        ancho=ancho,
    )
    return bytes(pdf.output())


@registrar_archivo("fopi")
def _archivo_fopi(session: Session, id_: str, ahora: datetime) -> Archivo:
    """A FOPI PDF behind a signed link (WhatsApp media is fetched without a token)."""
    fopi = session.scalars(select(Fopi).where(Fopi.referencia == id_)).first()
    if fopi is None:
        raise NoEncontrado("El formato de pago ya no existe.", "fopi_no_encontrado")
    prestamo = fopi.prestamo
    contenido = generar_pdf(fopi=fopi, prestamo=prestamo, derechohabiente=prestamo.derechohabiente)
    return Archivo(contenido=contenido, nombre=f"fopi-{fopi.referencia}.pdf")
