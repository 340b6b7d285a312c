"""The loan statement ("estado de cuenta") as a real PDF, built with fpdf2.

Uses the PDF core font Helvetica (Latin-1 covers Spanish: á é í ó ú ñ ¿ ¡), so no
font files are needed; the CURP is printed masked.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from babel.dates import format_date, format_datetime
from fpdf import FPDF
from fpdf.fonts import FontFace

from backend.contacto import CORREO, LINEA_CAPP
from backend.models import Derechohabiente
from backend.privacy import mascara_curp
from backend.services.pdf_comun import LOCALE, parrafo, pesos
from backend.services.prestamos import EstadoPrestamo

ORIGENES = {
    "NOMINA": "Descuento por nómina",
    "FOPI": "Pago en banco (FOPI)",
    "REGULARIZACION": "Regularización",
    "SALDO_A_FAVOR": "Saldo a favor (pago en exceso)",
}


def _fecha(valor) -> str:  # type: ignore[no-untyped-def]
    return format_date(valor, "dd/MM/yyyy", locale=LOCALE)


class _Documento(FPDF):
    def header(self) -> None:
        self.set_font("Helvetica", "B", 12)
        self.cell(
            0,
            6,
            "ISSSTE - Centro de Atención de Préstamos Personales (CAPP)",
            new_x="LMARGIN",
            new_y="NEXT",
        )
        self.set_font("Helvetica", "", 9)
        self.cell(
            0,
            5,
            "Dirección de Prestaciones Económicas, Sociales y Culturales",
            new_x="LMARGIN",
            new_y="NEXT",
        )
        self.ln(3)

    def footer(self) -> None:
        self.set_y(-15)
        self.set_font("Helvetica", "I", 8)
        self.cell(0, 5, f"Página {self.page_no()} de {{nb}}  -  {LINEA_CAPP}  -  {CORREO}",
                  align="C")


def _par(pdf: FPDF, etiqueta: str, valor: str) -> None:
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(62, 6, etiqueta)
    pdf.set_font("Helvetica", "", 10)
    pdf.cell(0, 6, valor, new_x="LMARGIN", new_y="NEXT")


def generar_estado_cuenta(
    *, derechohabiente: Derechohabiente, estado: EstadoPrestamo, emitido: datetime
) -> bytes:
    """Render the statement; `emitido` should already be in local (Mexico City) time."""
    p = estado.prestamo
    pdf = _Documento(format="Letter")
    pdf.set_title(f"Estado de cuenta {p.folio}")
    pdf.set_author("ISSSTE - CAPP")
    pdf.set_creation_date(emitido)
    pdf.alias_nb_pages()
    pdf.add_page()

    pdf.set_font("Helvetica", "B", 15)
    pdf.cell(0, 9, "Estado de cuenta de préstamo personal", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    pdf.cell(
        0,
        5,
        "Emitido el "
        + format_datetime(emitido, "d 'de' MMMM 'de' y, HH:mm 'h'", locale=LOCALE)
        + " (hora del centro de México)",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(4)

    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(0, 7, "Derechohabiente", new_x="LMARGIN", new_y="NEXT")
    _par(pdf, "Nombre:", derechohabiente.nombre_completo)
    _par(pdf, "CURP:", mascara_curp(derechohabiente.curp))
    _par(
        pdf,
        "Tipo:",
        "Pensionado(a)" if derechohabiente.tipo == "pensionado" else "Trabajador(a) en activo",
    )
    pdf.ln(3)

    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(0, 7, "Condiciones del préstamo", new_x="LMARGIN", new_y="NEXT")
    tasa = Decimal(p.tasa_anual) * 100
    _par(pdf, "Folio:", p.folio)
    _par(pdf, "Producto:", p.producto.replace("_", " ").capitalize())
    _par(pdf, "Estatus:", p.estatus)
    _par(pdf, "Monto otorgado:", pesos(Decimal(p.monto)))
    _par(pdf, "Fecha de otorgamiento:", _fecha(p.fecha_otorgamiento))
    _par(pdf, "Plazo:", f"{p.plazo_quincenas} quincenas")
    _par(pdf, "Tasa de interés anual:", f"{tasa:.2f} % más IVA sobre intereses")
    _par(pdf, "Descuento quincenal:", pesos(Decimal(p.descuento_quincenal)))
    _par(pdf, "Primer descuento:", _fecha(p.fecha_primer_descuento))
    _par(pdf, "Fecha de término:", _fecha(estado.fecha_termino))
    _par(pdf, "Quincenas pagadas:", str(estado.quincenas_pagadas))
    _par(pdf, "Quincenas restantes:", str(estado.quincenas_restantes))
    if estado.quincenas_sin_descuento:
        _par(
            pdf,
            "Quincenas sin descuento:",
            ", ".join(str(k) for k in estado.quincenas_sin_descuento),
        )
    pdf.ln(3)

    pdf.set_font("Helvetica", "B", 13)
    pdf.cell(0, 9, f"Saldo deudor total al {_fecha(estado.al)}: {pesos(estado.saldo_deudor_total)}",
             new_x="LMARGIN", new_y="NEXT")
    if estado.saldo_a_favor > 0:
        pdf.cell(0, 7, f"Saldo a favor (se le reembolsa): {pesos(estado.saldo_a_favor)}",
                 new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    parrafo(
        pdf,
        "El saldo se calcula con el calendario de descuentos del préstamo y los pagos "
        "efectivamente aplicados; incluye intereses e IVA devengados a la fecha.",
        alto=5,
    )
    pdf.ln(3)

    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(0, 7, "Movimientos aplicados", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    if not estado.movimientos:
        pdf.cell(0, 6, "Aún no hay pagos aplicados a este préstamo.", new_x="LMARGIN", new_y="NEXT")
    else:
        with pdf.table(
            col_widths=(25, 20, 55, 50, 35),
            text_align=("LEFT", "CENTER", "LEFT", "LEFT", "RIGHT"),
            headings_style=FontFace(emphasis="BOLD", fill_color=(225, 225, 225)),
        ) as tabla:
            tabla.row(["Fecha", "Quincena", "Concepto", "Referencia", "Importe"])
            for m in estado.movimientos:
                tabla.row([
                    _fecha(m.fecha),
                    str(m.quincena) if m.quincena is not None else "-",
                    ORIGENES.get(m.origen, m.origen),
                    m.referencia or "",
                    pesos(m.monto),
                ])
        pdf.ln(2)
        pdf.set_font("Helvetica", "B", 10)
        pdf.cell(0, 6, f"Total pagado: {pesos(estado.total_pagado)}", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
