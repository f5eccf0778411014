"""API routes of the staff domain."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
