"""The one place errors become HTTP responses: JSON for the API, pages for a browser.

A browser request (not under /api/, accepting text/html) that needs sign-in is redirected to /login;
other errors get an HTML page with the layout. Everything else gets JSON in one shape (``ErrorOut``):
`{"detail": ..., "field": ..., "errors": [{"field": ..., "message": ...}]}`. A refused value is never echoed
whole (at most a short prefix), and an unexpected error is logged by type and frames only, never by message.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request as StarletteRequest
from starlette.types import Receive, Scope, Send

from ombud.api.deps import SESSION_COOKIE, bearer_token, get_context, optional_staff
from ombud.api.limits import ECHO_PREFIX, Refused, echo
from ombud.errors import OmbudError, Unauthenticated, safe_traceback

log = logging.getLogger(__name__)

TITLES = {
    400: "Bad request",
    401: "Sign-in needed",
    403: "Not allowed",
    404: "Not found",
    405: "Not allowed here",
    409: "Conflict",
    413: "Too much was sent",
    422: "Check the form",
    429: "Too many attempts",
    500: "Something went wrong",
}


class Problem(BaseModel):
    """One thing wrong with the input."""

    field: str = Field(description="The field, dotted for nested ones (e.g. fields.3), or body / query.")
    message: str = Field(description=f"What is wrong (quoting at most {ECHO_PREFIX} characters of the input).")


class ErrorOut(BaseModel):
    """Every error the API answers (except a refused read's 403, which adds its audit leaf: see Refusal)."""

    detail: str = Field(description="What went wrong, for a person.")
    field: str | None = Field(None, description="The field at fault, when there is one.")
    errors: list[Problem] | None = Field(None, description="Every problem found (422 only).")


def error_json(status_code: int, detail: str, field: str | None = None,
               errors: list[dict[str, str]] | None = None, headers: dict[str, str] | None = None) -> JSONResponse:
    """The API's one error shape."""
    body: dict[str, Any] = {"detail": detail}
    if field:
        body["field"] = field
    if errors:
        body["errors"] = errors
    return JSONResponse(body, status_code=status_code, headers=headers)


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
    except Exception as exc:  # an error page must render even when the store is the problem
        log.warning("could not resolve the signed-in employee for an error page:\n%s", safe_traceback(exc))
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
    headers = {"www-authenticate": "Bearer"} if exc.status_code == 401 else None
    return error_json(exc.status_code, exc.message, exc.field, headers=headers)


async def handle_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if wants_html(request):
        message = {404: "There is no page at this address.", 405: "This address does not take that request."}
        return error_page(request, exc.status_code, message.get(exc.status_code, str(exc.detail)))
    if exc.status_code == 413:
        return error_json(413, "the body is too large", "body")
    if exc.status_code in (204, 304):
        return await http_exception_handler(request, exc)
    return error_json(exc.status_code, str(exc.detail)[:300], headers=getattr(exc, "headers", None))


def _field_name(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "form", "header", "cookie")]
    return ".".join(parts) or (str(loc[0]) if loc else "request")


def _message(error: dict[str, Any]) -> str:
    """A validation message without the input: Pydantic's own, cut short, with the value shown as a prefix."""
    message = str(error.get("msg", "not valid"))[:200]
    if "input" in error and error["type"] not in ("missing", "json_invalid", "model_attributes_type"):
        shown = error["input"]
        if isinstance(shown, str | int | float) and not isinstance(shown, bool):
            return f"{message} (got {echo(shown)!r})"
    return message


def problems_of(exc: RequestValidationError) -> list[dict[str, str]]:
    """The errors of a failed validation as field/message pairs (at most 20), without the input."""
    return [{"field": _field_name(tuple(e.get("loc", ()))), "message": _message(e)} for e in exc.errors()[:20]]


#: Pydantic's messages for what a form or an address may get wrong, as a person would say them.
_PLAIN = {
    "missing": "is needed",
    "int_parsing": "must be a whole number",
    "int_type": "must be a whole number",
    "int_from_float": "must be a whole number",
    "bool_parsing": "must be true or false",
    "greater_than_equal": "must be at least {ge}",
    "greater_than": "must be more than {gt}",
    "less_than_equal": "must be at most {le}",
    "less_than": "must be less than {lt}",
    "string_too_short": "must have at least {min_length} characters",
    "string_too_long": "must have at most {max_length} characters",
    "enum": "must be one of {expected}",
}


def plain_problems(exc: RequestValidationError) -> list[tuple[str, str]]:
    """A failed validation as (field as a person reads it, what is wrong in words), for a page: never JSON."""
    from ombud.web.present import label  # the pages import the API layer, not the other way round

    out = []
    for error in exc.errors()[:20]:
        field = _field_name(tuple(error.get("loc", ())))
        template = _PLAIN.get(str(error.get("type")))
        message = _message(error)
        if template is not None:
            try:
                message = template.format(**error.get("ctx", {}))
            except (KeyError, IndexError):
                message = _message(error)
            shown = error.get("input")
            if error["type"] != "missing" and isinstance(shown, str | int) and not isinstance(shown, bool):
                message += f" (got {echo(shown)!r})"
        out.append((f"{label(field)} ({field})", message))
    return out


async def handle_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = problems_of(exc)
    if wants_html(request):
        return error_page(request, 422, "Some of what was sent is missing or not valid.",
                          problems=plain_problems(exc))
    first = problems[0] if problems else {"field": "request", "message": "not valid"}
    return error_json(422, f"{first['field']}: {first['message']}", first["field"], problems)


async def answer_unexpected(scope: Scope, receive: Receive, send: Send) -> None:
    """The 500 answer of the last resort (the error was logged by EdgeGuard, by type and frames only)."""
    request = StarletteRequest(scope, receive)
    if wants_html(request):
        try:
            response = error_page(request, 500, "Ombud could not finish this request; it has been logged.")
        except Exception:  # the page itself failed: plain text, never a second traceback
            response = Response("Ombud could not finish this request.", status_code=500, media_type="text/plain")
    else:
        response = error_json(500, "internal error")
    await response(scope, receive, send)


async def answer_refused(scope: Scope, receive: Receive, send: Send, refused: Refused) -> None:
    """A 413/422 from the edge limits, as a page for a browser or in the API's error shape."""
    request = StarletteRequest(scope, receive)
    if wants_html(request):
        response = error_page(request, refused.status, f"{refused.field}: {refused.message}")
    else:
        problems = [{"field": refused.field, "message": refused.message}] if refused.status == 422 else None
        response = error_json(refused.status, f"{refused.field}: {refused.message}", refused.field, problems)
    await response(scope, receive, send)


async def handle_refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Refused)
    if wants_html(request):
        return error_page(request, exc.status, f"{exc.field}: {exc.message}")
    problems = [{"field": exc.field, "message": exc.message}] if exc.status == 422 else None
    return error_json(exc.status, f"{exc.field}: {exc.message}", exc.field, problems)


async def handle_out_of_range(request: Request, exc: Exception) -> Response:
    """A number the store cannot hold (an id beyond 64 bits parsed by a route itself): bad input, not a 500.

    The edge checks every declared integer (ombud.api.limits); this is the net under routes that turn text
    into numbers on their own: SQLite raises OverflowError, PostgreSQL a DataError (numeric value out of range).
    """
    log.info("refused a value out of the store's range on %s (%s)", request.method, type(exc).__name__)
    message = "a number in this request is beyond what the store holds"
    if wants_html(request):
        return error_page(request, 422, message)
    return error_json(422, message, "request", [{"field": "request", "message": message}])


def install(app: FastAPI) -> None:
    """Register the handlers on an app."""
    app.add_exception_handler(OmbudError, handle_ombud_error)
    app.add_exception_handler(StarletteHTTPException, handle_http_error)
    app.add_exception_handler(RequestValidationError, handle_validation_error)
    app.add_exception_handler(Refused, handle_refused)
    app.add_exception_handler(OverflowError, handle_out_of_range)
    app.add_exception_handler(DataError, handle_out_of_range)
    # Anything else reaches EdgeGuard (see ombud.api.limits), which logs it safely and answers 500 without
    # re-raising: Starlette's own last-resort handler would re-raise to the server, which logs the message.
