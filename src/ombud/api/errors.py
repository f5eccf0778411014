"""The one place domain errors become HTTP responses."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from ombud.errors import OmbudError, Unauthenticated


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and "text/html" in request.headers.get("accept", "")


async def handle_ombud_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, OmbudError)
    if isinstance(exc, Unauthenticated) and exc.status_code == 401 and _wants_html(request):
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
    body: dict[str, object] = {"detail": exc.message}
    if exc.field:
        body["field"] = exc.field
    return JSONResponse(body, status_code=exc.status_code)


def install(app: FastAPI) -> None:
    """Register the handlers on an app."""
    app.add_exception_handler(OmbudError, handle_ombud_error)
