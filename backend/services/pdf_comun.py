"""What the generated PDFs (estado de cuenta, FOPI, hoja de asignación) share:
the locale of their amounts and dates, and the paragraph that wraps."""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_currency
from fpdf import FPDF

LOCALE = "es_MX"


def pesos(valor: Decimal) -> str:
    """`$11,320.07`: Mexican pesos as the documents print them."""
    return format_currency(valor, "MXN", locale=LOCALE)


def parrafo(pdf: FPDF, texto: str, *, alto: float, ancho: float = 0) -> None:
    """Text wrapped at `ancho` mm (0: up to the right margin) in lines `alto` mm
    tall, in the current font; what follows starts below it, at the left margin."""
    pdf.multi_cell(ancho, alto, texto, new_x="LMARGIN", new_y="NEXT")
