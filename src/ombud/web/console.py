"""WEB routes of the console domain."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
