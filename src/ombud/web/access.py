"""WEB routes of the access domain."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
