"""Text rules the bot's actions and channels share, each in one place: CAPP's
phone line and mail, and (from habla/, shared with the backend and the IVR) the
shape of a CURP and how it is masked, accents and words. Plain Python (no Rasa
import), so any process on the Rasa side can use it. The phone line is spelled
as in tests/linea_capp.json, which ties the backend, the IVR and the texts to it."""

from __future__ import annotations

# Re-exported: the bot's modules import them from here.
from habla.curp import enmascarar_curps as enmascarar_curps
from habla.curp import mascara_curp as mascara_curp
from habla.texto import palabras as palabras
from habla.texto import sin_acentos as sin_acentos

# CAPP's phone line and mail (seed 001; citas: seed 003).
NUMERO_CAPP = "55 4000 1000"
E164_CAPP = "+525540001000"
LINEA_CAPP = f"ISSSTETEL {NUMERO_CAPP}, opción 5"
LINEA_CITAS = f"Línea ASISSSTE {NUMERO_CAPP}, opción 5, submenú 1"
CORREO_CAPP = "capp@issste.gob.mx"

