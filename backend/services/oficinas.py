"""Oficinas de Representación: the catalogue (data in backend/data/oficinas.json)."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.models import Oficina
from backend.services.disponibilidad import HORARIO_TEXTO
from backend.services.errores import NoEncontrado

DATOS = Path(__file__).resolve().parent.parent / "data" / "oficinas.json"


def _plano(texto: str) -> str:
    """Lower-case without accents, so "queretaro" finds "Querétaro"."""
    sin_acentos = unicodedata.normalize("NFKD", texto)
    return "".join(c for c in sin_acentos if not unicodedata.combining(c)).casefold().strip()


def listar_oficinas(session: Session, *, q: str | None = None) -> list[Oficina]:
    oficinas = list(session.scalars(select(Oficina).where(Oficina.activa).order_by(Oficina.id)))
    if q and q.strip():
        buscado = _plano(q)
        oficinas = [
            o for o in oficinas
            if buscado in _plano(f"{o.nombre} {o.estado} {o.ciudad} {o.clave}")
        ]
    return oficinas


def obtener_oficina(session: Session, *, oficina_id: int) -> Oficina:
    oficina = session.get(Oficina, oficina_id)
    if oficina is None or not oficina.activa:
        raise NoEncontrado(
            "No encontramos esa oficina de representación. Consulte la lista de oficinas "
            "disponibles.",
            "oficina_no_encontrada",
        )
    return oficina


def cargar_catalogo(ruta: Path = DATOS) -> list[dict[str, Any]]:
    datos = json.loads(ruta.read_text(encoding="utf-8"))
    return list(datos["oficinas"])


def sembrar_catalogo(session: Session, *, ruta: Path = DATOS) -> int:
    """Insert or update every office of the JSON catalogue by its `clave`. Idempotent."""
    existentes = {o.clave: o for o in session.scalars(select(Oficina))}
    for fila in cargar_catalogo(ruta):
        oficina = existentes.get(fila["clave"]) or Oficina(clave=fila["clave"])
        oficina.nombre = fila["nombre"]
        oficina.estado = fila["estado"]
        oficina.ciudad = fila["ciudad"]
        oficina.direccion = fila["direccion"]
        oficina.telefono = fila.get("telefono")
        oficina.horario = fila.get("horario", HORARIO_TEXTO)
        oficina.ventanillas = int(fila["ventanillas"])
        oficina.activa = bool(fila.get("activa", True))
        session.add(oficina)
    session.flush()
    return len(existentes)
