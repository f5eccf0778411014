"""WEB routes of the identity domain."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
