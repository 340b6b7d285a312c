"""CAPP's phone line and mail: the one backend spelling of them.

Every text the backend writes (PDF footers, error details, notifications) takes
them from here. tests/linea_capp.json holds the same values for every
environment; tests/test_una_regla.py ties these constants to it and checks that
backend code and data spell the number no other way.
"""

from __future__ import annotations

NUMERO = "55 4000 1000"
E164 = "+525540001000"
CORREO = "capp@issste.gob.mx"
# The CAPP line (ISSSTETEL, option 5) and the citas line (Línea ASISSSTE, submenu 1).
LINEA_CAPP = f"ISSSTETEL {NUMERO}, opción 5"
LINEA_CITAS = f"Línea ASISSSTE {NUMERO}, opción 5, submenú 1"
