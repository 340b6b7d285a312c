"""What the caller hears that is not the bot's: the IVR's own prompts.

They live in `menu.yml` (section `textos`), validated by this model: a prompt
missing from the file, empty, or with placeholders other than its own fails
at start-up, not in the middle of a call. Code refers to them as attributes
(`textos.adios`), so mypy and `tests/ivr/test_textos.py` see every reference.
"""

from __future__ import annotations

from string import Formatter
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, model_validator

# ISSSTETEL, the line this IVR answers as opción 5, and CAPP's mail: one spelling,
# tied to tests/linea_capp.json (the backend and the bot use the same values).
ISSSTETEL_E164 = "+525540001000"
ISSSTETEL_NUMERO = (
    f"{ISSSTETEL_E164[3:5]} {ISSSTETEL_E164[5:9]} {ISSSTETEL_E164[9:]}"  # 55 4000 1000
)
CORREO_CAPP = "capp@issste.gob.mx"
# How the mail is read aloud: "capp arroba issste punto gob punto mx".
CORREO_CAPP_DICHO = CORREO_CAPP.replace("@", " arroba ").replace(".", " punto ")


class Textos(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # ---- menus (motor.py)
    opcion: str  # "Para {titulo}, marque {tecla}." (menus and the bot's buttons)
    menu_asesor: str
    menu_regresar: str
    menu_repetir: str
    aviso_silencio: str
    aviso_invalido: str
    no_entendi: str
    repetir_opciones: str
    # ---- conversation with the bot (conversacion.py, llamada.py)
    ayuda_conversacion: str
    aviso_solo_voz: str
    oferta_asesor: str
    algo_mas: str
    disculpa: str
    reintentar: str
    sin_continuar: str
    # ---- endings and the asesor (llamada.py, twiml.py)
    adios: str
    adios_silencio: str
    traslado: str
    asesor_no_disponible: str
    espera_inicio: str
    espera: str
    espera_agotada: str
    # ---- fallback document (respaldo.py)
    falla_tecnica: str
    volver_a_llamar: str

    PLANTILLAS: ClassVar[dict[str, set[str]]] = {"opcion": {"titulo", "tecla"}}

    @model_validator(mode="after")
    def _completos(self) -> Textos:
        for nombre in type(self).model_fields:
            texto = getattr(self, nombre)
            if not texto.strip():
                raise ValueError(f"textos.{nombre}: está vacío")
            campos = {c for _, c, _, _ in Formatter().parse(texto) if c is not None}
            if campos != self.PLANTILLAS.get(nombre, set()):
                raise ValueError(f"textos.{nombre}: marcadores {sorted(campos)} no válidos")
        return self
