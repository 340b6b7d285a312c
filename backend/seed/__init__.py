"""Demo and synthetic data: `python -m backend.seed [--count N] [--database-url URL] [--forzar]`.

1. Runs the Alembic migrations.
2. The three demo personas of DESIGN.md (personas.py, data in backend/data/personas.json).
3. Offices and the demo citas (citas.py).
4. N synthetic derechohabientes with valid CURPs, loans and payroll movimientos
   (sinteticos.py; names, dependencias and salaries in catalogos.py),
   deterministic (seeded random) and bulk-inserted, so 1,000,000 is practical.

Idempotent: personas are found by CURP and their loans by folio; vigente demo
loans get the payroll movimientos of the quincenas that passed since the last
run (P2 keeps its last three quincenas unpaid); synthetic people are counted and
only the missing ones are added. The command itself is comando.py.
"""

from __future__ import annotations

from backend.seed.comando import RAIZ, base_desechable, main, sembrar
from backend.seed.curp import construir_curp
from backend.seed.personas import PERSONA, PERSONAS, Persona, sembrar_personas
from backend.seed.sinteticos import contar_sinteticos, sembrar_sinteticos

__all__ = [
    "PERSONA",
    "PERSONAS",
    "RAIZ",
    "Persona",
    "base_desechable",
    "construir_curp",
    "contar_sinteticos",
    "main",
    "sembrar",
    "sembrar_personas",
    "sembrar_sinteticos",
]
