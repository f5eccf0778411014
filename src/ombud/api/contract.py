"""The API's contract, made once for every router: the OpenAPI document and the offline /docs page.

``install(app)`` replaces the app's ``openapi()`` with one that post-processes FastAPI's document, so an
operation added by any router tomorrow gets the same treatment without a line of its own:

- the two ways to sign in (``bearer``: an API token; ``cookie``: the console's session) are declared by the
  dependency every signed-in route uses (``ombud.api.deps.optional_staff``), so FastAPI lists them on each such
  operation; a route that resolves its caller by hand says so in ``openapi_extra={"security": SIGNED_IN}``;
- every ``/api/`` operation documents 401, 403, 404, 409, 413 and 422 with the one error shape the API answers
  (``ErrorOut``), unless it declares its own model for a status (a refused read's 403 is ``Refusal``);
- every field the code checks the shape of says it (``ombud.shapes``): a customer id carries the id pattern in
  effect when the app is built (the retailer's OMBUD_CUSTOMER_ID_PATTERN, or the default rule);
- every boolean query parameter says it is written ``true`` or ``false`` (the only forms the edge takes);
- every request integer carries the store's 64-bit bounds, every request string the generic length limit (a
  path or query value the shorter limit the edge holds it to), every request list the generic item limit
  (``ombud.api.limits``), where the route declared nothing narrower: the document accepts only what the code
  accepts, and ``ombud.api.conform`` makes the code refuse what the document calls invalid.

``/docs`` is Swagger UI served from the ``swagger-ui-py`` package (its licence at /docs/assets/LICENSE): no
script, style or image from another host.
"""

from __future__ import annotations

from importlib.resources import files
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import FileResponse, HTMLResponse

from ombud import customer_ids
from ombud.api.conform import MAX_PATH_VALUE
from ombud.api.errors import ErrorOut, Problem
from ombud.api.limits import INT64_MAX, INT64_MIN, MAX_ITEMS, MAX_KEY, MAX_KEYS, MAX_QUERY_VALUE, MAX_TEXT
from ombud.shapes import CUSTOMER_ID_MARK, NO_NUL, REASON_KEY

BEARER = "bearer"
COOKIE = "cookie"
SIGNED_IN = [{BEARER: []}, {COOKIE: []}]
ERROR_STATUSES = {
    "400": "The body could not be parsed as its content type (e.g. a broken multipart form).",
    "401": "Not signed in (no, an unknown, a revoked or an expired token or session).",
    "403": "Signed in, but not allowed (the reason is given); or a form without its anti-forgery token.",
    "404": "No such thing, or not one you may see.",
    "409": "The thing is not in a state that allows this.",
    "413": "The body is larger than the server takes.",
    "422": "Input missing or not valid; `field` names it.",
}
_ASSETS = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon-32x32.png": "image/png",
    "LICENSE": "text/plain",
}
_ERROR_REF = {"$ref": "#/components/schemas/ErrorOut"}
#: What every boolean query parameter says of itself (ombud.api.conform refuses ``yes``, ``1``, ``on``...).
BOOLEAN_TEXT = "Written `true` or `false` (nothing else: not `1`, `yes` or `on`)."
#: The longest path and query values the edge takes (ombud.api.conform, ombud.api.limits).
_PARAMETER_TEXT = {"path": MAX_PATH_VALUE, "query": MAX_QUERY_VALUE}


#: Any JSON value the edge takes in a free-form object (a template's context, say): within the edge's limits and
#: nested at most three deep (the document describes every level, so what it calls valid the edge takes, and what
#: nests deeper is refused by ombud.api.conform, naming where). A model's own objects take only their fields.
_LIMITS: dict[str, Any] = {
    "maxLength": MAX_TEXT, "pattern": NO_NUL, "minimum": INT64_MIN, "maximum": INT64_MAX,
    "maxItems": MAX_ITEMS, "maxProperties": MAX_KEYS, "propertyNames": {"maxLength": MAX_KEY},
}
_SCALAR: dict[str, Any] = {"type": ["string", "number", "boolean", "null"], **_LIMITS}
# One schema of every type (each keyword applies to its own type), not an anyOf: the same values, and a fuzzer's
# "wrong type" for one branch is not taken for invalid when another branch fits it. Not recursive: a fuzzer
# expands a recursive schema without bound (Schemathesis' negative mode used all of the machine's memory).
_INNER: dict[str, Any] = {"type": ["string", "number", "boolean", "null", "array", "object"], **_LIMITS,
                          "items": _SCALAR, "additionalProperties": _SCALAR}
JSON_VALUE: dict[str, Any] = {
    "description": "Any JSON value within the edge's limits, nested at most three deep.",
    "type": ["string", "number", "boolean", "null", "array", "object"], **_LIMITS,
    "items": _INNER, "additionalProperties": _INNER,
}


def _bound(schema: dict[str, Any], text: int = MAX_TEXT) -> None:
    """Add the generic limits to a request schema wherever it declares none narrower (in place, recursively);
    ``text`` is the longest string (shorter for path and query values than in a JSON body)."""
    kind = schema.get("type")
    if kind in ("integer", "number"):
        schema.setdefault("minimum", INT64_MIN)
        schema.setdefault("maximum", INT64_MAX)
    elif kind == "string" and not {"enum", "format", "contentMediaType"} & schema.keys():
        schema.setdefault("maxLength", text)  # a file's bytes (contentMediaType) are bounded by the body limit
        schema.setdefault("pattern", NO_NUL)  # the edge refuses U+0000 in any text (no store may hold it)
    elif kind == "array":
        schema.setdefault("maxItems", MAX_ITEMS)
    elif kind == "object":  # the edge's limits on any JSON object (ombud.api.limits.check_json)
        schema.setdefault("maxProperties", MAX_KEYS)
        schema.setdefault("propertyNames", {"maxLength": MAX_KEY})
        if schema.get("additionalProperties", True) is True:
            # A model takes its own fields and no others (ombud.api.conform refuses an unknown one, naming it);
            # a free-form object (no fields named) takes any JSON within the limits.
            schema["additionalProperties"] = False if "properties" in schema else \
                {"$ref": "#/components/schemas/JsonValue"}
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            _bound(schema[key], text)
    for key in ("anyOf", "oneOf", "allOf", "prefixItems"):
        for sub in schema.get(key, []):
            if isinstance(sub, dict):
                _bound(sub, text)
    for sub in schema.get("properties", {}).values():
        if isinstance(sub, dict):
            _bound(sub, text)


def bound_body(schema: dict[str, Any], defs: dict[str, Any]) -> None:
    """A body's JSON schema and its definitions held to the document's limits, as the document states them (in
    place): ombud.api.conform checks bodies against this, so the edge takes what the document says and no more."""
    _bound(schema)
    for definition in defs.values():
        _bound(definition)
    defs.setdefault("JsonValue", JSON_VALUE)


def _refs(node: Any, out: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            out.add(ref.rsplit("/", 1)[-1])
        for value in node.values():
            _refs(value, out)
    elif isinstance(node, list):
        for value in node:
            _refs(value, out)


def _request_schemas(doc: dict[str, Any]) -> set[str]:
    """Names of the component schemas a request body refers to, directly or through other schemas."""
    schemas = doc.get("components", {}).get("schemas", {})
    todo: set[str] = set()
    for item in doc.get("paths", {}).values():
        for op in item.values():
            if isinstance(op, dict):
                _refs(op.get("requestBody", {}), todo)
                _refs(op.get("parameters", []), todo)
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen or name not in schemas:
            continue
        seen.add(name)
        _refs(schemas[name], todo)
    return seen


def _shapes(node: Any, id_pattern: str) -> None:
    """Give every field marked as a customer id the id pattern in effect, and drop the code's own marks (in place)."""
    if isinstance(node, dict):
        if node.pop(CUSTOMER_ID_MARK, None):
            strings = [node] if node.get("type") == "string" else [
                b for b in node.get("anyOf", []) if isinstance(b, dict) and b.get("type") == "string"]
            for schema in strings:
                schema["pattern"] = id_pattern
                schema["maxLength"] = min(schema.get("maxLength", 64), 64)
        node.pop(REASON_KEY, None)
        for value in node.values():
            _shapes(value, id_pattern)
    elif isinstance(node, list):
        for value in node:
            _shapes(value, id_pattern)


def post_process(doc: dict[str, Any], customer_id_pattern: str | None = None) -> dict[str, Any]:
    """The app's OpenAPI document with security, error responses, request limits and shapes added (see above);
    ``customer_id_pattern`` is the retailer's (OMBUD_CUSTOMER_ID_PATTERN), None for the default id rule."""
    _shapes(doc, customer_ids.json_pattern(customer_id_pattern))
    components = doc.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    schemas["ErrorOut"] = ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas["ErrorOut"].pop("$defs", None)
    schemas["Problem"] = Problem.model_json_schema()
    schemas["JsonValue"] = JSON_VALUE
    for path, item in doc.get("paths", {}).items():
        for op in item.values():
            if not isinstance(op, dict) or "responses" not in op:
                continue
            for parameter in op.get("parameters", []):
                _bound(parameter.get("schema", {}), _PARAMETER_TEXT.get(parameter.get("in"), MAX_TEXT))
                if parameter.get("schema", {}).get("type") == "boolean":
                    said = parameter.get("description", "")
                    parameter["description"] = f"{said} {BOOLEAN_TEXT}".strip()
            for media in op.get("requestBody", {}).get("content", {}).values():
                _bound(media.get("schema", {}))
            if not path.startswith("/api/"):
                continue
            responses = op["responses"]
            for status, description in ERROR_STATUSES.items():
                declared = responses.get(status)
                if declared is None or status == "422":
                    responses[status] = {"description": description,
                                         "content": {"application/json": {"schema": _ERROR_REF}}}
                elif "content" not in declared:
                    declared["content"] = {"application/json": {"schema": _ERROR_REF}}
    for name in _request_schemas(doc):
        _bound(schemas[name])
    return doc


def install(app: FastAPI) -> None:
    """Serve the post-processed OpenAPI document and an offline /docs page on this app."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            doc = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            ctx = getattr(app.state, "ctx", None)
            app.openapi_schema = post_process(doc, ctx.settings.customer_id_pattern if ctx is not None else None)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    static = files("swagger_ui") / "static"

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json", title=f"{app.title} API",
            swagger_js_url="/docs/assets/swagger-ui-bundle.js", swagger_css_url="/docs/assets/swagger-ui.css",
            swagger_favicon_url="/docs/assets/favicon-32x32.png",
        )

    @app.get("/docs/assets/{name}", include_in_schema=False)
    def docs_asset(name: str) -> FileResponse:
        from ombud.errors import NotFound

        if name not in _ASSETS:
            raise NotFound("no such asset")
        return FileResponse(str(static / name), media_type=_ASSETS[name],
                            headers={"cache-control": "public, max-age=86400"})
