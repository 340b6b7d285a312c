"""`python -m bot.almacenes retencion [--dias N]`: the retention job (see retencion.py)."""

from bot.almacenes.retencion import principal

raise SystemExit(principal())
