from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import text

from backend.security import SessionDep

router = APIRouter(tags=["salud"])


class Health(BaseModel):
    status: str
    database: str


@router.get("/health", response_model=Health)
def health(session: SessionDep) -> Health:
    try:
        session.execute(text("SELECT 1"))
        db = "ok"
    except Exception:
        db = "no disponible"
    return Health(status="ok" if db == "ok" else "degradado", database=db)
