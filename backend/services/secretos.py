"""Shared-secret headers for machine-to-machine endpoints (the banks' payment
notifications, CAPP staff tools). Fail closed: with no secret configured every
request is refused, never let through."""

from __future__ import annotations

import hmac

from backend.services.errores import NoAutenticado, Prohibido


def exigir_secreto(*, recibido: str | None, esperado: str | None, encabezado: str, quien: str,
                   servicio: str) -> None:
    """Raise 403 when the server has no secret, 401 when the header is missing,
    403 when it does not match (constant-time comparison)."""
    if not esperado:
        raise Prohibido(
            f"{servicio} no están habilitadas en este servidor.", "webhook_no_configurado"
        )
    if not recibido:
        raise NoAutenticado(
            f"Falta la clave compartida {quien} (encabezado {encabezado}).", "no_autenticado"
        )
    if not hmac.compare_digest(recibido.encode(), esperado.encode()):
        raise Prohibido(f"La clave compartida {quien} no es válida.", "prohibido")
