"""Helpers about the seeded demo data shared by the e2e suites."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx


def horarios_habiles_en_36_horas(backend_url: str) -> list[str]:
    """Free slots of the demo office 2-35 h from now, as the backend offers them."""
    oficinas = httpx.get(f"{backend_url}/api/v1/oficinas", timeout=10).json()
    oficina = next(o for o in oficinas if o["clave"] == "CDMX-ZC")
    ahora = datetime.now(UTC)
    r = httpx.get(
        f"{backend_url}/api/v1/oficinas/{oficina['id']}/disponibilidad",
        params={
            "desde": (ahora - timedelta(days=1)).date().isoformat(),
            "hasta": (ahora + timedelta(days=3)).date().isoformat(),
            "limite": 200,
        },
        timeout=10,
    )
    r.raise_for_status()
    return [
        h["inicio"]
        for h in r.json()["horarios"]
        if ahora + timedelta(hours=2)
        <= datetime.fromisoformat(h["inicio"])
        <= ahora + timedelta(hours=35)
    ]
