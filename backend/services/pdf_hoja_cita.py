"""The "Hoja de asignación de clave de cita" as a real PDF (fpdf2)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime

import segno
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from backend.contacto import LINEA_CAPP, LINEA_CITAS
from backend.services.disponibilidad import horas_cancelacion
from backend.services.pdf_comun import parrafo

# Seed 004 (ISSEG's crédito complementario), "REQUISITOS": original and a plain copy
# of each, for cotejo.
# ISSSTE publishes no list in the seeds; the PDF says whose list it is.
REQUISITOS_AMBOS = (
    "Último talón de pago de la quincena inmediata anterior al trámite en que pretenda realizar su "
    "préstamo.",
    "Identificación oficial vigente.",
    "Comprobante de domicilio con vigencia no mayor a 3 meses.",
)
REQUISITOS_SOLICITANTE = (
    "Constancia expedida por la dependencia donde labora el solicitante en la que se mencione "
    "que el interesado cuenta con un puesto de base.",
    "Estado de cuenta bancario que contenga la CLABE (Clave Bancaria Estandarizada).",
)
# Not in any seed: told as what it is.
REQUISITOS_FUENTE = (
    "Lista de referencia tomada del folleto del crédito complementario del ISSEG (Guanajuato); "
    f"confirme los requisitos de la convocatoria vigente del ISSSTE con el CAPP: {LINEA_CAPP}."
)
DIRECCION_FUENTE = (
    "Dirección y teléfono de referencia (estimación); confírmelos en el directorio "
    "del ISSSTE, gob.mx/issste."
)
def aviso_cancelacion() -> str:
    return (
        "Importante: en caso de que por alguna razón no pueda asistir a su cita, cancélela con al "
        f"menos {horas_cancelacion()} horas de anticipación desde el Sistema de Citas "
        "Administrativas (Portal ASISSSTE, asisste.issste.gob.mx: Préstamos Personales, Agendar "
        f"cita, menú Citas, Bitácora; se recomienda Google Chrome) o en la {LINEA_CITAS}. En la "
        "Bitácora también puede descargar de nuevo esta hoja."
    )


@dataclass(frozen=True)
class DatosHoja:
    clave: str
    estatus: str
    nombre: str
    curp_enmascarada: str
    oficina: str
    direccion: str
    telefono_oficina: str | None
    fecha: str  # "martes 30 de enero de 2024"
    hora: str  # "13:30 hrs-13:45 hrs"
    registrado_en: str  # "24/01/2024 15:53:49"
    generado_en: datetime


class _Hoja(FPDF):
    def header(self) -> None:
        self.set_font("Helvetica", "B", 10)
        self.cell(
            0,
            5,
            "INSTITUTO DE SEGURIDAD Y SERVICIOS SOCIALES DE LOS TRABAJADORES DEL ESTADO",
            align="C",
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
        self.set_font("Helvetica", "", 9)
        self.cell(0, 5, "Sistema de Citas Administrativas - Préstamos Personales",
                  align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(4)

    def footer(self) -> None:
        self.set_y(-15)
        self.set_font("Helvetica", "I", 8)
        self.cell(0, 10, f"Página {self.page_no()}/{{nb}}", align="C")


def _fila(pdf: FPDF, etiqueta: str, valor: str) -> None:
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(48, 7, etiqueta)
    pdf.set_font("Helvetica", "", 10)
    parrafo(pdf, valor, alto=7)


def generar_hoja(datos: DatosHoja) -> bytes:
    pdf = _Hoja(format="Letter")
    pdf.set_title(f"Hoja de asignación de clave de cita {datos.clave}")
    pdf.set_author("ISSSTE - CAPP")
    pdf.set_creation_date(datos.generado_en)
    pdf.alias_nb_pages()
    pdf.add_page()

    pdf.set_font("Helvetica", "B", 15)
    pdf.cell(
        0, 9, "Hoja de asignación de clave de cita", align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT
    )
    pdf.ln(2)
    pdf.set_font("Helvetica", "", 11)
    pdf.cell(0, 7, "Clave de cita", align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("Courier", "B", 28)
    pdf.cell(0, 13, datos.clave, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    qr = io.BytesIO()
    segno.make(datos.clave, error="m").save(qr, kind="png", scale=4, border=1)
    qr.seek(0)
    pdf.image(qr, x=pdf.w / 2 - 12, w=24)
    pdf.ln(3)

    _fila(pdf, "Estatus:", datos.estatus)
    _fila(pdf, "Derechohabiente:", datos.nombre)
    _fila(pdf, "CURP:", datos.curp_enmascarada)
    _fila(pdf, "Trámite:", "Validación documental para el otorgamiento del préstamo personal")
    _fila(pdf, "Oficina:", datos.oficina)
    _fila(pdf, "Dirección:", datos.direccion)
    if datos.telefono_oficina:
        _fila(pdf, "Teléfono:", datos.telefono_oficina)
    pdf.set_font("Helvetica", "I", 8)
    parrafo(pdf, DIRECCION_FUENTE, alto=4)
    _fila(pdf, "Fecha de la cita:", datos.fecha)
    _fila(pdf, "Horario:", datos.hora)
    _fila(pdf, "Fecha de registro:", datos.registrado_en)
    pdf.ln(3)

    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(0, 7, "Requisitos", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("Helvetica", "I", 9)
    parrafo(pdf, REQUISITOS_FUENTE, alto=5)
    pdf.set_font("Helvetica", "", 10)
    parrafo(
        pdf,
        "ORIGINAL y COPIA SIMPLE para cotejo, del SOLICITANTE y del OBLIGADO SOLIDARIO:",
        alto=6,
    )
    numero = 1
    for req in REQUISITOS_AMBOS:
        parrafo(pdf, f"{numero}. {req}", alto=6)
        numero += 1
    parrafo(pdf, "Solo del SOLICITANTE:", alto=6)
    for req in REQUISITOS_SOLICITANTE:
        parrafo(pdf, f"{numero}. {req}", alto=6)
        numero += 1
    pdf.ln(3)
    pdf.set_font("Helvetica", "B", 10)
    parrafo(pdf, aviso_cancelacion(), alto=6)
    pdf.set_font("Helvetica", "", 9)
    parrafo(
        pdf,
        "Su cita ocupa un horario de 15 minutos. Preséntese puntualmente con su "
        "clave de cita. El ISSSTE nunca le pedirá contraseñas ni pagos por agendar una cita.",
        alto=5,
    )
    return bytes(pdf.output())
