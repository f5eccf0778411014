"""Liveness and readiness: is the process up, and can it reach the store."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import text

from ombud import __version__
from ombud.api.deps import DbSession

router = APIRouter(tags=["health"])


@router.get("/api/health")
def health(session: DbSession) -> dict[str, str]:
    """Ok when the store answers; the version of Ombud running."""
    session.execute(text("SELECT 1"))
    return {"status": "ok", "version": __version__}
