"""Jinja2 templates shared by every page: one layout, rendered on the server, working without JavaScript."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from ombud.api.deps import Staff

TEMPLATE_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"

templates = Jinja2Templates(directory=TEMPLATE_DIR)


def render(
    request: Request, name: str, staff: Staff | None = None, status_code: int = 200, **context: Any
) -> HTMLResponse:
    """Render a page with the signed-in staff member and their CSRF token available to the layout."""
    context.update(staff=staff, csrf_token=staff.csrf_token if staff else None)
    return templates.TemplateResponse(request, name, context, status_code=status_code)
