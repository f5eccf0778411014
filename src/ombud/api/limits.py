"""Limits at the edge, the same for every route of every domain: body size, JSON shape, query values, integers.

Nothing here knows any route. ``EdgeGuard`` is an ASGI middleware installed once by create_app, so a router
added tomorrow gets the same protection without a line of its own:

- a request body larger than ``Settings.request_max_bytes`` is refused with 413 (``field: "body"``), by its
  Content-Length before anything is read, or while it streams in;
- a JSON body that is not valid UTF-8 JSON, nests deeper than ``MAX_DEPTH``, or holds a string longer than
  ``MAX_TEXT``, a list longer than ``MAX_ITEMS``, an object with more than ``MAX_KEYS`` keys or an integer
  (or any number) outside the store's 64-bit range is refused with 422 naming the field (``fields.3``, ``customer_id``);
- a query with more than ``MAX_QUERY_PARAMS`` parameters or a value longer than ``MAX_QUERY_VALUE`` is 422;
- text holding U+0000 (a JSON string, a query value) is 422: no text in the store may hold it;
- an error nobody handled becomes a 500 whose log line names the exception's type and the code's frames,
  never its message (which may quote a body or a personal value), and the connection stays usable;
- each request gets one access-log line naming the route's *template* (``/api/access/cases/{case_id}``), not the
  address as sent (which may carry a customer id, a token or an email in its path or query).

What needs the matched route (repeated query parameters, path and query integers beyond the 64-bit range,
numbers where a date belongs, JSON types) is checked by ``ombud.api.conform.check_request``, an app-wide
dependency. Routes narrow further with the shared types below (``RowId``, ``Text``...).
"""

from __future__ import annotations

import logging
import time
from typing import Annotated, Any
from urllib.parse import parse_qsl

import orjson
from pydantic import Field
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ombud.errors import safe_traceback
from ombud.shapes import NUL_REASON

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
MAX_BODY_BYTES = 1024 * 1024
MAX_TEXT = 10_000
MAX_ITEMS = 1_000
MAX_KEYS = 200
MAX_KEY = 100
MAX_DEPTH = 32
MAX_QUERY_PARAMS = 100
MAX_QUERY_VALUE = 1_000
#: At most this many characters of a refused value are echoed back (never logged).
ECHO_PREFIX = 8

#: Paths (prefixes) that take larger bodies, e.g. an upload of evidence: ``allow_body("/portal/evidence", 20 MiB)``.
BODY_LIMITS: dict[str, int] = {}

# Shared types for request schemas: narrower than the generic limits, and documented in the OpenAPI schema.
RowId = Annotated[int, Field(ge=1, le=INT64_MAX, description="A row id (1 to 2^63-1).")]
Count = Annotated[int, Field(ge=0, le=INT64_MAX)]
Name = Annotated[str, Field(max_length=200)]
Note = Annotated[str, Field(max_length=2000)]
Identifier = Annotated[str, Field(min_length=1, max_length=64)]
Names = Annotated[list[Annotated[str, Field(max_length=64)]], Field(max_length=100)]

access_log = logging.getLogger("ombud.http")
log = logging.getLogger("ombud.api")

#: The server's own loggers that write the address as sent (path and query) or whole ASGI messages.
SERVER_LOGGERS_WITH_ADDRESSES = ("uvicorn.access", "uvicorn.asgi")


class _DropAddresses(logging.Filter):
    """Drops the server's records that carry a request's address: ``ombud.http`` logs each request instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        return False


_DROP = _DropAddresses()


def quiet_server_address_logs() -> None:
    """Keep uvicorn's access and ASGI-trace lines (path, query) out of every log, at every level."""
    for name in SERVER_LOGGERS_WITH_ADDRESSES:
        logger = logging.getLogger(name)
        if _DROP not in logger.filters:
            logger.addFilter(_DROP)

#: Where EdgeGuard leaves a JSON body it parsed, for ombud.api.conform (which knows the route's schema).
JSON_BODY_SCOPE_KEY = "ombud.json_body"
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def allow_body(path_prefix: str, max_bytes: int) -> None:
    """Let requests under this path carry bodies up to max_bytes (the default stays for everything else)."""
    BODY_LIMITS[path_prefix] = max_bytes


def echo(value: Any) -> str:
    """The short prefix of a refused value an answer may show (the caller's own input, cut short)."""
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= ECHO_PREFIX else text[:ECHO_PREFIX] + "…"


class Refused(Exception):
    """Input refused at the edge: the status (413 or 422), the field and why."""

    def __init__(self, status: int, field: str, message: str) -> None:
        super().__init__(message)
        self.status, self.field, self.message = status, field, message


def _path(parts: list[str | int]) -> str:
    return ".".join(str(p) for p in parts) or "body"


def check_json(value: Any) -> None:
    """Raise Refused when a parsed JSON value breaks a generic limit (iterative: no recursion to exhaust)."""
    stack: list[tuple[Any, list[str | int]]] = [(value, [])]
    while stack:
        item, where = stack.pop()
        if len(where) > MAX_DEPTH:
            raise Refused(422, _path(where[:MAX_DEPTH]), f"nested deeper than {MAX_DEPTH} levels")
        if isinstance(item, str):
            if len(item) > MAX_TEXT:
                raise Refused(422, _path(where), f"longer than {MAX_TEXT} characters")
            if "\x00" in item:
                raise Refused(422, _path(where), NUL_REASON)
        elif isinstance(item, bool) or item is None:
            continue
        elif isinstance(item, float):  # no field takes a number beyond what the store's integers hold
            # Strictly inside: an integer literal beyond 64 bits reaches here as a float, -2**63 - 1 as -2**63.
            if not INT64_MIN < item < INT64_MAX:
                raise Refused(422, _path(where), "a number beyond the 64-bit range")
        elif isinstance(item, int):
            if not INT64_MIN <= item <= INT64_MAX:
                raise Refused(422, _path(where), "an integer beyond the 64-bit range")
        elif isinstance(item, list):
            if len(item) > MAX_ITEMS:
                raise Refused(422, _path(where), f"more than {MAX_ITEMS} items")
            stack.extend((v, [*where, i]) for i, v in enumerate(item))
        elif isinstance(item, dict):
            if len(item) > MAX_KEYS:
                raise Refused(422, _path(where), f"more than {MAX_KEYS} keys")
            for key, v in item.items():
                if len(key) > MAX_KEY:
                    raise Refused(422, _path(where), f"a key longer than {MAX_KEY} characters")
                stack.append((v, [*where, key]))


def check_query(query_string: bytes) -> None:
    """Raise Refused when a query has too many parameters or too long a value."""
    if not query_string:
        return
    try:
        pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True, max_num_fields=MAX_QUERY_PARAMS)
    except ValueError:
        raise Refused(422, "query", f"more than {MAX_QUERY_PARAMS} parameters") from None
    for name, value in pairs:
        if len(value) > MAX_QUERY_VALUE or len(name) > 100:
            raise Refused(422, name[:100], f"longer than {MAX_QUERY_VALUE} characters")
        if "\x00" in value or "\x00" in name:
            raise Refused(422, name[:100].replace("\x00", ""), NUL_REASON)


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return value
    return None


def body_limit(path: str, default: int) -> int:
    """The largest body a request to this path may carry."""
    for prefix, limit in BODY_LIMITS.items():
        if path.startswith(prefix):
            return limit
    return default


def route_template(scope: Scope) -> str:
    """The matched route's path template, or a placeholder: never the address as sent."""
    route = scope.get("route")
    if route is None and "app" in scope:  # refused before routing, or a plain Starlette route: match it here
        from starlette.routing import Match

        for candidate in getattr(scope["app"], "routes", ()):
            if candidate.matches(scope)[0] is not Match.NONE:
                route = candidate
                break
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "(no route)"


class EdgeGuard:
    """The generic limits above, one access-log line per request, and a safe last resort for errors."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int = MAX_BODY_BYTES, on_error: Any = None,
                 on_refused: Any = None) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.on_error = on_error  # (scope, receive, send) -> None: renders the 500 answer
        self.on_refused = on_refused  # (scope, receive, send, Refused) -> None: renders 413/422

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [0]

        async def send_tracking(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            receive = await self._checked(scope, receive)
            await self.app(scope, receive, send_tracking)
        except Refused as refused:
            if status[0] == 0:
                await self.on_refused(scope, receive, send_tracking, refused)
        except Exception as exc:  # the last resort: log without messages, answer 500 if nothing was sent
            log.error("unhandled error on %s %s (%s)\n%s", scope.get("method"), route_template(scope),
                      type(exc).__qualname__, safe_traceback(exc))
            if status[0] == 0:
                await self.on_error(scope, receive, send_tracking)
        finally:
            access_log.info("%s %s %d %.1fms", scope.get("method"), route_template(scope), status[0],
                            (time.perf_counter() - started) * 1000)

    async def _checked(self, scope: Scope, receive: Receive) -> Receive:
        """Check the query and the body's size and JSON shape; give the app a receive that replays the body."""
        check_query(scope.get("query_string", b""))
        if scope.get("method") not in _BODY_METHODS:
            return receive
        limit = body_limit(scope["path"], self.max_body_bytes)
        declared = _header(scope, b"content-length")
        if declared is not None:
            try:
                too_large = int(declared) > limit
            except ValueError:
                raise Refused(400, "content-length", "the Content-Length header is not a number") from None
            if too_large:
                raise Refused(413, "body", f"the body is larger than {limit} bytes")
        if not is_json(_header(scope, b"content-type")):
            return _counting(receive, limit)
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return _replay(b"".join(chunks), message)
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise Refused(413, "body", f"the body is larger than {limit} bytes")
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if body:
            try:
                parsed = orjson.loads(body)
            except orjson.JSONDecodeError:
                raise Refused(422, "body", "the body is not valid JSON in UTF-8") from None
            check_json(parsed)
            scope[JSON_BODY_SCOPE_KEY] = parsed
        return _replay(body, None)


def is_json(content_type: bytes | None) -> bool:
    """Whether FastAPI parses a body of this type as JSON (application/json and every application/*+json)."""
    media = (content_type or b"").split(b";", 1)[0].strip().lower()
    return media == b"application/json" or (media.startswith(b"application/") and media.endswith(b"+json"))


def _replay(body: bytes, then: Message | None) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        if then is not None:
            return then
        return {"type": "http.disconnect"}

    return receive


def _counting(receive: Receive, limit: int) -> Receive:
    total = 0

    async def counted() -> Message:
        nonlocal total
        message = await receive()
        if message["type"] == "http.request":
            total += len(message.get("body", b""))
            if total > limit:
                raise Refused(413, "body", f"the body is larger than {limit} bytes")
        return message

    return counted


def dependants(dependant: Any) -> list[Any]:
    """A route's dependant and every sub-dependency's, depth first."""
    out, todo = [], [dependant]
    while todo:
        current = todo.pop()
        out.append(current)
        todo.extend(current.dependencies)
    return out
