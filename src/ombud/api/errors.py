"""The one place errors become HTTP responses: JSON for the API, pages for a browser.

A browser request (not under /api/, accepting text/html) that needs sign-in is redirected to /login;
other errors get an HTML page with the layout. Everything else gets JSON: `{"detail": ..., "field": ...}`.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from ombud.api.deps import SESSION_COOKIE, bearer_token, get_context, optional_staff
from ombud.errors import OmbudError, Unauthenticated

log = logging.getLogger(__name__)

TITLES = {
    400: "Bad request",
    401: "Sign-in needed",
    403: "Not allowed",
    404: "Not found",
    405: "Not allowed here",
    409: "Conflict",
    422: "Check the form",
    429: "Too many attempts",
    500: "Something went wrong",
}


def wants_html(request: Request) -> bool:
    """Whether the caller is a browser that should get a page rather than JSON."""
    return not request.url.path.startswith("/api/") and "text/html" in request.headers.get("accept", "")


def login_redirect(request: Request) -> RedirectResponse:
    """See other: /login, coming back here afterwards (GET only; a form would be resubmitted otherwise)."""
    target = request.url.path
    if request.url.query:
        target += "?" + request.url.query
    if request.method != "GET":
        target = "/"
    return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)


def _resolve_viewer(request: Request) -> None:
    """Who is signed in, for an error raised before the route's dependencies ran (e.g. an unknown address)."""
    if hasattr(request.state, "viewer"):
        return
    request.state.viewer = None
    if bearer_token(request) is not None or SESSION_COOKIE not in request.cookies:
        return
    try:
        with get_context(request).sessions() as session, session.begin():
            optional_staff(request, session)
    except Exception:  # an error page must render even when the store is the problem
        log.warning("could not resolve the signed-in employee for an error page", exc_info=True)
        request.state.viewer = None


def error_page(request: Request, status_code: int, message: str, **context: Any) -> Response:
    """The HTML error page, inside the layout."""
    from ombud.web.templating import render  # the pages import the API layer, not the other way round

    _resolve_viewer(request)
    return render(
        request,
        "errors/error.html",
        status_code=status_code,
        title=TITLES.get(status_code, "Error"),
        status=status_code,
        message=message,
        **context,
    )


async def handle_ombud_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, OmbudError)
    if wants_html(request):
        if isinstance(exc, Unauthenticated) and exc.status_code == 401:
            return login_redirect(request)
        return error_page(request, exc.status_code, exc.message, field=exc.field)
    body: dict[str, object] = {"detail": exc.message}
    if exc.field:
        body["field"] = exc.field
    headers = {"www-authenticate": "Bearer"} if exc.status_code == 401 else None
    return JSONResponse(body, status_code=exc.status_code, headers=headers)


async def handle_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if wants_html(request):
        message = {404: "There is no page at this address.", 405: "This address does not take that request."}
        return error_page(request, exc.status_code, message.get(exc.status_code, str(exc.detail)))
    return await http_exception_handler(request, exc)


def _field_name(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "form", "header", "cookie")]
    return ".".join(parts) or "request"


async def handle_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    if wants_html(request):
        problems = [(_field_name(tuple(e.get("loc", ()))), str(e.get("msg", ""))) for e in exc.errors()]
        return error_page(request, 422, "Some of what was sent is missing or not valid.", problems=problems)
    return await request_validation_exception_handler(request, exc)


async def handle_unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    if wants_html(request):
        return error_page(request, 500, "Ombud could not finish this request; it has been logged.")
    return JSONResponse({"detail": "internal error"}, status_code=500)


def install(app: FastAPI) -> None:
    """Register the handlers on an app."""
    app.add_exception_handler(OmbudError, handle_ombud_error)
    app.add_exception_handler(StarletteHTTPException, handle_http_error)
    app.add_exception_handler(RequestValidationError, handle_validation_error)
    app.add_exception_handler(Exception, handle_unexpected)
